"""The two aiohttp paths against a real local aiohttp server: `BackendHttp`'s default `AiohttpExchange`
and `BufferedAiohttpTransport` (httpx's API over aiohttp). What a backend sends and answers arrives
unchanged, connections are pooled, and failures come out as the backend errors they always were."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from aiohttp import web

from infra.errors import BackendServerError, BackendTimeout
from infra.http.aiohttp_transport import BufferedAiohttpTransport
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig
from simulators.launch import free_port

Seen = list[tuple[str, str, dict[str, str], bytes, int]]


@pytest.fixture
async def backend() -> AsyncIterator[tuple[str, Seen]]:
    """A server that records each request (method, path with query, headers, body, client port)."""
    seen: Seen = []

    async def answer(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen.append(
            (
                request.method,
                request.path_qs,
                dict(request.headers),
                await request.read(),
                peer[1] if peer else 0,
            )
        )
        if request.path == "/slow":
            await asyncio.sleep(1.0)
        if request.path == "/reset":
            assert request.transport is not None
            request.transport.close()  # the connection dies before any answer
        if request.path == "/truncated":  # promises 100 bytes, sends 10 and hangs up
            partial = web.StreamResponse(headers={"Content-Length": "100"})
            await partial.prepare(request)
            await partial.write(b"0123456789")
            assert request.transport is not None
            request.transport.close()
            return partial  # type: ignore[return-value]
        if request.path == "/gzip":
            body = gzip.compress(b'{"ok":true}')
            return web.Response(
                body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
            )
        return web.Response(status=201, body=b'{"id":1}', content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_the_request_arrives_as_built_and_the_answer_comes_back_whole(
    backend: tuple[str, Seen],
) -> None:
    url, seen = backend
    transport = BufferedAiohttpTransport(max_connections=4)
    try:
        request = httpx.Request(
            "POST", f"{url}/api/v1/orders?ref=a%2Bb", headers={"User-Agent": "tidegate-bff"}, json={"名": 1}
        )
        response = await transport.handle_async_request(request)
    finally:
        await transport.aclose()
    assert response.status_code == 201 and response.content == b'{"id":1}'
    assert response.headers["content-type"] == "application/json"
    assert response.request is request and response.extensions["reason_phrase"] == b"Created"
    ((method, path, headers, body, _),) = seen
    assert (method, path, body) == ("POST", "/api/v1/orders?ref=a%2Bb", request.content)
    assert headers["User-Agent"] == "tidegate-bff" and headers["Content-Type"] == "application/json"


async def test_calls_one_after_another_share_one_pooled_connection(backend: tuple[str, Seen]) -> None:
    url, seen = backend
    http = BackendHttp(BackendConfig("crm", url))
    try:
        for _ in range(3):
            await http.request("GET", "/api/v1/contacts", params={"phone": "13800138000"})
    finally:
        await http.aclose()
    assert [path for _, path, *_ in seen] == ["/api/v1/contacts?phone=13800138000"] * 3
    assert len({port for *_, port in seen}) == 1


async def test_the_default_exchange_sends_what_httpx_sent_and_answers_whole(
    backend: tuple[str, Seen],
) -> None:
    url, seen = backend
    http = BackendHttp(BackendConfig("workorders", url))
    try:
        answer = await http.request("POST", "/api/v2/orders:search", params={"q": "停水"}, json={"名": 1})
    finally:
        await http.aclose()
    assert answer.status_code == 201 and answer.content == b'{"id":1}'
    assert answer.headers["content-type"] == answer.headers["Content-Type"] == "application/json"
    ((method, path, headers, body, _),) = seen
    plain = httpx.Request("POST", f"{url}/api/v2/orders:search", params={"q": "停水"}, json={"名": 1})
    assert (method, path, body) == ("POST", plain.url.raw_path.decode(), plain.content)
    assert headers["User-Agent"] == "tidegate-bff" and headers["Content-Type"] == "application/json"
    assert headers["Content-Length"] == str(len(plain.content))


async def test_a_call_without_headers_of_its_own_sends_the_same_headers_as_one_with_them(
    backend: tuple[str, Seen],
) -> None:
    """The backend's default headers are the aiohttp session's, and a call that adds none hands
    aiohttp no mapping of its own: on the wire, the same header set as a call that does add one (the
    User-Agent ours, never aiohttp's), in the same order."""
    url, seen = backend
    http = BackendHttp(BackendConfig("crm", url))
    try:
        await http.request("GET", "/api/v1/contacts", params={"phone": "13800138000"})
        await http.request(
            "GET", "/api/v1/contacts", params={"phone": "13800138000"}, headers={"X-Extra": "1"}
        )
    finally:
        await http.aclose()
    (_, _, plain, _, _), (_, _, extra, _, _) = seen
    assert plain["User-Agent"] == extra["User-Agent"] == "tidegate-bff"
    assert [name for name in extra if name != "X-Extra"] == list(plain)
    assert {name: value for name, value in extra.items() if name != "X-Extra"} == plain


async def test_a_compressed_answer_is_decoded_as_before(backend: tuple[str, Seen]) -> None:
    url, _ = backend
    http = BackendHttp(BackendConfig("gis", url))
    try:
        response = await http.request("GET", "/gzip")
    finally:
        await http.aclose()
    assert orjson.loads(response.content) == {"ok": True}


async def test_the_deadline_cuts_a_slow_answer_and_a_refused_connection_maps_as_it_always_did(
    backend: tuple[str, Seen],
) -> None:
    url, _ = backend
    http = BackendHttp(BackendConfig("billing", url, timeout_s=0.1))
    closed = BackendHttp(BackendConfig("billing", f"http://127.0.0.1:{free_port()}"))
    try:
        with pytest.raises(BackendTimeout):
            await http.request("GET", "/slow")
        # A refused connection is a BACKEND_TIMEOUT, as httpx_aiohttp's map made it (a
        # ClientConnectionError became its ConnectTimeout); the span and message name aiohttp's error.
        with pytest.raises(BackendTimeout, match="ClientConnectorError"):
            await closed.request("GET", "/")
        with pytest.raises(BackendTimeout, match="ServerDisconnectedError"):
            await http.request("GET", "/reset")
        with pytest.raises(BackendServerError, match="transport failure: ClientPayloadError"):
            await http.request("GET", "/truncated")
    finally:
        await http.aclose()
        await closed.aclose()


async def test_httpx_timeout_extension_is_honoured_for_callers_that_send_one(
    backend: tuple[str, Seen],
) -> None:
    url, _ = backend
    transport = BufferedAiohttpTransport(max_connections=1)
    timeout = {"connect": 1.0, "read": 0.1, "write": 1.0, "pool": 1.0}
    try:
        with pytest.raises(httpx.TimeoutException):
            await transport.handle_async_request(
                httpx.Request("GET", f"{url}/slow", extensions={"timeout": timeout})
            )
    finally:
        await transport.aclose()
