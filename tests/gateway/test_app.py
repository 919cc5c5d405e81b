"""The app's routes, lifespan and request log, run in-process against a small schema."""

from __future__ import annotations

import logging

import httpx
import pytest
import strawberry

from backends.registry import BACKENDS
from gateway.app import create_app
from gateway.http.extensions import schema_extensions
from gateway.observability.logging import JsonFormatter
from gateway.settings import Settings
from tests.gateway.conftest import PREFLIGHT, TEST_KEYS, Query, serve, small_schema


async def test_post_query(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/graphql", json={"query": "query Hi($n: String!) { hello(name: $n) }", "variables": {"n": "a"}}
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.json() == {"data": {"hello": "hello a"}}


async def test_get_query_with_variables(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/graphql",
        params={"query": "query Hi($n: String!) { hello(name: $n) }", "variables": '{"n": "b"}'},
        headers={"accept": "application/json", **PREFLIGHT},
    )
    assert r.status_code == 200
    assert r.json() == {"data": {"hello": "hello b"}}


async def test_get_runs_the_query_even_when_a_browser_asks(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/graphql", params={"query": "{ hello }"}, headers={"accept": "text/html,*/*", **PREFLIGHT}
    )
    assert r.json() == {"data": {"hello": "hello world"}}


async def test_mutation_over_get_is_refused() -> None:
    @strawberry.type
    class Mutation:
        @strawberry.mutation
        def touch(self) -> bool:
            return True

    settings = Settings()
    schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=schema_extensions(settings))
    async with serve(create_app(settings, schema=schema, keys=TEST_KEYS)) as c:
        r = await c.get("/graphql", params={"query": "mutation { touch }"}, headers=PREFLIGHT)
        assert r.status_code == 405
        assert r.headers["allow"] == "POST"
        assert r.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert (await c.post("/graphql", json={"query": "mutation { touch }"})).json() == {
            "data": {"touch": True}
        }


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


async def test_unknown_path_is_a_coded_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/graphql/nothing-here")
    assert r.status_code == 404
    assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


class ClosingTransport(httpx.MockTransport):
    """A transport that remembers being closed: the backends' clients close theirs on shutdown."""

    closed = False

    def __init__(self) -> None:
        super().__init__(lambda request: httpx.Response(503))

    async def aclose(self) -> None:
        self.closed = True


async def test_lifespan_opens_backends_at_startup_and_closes_them_at_shutdown() -> None:
    settings = Settings()
    transports = {name: ClosingTransport() for name in BACKENDS}
    app = create_app(settings, schema=small_schema(settings), transports=transports, keys=TEST_KEYS)
    async with serve(app) as client:
        r = await client.post("/graphql", json={"query": "{ backends }"})
        assert r.json() == {"data": {"backends": list(BACKENDS)}}
        assert not any(t.closed for t in transports.values())
    assert all(t.closed for t in transports.values())


async def test_default_app_serves_the_real_schema_with_gateway_extensions() -> None:
    async with serve(create_app(Settings(), keys=TEST_KEYS)) as client:
        r = await client.post("/graphql", json={"query": "{ __typename }"})
        assert r.json() == {"data": {"__typename": "Query"}}
        r = await client.post("/graphql", json={"query": "{ nope }"})
        assert r.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_a_schema_without_the_gateway_extensions_is_refused() -> None:
    with pytest.raises(ValueError, match="schema_extensions"):
        create_app(Settings(), schema=strawberry.Schema(query=Query))


async def test_one_pii_free_log_line_per_request(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tidegate.graphql.request")
    phone = "13800138000"
    await client.post(
        "/graphql",
        json={"query": "query Greet($n: String!) { hello(name: $n) missing }", "variables": {"n": phone}},
    )
    await client.post("/graphql", json={"query": "query Ok { hello }"})
    lines = [r for r in caplog.records if r.name == "tidegate.graphql.request"]
    assert [(r.operation, r.outcome, r.status) for r in lines] == [  # type: ignore[attr-defined]
        ("Greet", "NOT_FOUND", 200),
        ("Ok", "ok", 200),
    ]
    formatted = [JsonFormatter().format(r) for r in lines]
    assert all(phone not in line and "hello" not in line for line in formatted)
    assert '"duration_ms":' in formatted[0]


async def test_anonymous_operation_is_logged_by_its_document_name(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tidegate.graphql.request")
    await client.post("/graphql", json={"query": "query FromDocument { hello }"})
    (line,) = [r for r in caplog.records if r.name == "tidegate.graphql.request"]
    assert line.operation == "FromDocument"  # type: ignore[attr-defined]
