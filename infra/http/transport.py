"""`MeteredExchange`: times every HTTP request a backend client actually sends.

A wrapper around the client's exchange (aiohttp, or httpx's API over a test's `MockTransport`)
rather than code in `BackendHttp._send`: every path that sends (guarded calls, the raw `request`,
retries) goes through it, and the client's own logic stays as it was. The exchange reads the whole
body, so the duration is the whole exchange.

`error_type` is the backend error code the exchange becomes: `BACKEND_TIMEOUT` when the exchange
timed out or the request was cancelled (on this path, by the operation's deadline in `_send`),
`BACKEND_ERROR` for a transport failure or a 5xx, "" otherwise. An answer that fails to parse (a
SOAP fault in a 200, an esriJSON error) is the backend calls counter's business, not this one's.
"""

from __future__ import annotations

import asyncio
import time

from infra.http.exchange import Answer, Exchange, Outgoing, TransportTimeout
from infra.telemetry import BackendTelemetry

TIMEOUT = "BACKEND_TIMEOUT"
ERROR = "BACKEND_ERROR"


class MeteredExchange:
    def __init__(self, inner: Exchange, backend: str, telemetry: BackendTelemetry) -> None:
        self.inner = inner
        self.backend = backend
        self.telemetry = telemetry

    async def send(self, request: Outgoing) -> Answer:
        started = time.perf_counter()
        try:
            answer = await self.inner.send(request)
        except (TransportTimeout, asyncio.CancelledError, TimeoutError):
            self._observe(request, None, TIMEOUT, started)
            raise
        except Exception:
            self._observe(request, None, ERROR, started)
            raise
        status = answer.status_code
        self._observe(request, status, ERROR if status >= 500 else "", started)
        return answer

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _observe(self, request: Outgoing, status: int | None, error_type: str, started: float) -> None:
        elapsed = time.perf_counter() - started
        self.telemetry.http_request(self.backend, request.method, status, error_type, elapsed)
