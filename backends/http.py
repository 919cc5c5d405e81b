"""The HTTP seam every backend client shares: pooled connections, a total deadline, mapped errors.

Clients speak the httpx API; the default transport is aiohttp underneath (httpx's own stack
costs several times more CPU per call, see the field notes). Tests pass `transport=` instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport

from backends.config import BackendConfig
from backends.errors import BackendServerError, BackendTimeout


class BackendHttp:
    def __init__(self, config: BackendConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.name = config.name
        limits = httpx.Limits(
            max_connections=config.max_connections, max_keepalive_connections=config.max_connections
        )
        self._client = httpx.AsyncClient(
            base_url=config.base_url,
            timeout=config.timeout_s,
            limits=limits,
            transport=transport or AiohttpTransport(limits=limits),
        )

    async def request(
        self, method: str, path: str, *, timeout_s: float | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send and read the whole body within the deadline; transport failures become backend errors."""
        budget = self.config.timeout_s if timeout_s is None else timeout_s
        try:
            async with asyncio.timeout(budget):
                response = await self._client.request(method, path, **kwargs)
                await response.aread()
                return response
        except TimeoutError as exc:
            raise BackendTimeout(self.name, f"no answer within {budget * 1000:.0f} ms") from exc
        except httpx.TimeoutException as exc:
            raise BackendTimeout(self.name, f"timed out: {exc.__class__.__name__}") from exc
        except httpx.HTTPError as exc:
            raise BackendServerError(
                self.name, f"transport failure: {exc.__class__.__name__}: {exc}"
            ) from exc

    async def aclose(self) -> None:
        await self._client.aclose()
