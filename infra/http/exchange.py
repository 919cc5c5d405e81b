"""One backend HTTP exchange: the request `BackendHttp` sends, the answer every parser reads, and the
port that carries one to the other.

Why not `httpx.Request` and `httpx.Response` all the way: a call's whole life is "send these bytes,
give me the status, the headers and the body", and building and reading httpx's models around the
aiohttp exchange cost about 100 µs of CPU per call on this machine, as much again as the exchange itself
(docs/benchmarks.md#backend-call-path). So the hot path speaks two plain shapes:

- `Outgoing`: method, an absolute URL already percent-encoded, the headers, the body bytes;
- `Answer`: what a parser reads (`status_code`, `content`, case-insensitive `headers`). An
  `httpx.Response` is one, so a parser works on either, and tests can still hand it one.

`Exchange` is the port: `infra/http/aiohttp_exchange.py` (the default, a bare pooled aiohttp session)
and `HttpxExchange` below, which carries the same calls through any httpx transport (the buffered
aiohttp one, or `httpx.MockTransport` in narrow tests). Failures leave an exchange as one of two
errors, so the client maps them the same whichever carries the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(slots=True)
class Outgoing:
    """One request as sent: `headers` may be shared with other calls until tracing copies it."""

    method: str
    url: str  # absolute and percent-encoded, exactly as it goes on the wire
    headers: Mapping[str, str]
    body: bytes | None = None


class Answer(Protocol):
    """What a backend's parser reads of an answer (an `httpx.Response` is one)."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...  # names case-insensitive


@dataclass(slots=True, frozen=True)
class BufferedAnswer:
    status_code: int
    content: bytes
    headers: Mapping[str, str]


class TransportError(Exception):
    """The exchange failed below HTTP; `kind` names the library's own error (spans record it)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind


class TransportTimeout(TransportError):
    """No answer, or no connection, in the library's own time (the caller's deadline is separate)."""


class TransportFailure(TransportError):
    """Anything else below HTTP: a reset, a truncated body, a protocol error."""


class Exchange(Protocol):
    async def send(self, request: Outgoing) -> Answer:
        """The whole answer, body read; raises `TransportTimeout` or `TransportFailure`."""
        ...

    async def aclose(self) -> None: ...


class HttpxExchange:
    """`Exchange` over an httpx transport: the httpx API for whoever wants it, and tests' mocks."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport

    async def send(self, request: Outgoing) -> Answer:
        outgoing = httpx.Request(
            request.method, request.url, headers=dict(request.headers), content=request.body
        )
        try:
            response = await self.transport.handle_async_request(outgoing)
            await response.aread()
        except httpx.TimeoutException as exc:
            raise TransportTimeout(exc.__class__.__name__, str(exc)) from exc
        except httpx.HTTPError as exc:
            raise TransportFailure(exc.__class__.__name__, str(exc)) from exc
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()
