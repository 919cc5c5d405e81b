"""`AiohttpExchange`: the default `Exchange`, one pooled aiohttp session per backend, bodies read whole.

aiohttp rather than httpx's own connection stack (several times the CPU per call, see the field notes)
and rather than httpx's API over an aiohttp transport (`HttpxExchange` with `BufferedAiohttpTransport`,
about 100 µs more per call for the models built and read around the same exchange; the numbers are in
docs/benchmarks.md#backend-call-path). The URL is handed over as already encoded, so aiohttp does not
quote it again; the backend's default headers are the session's, so a call that adds none hands aiohttp
no mapping to merge; no per-call timeout object is built (the caller's deadline bounds the exchange); the
body is read inside the exchange and aiohttp undoes any Content-Encoding.

aiohttp's errors leave as the two the client maps, in the same classes httpx_aiohttp's map gave
before: a connection that could not be made or was lost (`ClientConnectionError`, which includes
aiohttp's own timeouts) is a `TransportTimeout`; anything else aiohttp raises is a `TransportFailure`.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
from yarl import URL

from infra.http.aiohttp_session import PooledSession
from infra.http.exchange import Answer, BufferedAnswer, Outgoing, TransportFailure, TransportTimeout


class AiohttpExchange:
    def __init__(self, max_connections: int, default_headers: Mapping[str, str] | None = None) -> None:
        """`default_headers`: the backend's own (`RequestFactory.default_headers`), the session's
        defaults; a request that carries that very mapping sends no headers of its own."""
        self._pool = PooledSession(max_connections, default_headers)
        self._defaults = default_headers

    async def send(self, request: Outgoing) -> Answer:
        session = self._pool.get()
        try:
            async with session.request(
                request.method,
                URL(request.url, encoded=True),
                headers=None if request.headers is self._defaults else request.headers,
                data=request.body,
                allow_redirects=False,
            ) as answer:
                return BufferedAnswer(answer.status, await answer.read(), answer.headers)
        except aiohttp.ClientConnectionError as exc:
            raise TransportTimeout(exc.__class__.__name__, str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise TransportFailure(exc.__class__.__name__, str(exc)) from exc

    async def aclose(self) -> None:
        await self._pool.aclose()
