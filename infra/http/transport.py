"""`MeteredTransport`: times every HTTP request a backend client actually sends.

A wrapper around the client's transport (aiohttp, or a test's `MockTransport`) rather than code in
`BackendHttp._send`: every path that sends (guarded calls, the raw `request`, retries) goes through
it, and the client's own logic stays as it was. The body is read here, inside the measurement, so
the duration is the whole exchange; `_send` then finds it already read.

`error_type` is the backend error code the exchange becomes: `BACKEND_TIMEOUT` when the transport
timed out or the request was cancelled (on this path, by the operation's deadline in `_send`),
`BACKEND_ERROR` for a transport failure or a 5xx, "" otherwise. An answer that fails to parse (a
SOAP fault in a 200, an esriJSON error) is the backend calls counter's business, not this one's.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from infra.telemetry import BackendTelemetry

TIMEOUT = "BACKEND_TIMEOUT"
ERROR = "BACKEND_ERROR"


class MeteredTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, backend: str, telemetry: BackendTelemetry) -> None:
        self.inner = inner
        self.backend = backend
        self.telemetry = telemetry

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
        except (httpx.TimeoutException, asyncio.CancelledError, TimeoutError):
            self._observe(request, None, TIMEOUT, started)
            raise
        except Exception:
            self._observe(request, None, ERROR, started)
            raise
        self._observe(request, response.status_code, ERROR if response.status_code >= 500 else "", started)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _observe(self, request: httpx.Request, status: int | None, error_type: str, started: float) -> None:
        elapsed = time.perf_counter() - started
        self.telemetry.http_request(self.backend, request.method, status, error_type, elapsed)
