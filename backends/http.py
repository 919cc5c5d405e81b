"""The HTTP seam every backend client shares: pooled connections, a total deadline, mapped errors.

Clients speak the httpx API (`httpx.Request` in, `httpx.Response` out) straight to a transport:
aiohttp by default, since httpx's own connection stack costs several times more CPU per call (see
the field notes), and `httpx.MockTransport` in narrow tests. The `httpx.AsyncClient` layer is
skipped on purpose: it re-parses the base URL, walks auth, redirect and cookie handling on every
call, none of which a back-office call uses, and it cost about a fifth of the BFF's CPU.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from httpx_aiohttp import AiohttpTransport

from backends.config import BackendConfig
from backends.deadline import time_left
from backends.errors import BackendServerError, BackendTimeout
from backends.resilience.breaker import CircuitBreaker
from backends.resilience.bulkhead import Bulkhead

_USER_AGENT = "tidegate-bff"
T = TypeVar("T")


class BackendHttp:
    def __init__(self, config: BackendConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.name = config.name
        limits = httpx.Limits(
            max_connections=config.max_connections, max_keepalive_connections=config.max_connections
        )
        self._transport = transport or AiohttpTransport(limits=limits)
        self._base = config.base_url.rstrip("/")
        # One breaker per backend: once it opens, calls are refused at once (CallNotPermitted,
        # BACKEND_UNAVAILABLE) instead of each waiting out a timeout against a system that is down.
        self.breaker = CircuitBreaker(config.name, config.breaker) if config.breaker else None
        # A cap on calls in flight with a critical-only reserve: the back office never sees more
        # than it can carry, and under a surge history and bills are shed before the screen pop.
        self.bulkhead = Bulkhead(config.name, config.bulkhead) if config.bulkhead else None

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The raw answer, whatever its status: for callers that judge it themselves (no breaker)."""
        return await self._send(method, path, **kwargs)

    async def fetch(self, method: str, path: str, parse: Callable[[httpx.Response], T], **kwargs: Any) -> T:
        """Send, read and `parse` (which raises the backend's mapped errors) inside the breaker, so a
        SOAP 9999 or an esriJSON error object counts as a failure just like a timeout does."""

        async def attempt() -> T:
            return parse(await self._send(method, path, **kwargs))

        if self.bulkhead is None:
            return await (self.breaker.call(attempt) if self.breaker else attempt())
        await self.bulkhead.acquire()  # a shed call never reaches the breaker: it is not the backend's fault
        try:
            return await (self.breaker.call(attempt) if self.breaker else attempt())
        finally:
            self.bulkhead.release()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        timeout_s: float | None = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send and read the whole body within the deadline; transport failures become backend errors."""
        budget = self.config.timeout_s if timeout_s is None else timeout_s
        left = time_left()
        if left is not None:
            if left <= 0:  # the operation's budget is spent: do not load a backend for nothing
                raise BackendTimeout(self.name, "the operation's time budget ran out before this call")
            budget = min(budget, left)
        request = httpx.Request(
            method,
            self._base + path,
            params=params,
            headers={"User-Agent": _USER_AGENT, **(headers or {})},
            content=content,
            json=json,
            data=data,
            extensions={"timeout": {"connect": budget, "read": budget, "write": budget, "pool": budget}},
        )
        try:
            async with asyncio.timeout(budget):
                response = await self._transport.handle_async_request(request)
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
        await self._transport.aclose()
