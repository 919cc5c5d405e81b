"""One JSON line per request, with the caller's W3C `traceparent`."""

from __future__ import annotations

import json
import logging
import sys
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("simulator.access")


def configure_json_logging(service: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        headers = dict(scope.get("headers") or [])

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if not scope["path"].startswith("/_sim/"):
                logger.info(
                    json.dumps(
                        {
                            "ts": round(time.time(), 3),
                            "service": self.service,
                            "method": scope["method"],
                            "path": scope["path"],
                            "op": scope.get("state", {}).get("sim_op"),
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                            "traceparent": headers.get(b"traceparent", b"").decode("latin-1") or None,
                        },
                        ensure_ascii=False,
                    )
                )
