"""`_service { sdl }` is the whole schema: refused like introspection unless a router needs it."""

from __future__ import annotations

from gateway.app import create_app
from gateway.settings import Settings
from tests.gateway.conftest import TEST_KEYS, bearer, serve

SDL = {"query": "{ _service { sdl } }"}


async def test_the_subgraph_sdl_is_refused_by_default() -> None:
    async with serve(create_app(Settings(), keys=TEST_KEYS), headers=bearer("supervisor")) as client:
        body = (await client.post("/graphql", json=SDL)).json()
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INTROSPECTION_DISABLED"]


async def test_a_router_may_read_it_when_allowed() -> None:
    app = create_app(Settings(federation_sdl=True), keys=TEST_KEYS)
    async with serve(app, headers=bearer("supervisor")) as client:
        body = (await client.post("/graphql", json=SDL)).json()
    assert "errors" not in body
    assert "@key" in body["data"]["_service"]["sdl"]
