"""One JSON line per request, with the caller's W3C `traceparent` and the trace id in it."""

from __future__ import annotations

import json
import logging
import sys
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulators.kit.traces import TraceLog, parse_traceparent

logger = logging.getLogger("simulator.access")


def configure_json_logging(service: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, service: str, traces: TraceLog | None = None) -> None:
        self.app = app
        self.service = service
        self.traces = traces  # where received trace contexts are kept for `/_sim/stats`

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        logged = False

        def log_once() -> None:
            """Before the response's last byte leaves: a caller that has its answer finds the line."""
            nonlocal logged
            if logged or scope["path"].startswith("/_sim/"):
                return
            logged = True
            traceparent = dict(scope.get("headers") or []).get(b"traceparent", b"").decode("latin-1") or None
            trace = parse_traceparent(traceparent)
            op = scope.get("state", {}).get("sim_op")
            if trace is not None and self.traces is not None:
                self.traces.seen(*trace, op)
            logger.info(
                json.dumps(
                    {
                        "ts": round(time.time(), 3),
                        "service": self.service,
                        "method": scope["method"],
                        "path": scope["path"],
                        "op": op,
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                        "traceparent": traceparent,
                        "trace_id": trace[0] if trace else None,
                    },
                    ensure_ascii=False,
                )
            )

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                log_once()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log_once()  # no response sent (a crash the server answers for us)
