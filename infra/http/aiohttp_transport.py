"""`BufferedAiohttpTransport`: httpx's transport API on one pooled aiohttp session, bodies read whole.

Written here instead of using `httpx_aiohttp.AiohttpTransport` (which `bench/backend_client.py` keeps
as its `legacy` leg) because a backend call always wants the whole body at once, and that transport
hands back a streaming response: httpx then reads it through its async stream machinery (a chunk
iterator, the decoders, a close that re-enters the aiohttp response), and per call the adapter also
builds an aiohttp `ClientTimeout`, re-parses the URL from its string and converts the headers through
a mapping view. Here the body is read inside the aiohttp exchange and handed to `httpx.Response` as
bytes (httpx still undoes any Content-Encoding, as before), the URL goes to aiohttp marked as already
encoded, and no timeout object is built unless the request carries httpx's `timeout` extension
(`BackendHttp` does not: its deadline covers the whole exchange). What it keeps from the library is
the part worth sharing: `map_aiohttp_exceptions`, so aiohttp's errors become the same httpx errors.
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp.transport import map_aiohttp_exceptions
from yarl import URL

from infra.http.aiohttp_session import UNTIMED, PooledSession


class BufferedAiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, max_connections: int) -> None:
        self._pool = PooledSession(max_connections)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._pool.get()
        limits = request.extensions.get("timeout")
        timeout = (
            aiohttp.ClientTimeout(
                sock_connect=limits.get("connect"), sock_read=limits.get("read"), connect=limits.get("pool")
            )
            if limits
            else UNTIMED
        )
        body = await request.aread()
        with map_aiohttp_exceptions():
            async with session.request(
                request.method,
                URL(str(request.url), encoded=True),  # httpx has percent-encoded it already
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                auto_decompress=False,  # httpx decodes, as it did with the library's transport
                timeout=timeout,
            ) as answer:
                content = await answer.read()
                status, raw_headers, reason = answer.status, answer.raw_headers, answer.reason
        extensions = {"http_version": b"HTTP/1.1"}
        if reason:
            extensions["reason_phrase"] = reason.encode()
        return httpx.Response(
            status, headers=raw_headers, content=content, request=request, extensions=extensions
        )

    async def aclose(self) -> None:
        await self._pool.aclose()
