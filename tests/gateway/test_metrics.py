"""`/metrics` in process: GraphQL requests and errors by code, refusals included, HTTP routes as
templates, admission decisions, breakers present from start-up, bounded labels, one registry per app."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from backends.registry import BACKENDS
from gateway.app import create_app
from gateway.observability import http_metrics
from gateway.observability.metric_labels import ClientNames, OperationNames
from gateway.observability.metrics import Metrics
from gateway.settings import Settings
from tests.gateway.conftest import TEST_ISSUER, TEST_KEYS, bearer, serve, small_schema
from tests.support.prom import Scrape

GRAPHQL_COUNT = "tidegate_graphql_request_duration_seconds_count"
ERRORS = "tidegate_graphql_errors_total"


async def scrape(client: httpx.AsyncClient) -> Scrape:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape(response.text)


def app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    return create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)


async def test_requests_and_errors_are_counted_by_operation_client_and_code() -> None:
    settings = Settings()
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        await client.post("/graphql", json={"query": "query Hello { hello }"})
        await client.post("/graphql", json={"query": "{ missing slow }"}, headers={**bearer()})
        await client.post(
            "/graphql",
            json={"query": "query Hello { slow }"},
            headers={"apollographql-client-name": "softphone"},
        )
        got = await scrape(client)
    assert got.value(GRAPHQL_COUNT) == 3
    hello = {"graphql_operation_name": "Hello", "graphql_operation_type": "query"}
    assert got.value(GRAPHQL_COUNT, **hello, operation_class="normal", client_name="other") == 1
    assert got.value(GRAPHQL_COUNT, **hello, client_name="softphone") == 1
    assert got.value(GRAPHQL_COUNT, graphql_operation_name="") == 1  # no operation name
    assert got.value(ERRORS, error_code="NOT_FOUND") == 1
    assert got.value(ERRORS, error_code="BACKEND_TIMEOUT") == 2
    assert got.value(ERRORS, error_code="BACKEND_TIMEOUT", client_name="softphone") == 1
    assert (
        got.value(
            "http_server_request_duration_seconds_count",
            http_request_method="POST",
            http_route="/graphql",
            http_response_status_code="200",
        )
        == 3
    )


async def test_refusals_are_observed_too_401_and_429() -> None:
    settings = Settings(rate_client_rps=0.01, rate_client_burst=1)
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        assert (
            await client.post("/graphql", json={"query": "{ hello }"}, headers={"Authorization": ""})
        ).status_code == 401
        assert (await client.post("/graphql", json={"query": "{ hello }"})).status_code == 200
        assert (
            await client.post("/graphql", json={"query": "query Again { hello }", "operationName": "Again"})
        ).status_code == 429
        got = await scrape(client)
    assert got.value(ERRORS, error_code="UNAUTHENTICATED") == 1
    assert (
        got.value(ERRORS, error_code="RATE_LIMITED", graphql_operation_name="Again", operation_class="normal")
        == 1
    )
    assert got.value(GRAPHQL_COUNT) == 3
    admission = {"limiter": "admission", "backend": "", "operation_class": "normal"}
    assert got.value("tidegate_rate_limit_decisions_total", **admission, decision="admitted") == 1
    assert got.value("tidegate_rate_limit_decisions_total", **admission, decision="rejected") == 1
    assert got.value("http_server_request_duration_seconds_count", http_response_status_code="401") == 1
    assert got.value("http_server_request_duration_seconds_count", http_response_status_code="429") == 1


async def test_a_phone_number_never_becomes_a_label_value() -> None:
    settings = Settings()
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        await client.post(
            "/graphql",
            json={"query": "query Pop13812345678 { hello }"},
            headers={"apollographql-client-name": "13812345678"},
        )
        await client.get("/customers/13812345678")  # no such route
        got = await scrape(client)
    assert not any("13812345678" in value for value in got.label_values())
    assert "13812345678" not in got.text
    assert got.value(GRAPHQL_COUNT, graphql_operation_name="other", client_name="other") == 1
    assert (
        got.value(
            "http_server_request_duration_seconds_count", http_route="other", http_response_status_code="404"
        )
        == 1
    )


async def test_routes_are_templates_and_in_flight_returns_to_zero() -> None:
    settings = Settings()
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        await client.get("/healthz")
        await client.get("/graphiql/graphiql.min.css")
        got = await scrape(client)
    assert got.value("http_server_request_duration_seconds_count", http_route="/healthz") == 1
    assert got.value("http_server_request_duration_seconds_count", http_route="/graphiql") == 1
    # The scrape itself is in flight while it is written; everything else has finished.
    assert got.value("http_server_active_requests", http_route="/healthz") == 0
    assert got.value("http_server_active_requests", http_route="/metrics") == 1


async def test_a_route_is_matched_once_per_path_and_method_and_a_scan_is_matched_as_it_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Route templates are kept per (root path, path, method); the same requests keep their labels.
    A made-up path is never kept (it may carry anything) but matched each time it comes, and a
    mount's many paths are kept up to a bound, past which what is kept is cleared."""
    monkeypatch.setattr(http_metrics, "MAX_KEPT_TEMPLATES", 4)
    matched: list[str] = []
    real = http_metrics.route_template

    def counting(scope: dict[str, object]) -> str:
        matched.append(str(scope["path"]))
        return real(scope)

    monkeypatch.setattr(http_metrics, "route_template", counting)
    async with serve(app()) as client:
        for _ in range(3):
            await client.get("/healthz")
        assert matched == ["/healthz"]
        for _ in range(2):
            for n in range(5):
                await client.get(f"/scan/{n}")
        for n in range(6):
            await client.get(f"/graphiql/missing-{n}.css")  # the mount's: kept, four at a time
        await client.get("/graphiql/missing-5.css")
        got = await scrape(client)
    assert got.value("http_server_request_duration_seconds_count", http_route="/healthz") == 3
    assert got.value("http_server_request_duration_seconds_count", http_route="other") == 10
    assert got.value("http_server_request_duration_seconds_count", http_route="/graphiql") == 7
    scans = [f"/scan/{n}" for n in range(5)]
    mounted = [f"/graphiql/missing-{n}.css" for n in range(6)]
    assert matched == ["/healthz", *scans, *scans, *mounted, "/metrics"]


