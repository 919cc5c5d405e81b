"""`PooledSession`: one backend's aiohttp session and its connection pool, shared by both aiohttp paths
(`AiohttpExchange`, the default, and `BufferedAiohttpTransport` under httpx's API)."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
import httpx

# httpx's own default for idle pooled connections (`httpx.Limits.keepalive_expiry`), as before.
KEEPALIVE_S = 5.0
# aiohttp's own default: one object for every call (the caller's deadline is the one that matters).
UNTIMED = aiohttp.ClientTimeout(total=300, sock_connect=30)
# The session's default: no total of aiohttp's own. Every exchange on this session is bounded by its
# caller (`BackendHttp._send` wraps each in `asyncio.timeout`; the httpx path passes its own per
# request), and a total here cost a second timer per call, scheduled and cancelled in the loop.
BOUNDED_BY_CALLER = aiohttp.ClientTimeout(total=None, sock_connect=30)


class PooledSession:
    def __init__(self, max_connections: int, default_headers: Mapping[str, str] | None = None) -> None:
        """`default_headers`: sent with every request unless the request names them itself (aiohttp
        merges them in place of a per-call dict)."""
        self.max_connections = max_connections
        self.default_headers = default_headers
        self._ssl = httpx.create_ssl_context()  # the certificates httpx would trust, as before
        self._session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        """The session, made on first use: aiohttp binds it to the running event loop."""
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.max_connections, keepalive_timeout=KEEPALIVE_S, ssl=self._ssl
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=BOUNDED_BY_CALLER, headers=self.default_headers
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