async def test_every_breaker_is_present_and_closed_from_start_up() -> None:
    async with serve(app()) as client:
        got = await scrape(client)
    for backend in BACKENDS:
        assert got.value("tidegate_circuit_breaker_state", backend=backend, state="closed") == 1
        assert got.value("tidegate_circuit_breaker_state", backend=backend, state="open") == 0
        assert got.has("tidegate_circuit_breaker_state", backend=backend, state="half_open")


async def test_each_app_has_its_own_registry() -> None:
    first, second = app(), app()
    async with serve(first) as one, serve(second) as two:
        await one.post("/graphql", json={"query": "{ hello }"})
        assert (await scrape(one)).value(GRAPHQL_COUNT) == 1
        assert (await scrape(two)).value(GRAPHQL_COUNT) == 0


async def test_metrics_can_be_off_or_behind_a_token() -> None:
    async with serve(app(Settings(metrics=False))) as client:
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.post("/graphql", json={"query": "{ hello }"})).status_code == 200
    async with serve(app(Settings(metrics_token="scrape-secret"))) as client:
        refused = await client.get("/metrics")
        assert (
            refused.status_code == 401
            and refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        )
        allowed = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert allowed.status_code == 200 and "tidegate_circuit_breaker_state" in allowed.text


def test_breaker_state_is_one_hot_and_transitions_are_counted() -> None:
    metrics = Metrics(OperationNames(set(), 0), ClientNames(set()))
    metrics.breaker_state("billing", None, "CLOSED")
    metrics.breaker_state("billing", "CLOSED", "OPEN")
    metrics.breaker_state("billing", "OPEN", "HALF_OPEN")
    got = Scrape(metrics.exposition().decode())
    assert [
        got.value("tidegate_circuit_breaker_state", backend="billing", state=s)
        for s in ("closed", "open", "half_open")
    ] == [0, 0, 1]
    transitions = "tidegate_circuit_breaker_transitions_total"
    assert got.value(transitions, backend="billing", from_state="closed", to_state="open") == 1
    assert got.value(transitions, backend="billing", from_state="open", to_state="half_open") == 1
    assert got.value(transitions) == 2


async def test_the_token_client_is_the_label_when_the_header_names_none() -> None:
    token = TEST_ISSUER.mint(client_id="softphone", role="agent", agent_id="A1001")
    async with serve(app(), headers={"Authorization": f"Bearer {token}"}) as client:
        await client.post("/graphql", json={"query": "{ hello }"}, headers={"apollographql-client-name": "x"})
        got = await scrape(client)
    assert got.value(GRAPHQL_COUNT, client_name="softphone") == 1
