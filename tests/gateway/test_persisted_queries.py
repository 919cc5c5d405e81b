"""Persisted queries through the real app: every error code over GET and POST, APQ registration,
the softphone's safelist, the production switch and its one exemption (small schema, own manifest)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from graphql import parse, print_ast

from gateway.app import create_app
from gateway.persisted.manifest import ManifestError, PersistedOperation, document_id
from gateway.settings import Settings
from tests.gateway.conftest import PREFLIGHT, TEST_ISSUER, TEST_KEYS, serve, small_schema
from tests.support.prom import Scrape


def persisted(text: str, name: str) -> PersistedOperation:
    body = print_ast(parse(text, no_location=True))  # as `tidegate pq build` writes it
    return PersistedOperation(document_id(body), body, name, "query")


HELLO = persisted("query Hello($name: String) { hello(name: $name) }", "Hello")
MANIFEST = [HELLO]
OTHER = "query Count { count(n: 2) }"  # valid, but in no manifest
METHODS = pytest.mark.parametrize("method", ["GET", "POST"])


def token(client_id: str = "workbench", role: str = "agent") -> dict[str, str]:
    minted = TEST_ISSUER.mint(client_id=client_id, role=role, agent_id="A1001")
    return {"Authorization": f"Bearer {minted}"}


# Minted when a test sends them, not at import: a module-level token expires (15 min) before a
# long suite reaches this file.


def softphone_token() -> dict[str, str]:
    return token("softphone", "softphone")


def workbench_token() -> dict[str, str]:
    return token()


def router_token() -> dict[str, str]:
    return token("federation-router", "supervisor")


def apq(sha256_hex: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex}}


@asynccontextmanager
async def bff(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(**overrides)
    app = create_app(settings, schema=small_schema(settings), keys=TEST_KEYS, manifest=MANIFEST)
    async with serve(app, headers={}) as client:
        yield client


async def send(
    client: httpx.AsyncClient, method: str, payload: Mapping[str, Any], headers: Mapping[str, str]
) -> httpx.Response:
    """The request as a GET (objects URL-encoded as JSON, with the preflight header) or a POST."""
    if method == "GET":
        params = {k: orjson.dumps(v).decode() if isinstance(v, dict) else v for k, v in payload.items()}
        return await client.get("/graphql", params=params, headers={**PREFLIGHT, **headers})
    return await client.post("/graphql", json=payload, headers=headers)


def code_of(r: httpx.Response) -> str:
    ((error,),) = [r.json()["errors"]]
    return str(error["extensions"]["code"])


@METHODS
async def test_a_manifest_operation_runs_by_hash_and_by_document_id(method: str) -> None:
    async with bff() as client:
        variables = {"name": "pq"}
        for payload in (
            {"extensions": apq(HELLO.id), "variables": variables},
            {"documentId": f"sha256:{HELLO.id}", "variables": variables},
            {"query": HELLO.body, "variables": variables},  # byte for byte the manifest's body
        ):
            r = await send(client, method, payload, softphone_token())
            assert r.status_code == 200, r.text
            assert r.json() == {"data": {"hello": "hello pq"}}


@METHODS
async def test_an_unknown_hash_is_persisted_query_not_found_with_200_and_no_cache(method: str) -> None:
    async with bff() as client:
        r = await send(client, method, {"extensions": apq("ab" * 32)}, workbench_token())
    assert r.status_code == 200  # Apollo Server's status: the APQ link retries with the body
    assert r.headers["cache-control"] == "private, no-cache, must-revalidate"
    assert r.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert code_of(r) == "PERSISTED_QUERY_NOT_FOUND"


@METHODS
async def test_an_unknown_document_id_is_persisted_query_not_found_with_404(method: str) -> None:
    async with bff() as client:
        r = await send(client, method, {"documentId": "sha256:" + "cd" * 32}, workbench_token())
    assert r.status_code == 404  # Apollo Router's status for an id not in the list
    assert code_of(r) == "PERSISTED_QUERY_NOT_FOUND"


@METHODS
async def test_apq_registers_once_verified_then_runs_by_hash(method: str) -> None:
    sha = document_id(OTHER)
    async with bff() as client:
        first = await send(client, method, {"extensions": apq(sha)}, workbench_token())
        assert code_of(first) == "PERSISTED_QUERY_NOT_FOUND"
        registered = await send(client, method, {"query": OTHER, "extensions": apq(sha)}, workbench_token())
        assert registered.json() == {"data": {"count": 2}}
        again = await send(client, method, {"extensions": apq(sha)}, workbench_token())
        assert again.json() == {"data": {"count": 2}}


@METHODS
async def test_a_registration_whose_hash_does_not_match_is_a_400(method: str) -> None:
    async with bff() as client:
        r = await send(client, method, {"query": OTHER, "extensions": apq("ef" * 32)}, workbench_token())
        assert r.status_code == 400
        assert code_of(r) == "PERSISTED_QUERY_HASH_MISMATCH"
        # ...and nothing was stored under either hash.
        for sha in ("ef" * 32, document_id(OTHER)):
            assert code_of(await send(client, method, {"extensions": apq(sha)}, workbench_token())) == (
                "PERSISTED_QUERY_NOT_FOUND"
            )


@METHODS
async def test_a_registration_that_fails_validation_is_not_stored(method: str) -> None:
    invalid = "query Nope { nosuchfield }"
    sha = document_id(invalid)
    async with bff() as client:
        r = await send(client, method, {"query": invalid, "extensions": apq(sha)}, workbench_token())
        assert r.status_code == 200 and code_of(r) == "GRAPHQL_VALIDATION_FAILED"
        assert code_of(await send(client, method, {"extensions": apq(sha)}, workbench_token())) == (
            "PERSISTED_QUERY_NOT_FOUND"
        )


@METHODS
async def test_document_id_and_query_together_are_a_400(method: str) -> None:
    async with bff() as client:
        payload = {"documentId": f"sha256:{HELLO.id}", "query": HELLO.body}
        r = await send(client, method, payload, workbench_token())
    assert r.status_code == 400
    assert code_of(r) == "CANNOT_SEND_PQ_ID_AND_BODY"


@METHODS
@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"query": OTHER}, id="free-form"),
        pytest.param({"query": OTHER, "extensions": apq(document_id(OTHER))}, id="apq-registration"),
        pytest.param({"query": "{ hello }"}, id="same-field-not-the-manifest-operation"),
    ],
)
async def test_the_softphone_runs_only_manifest_operations(method: str, payload: dict[str, Any]) -> None:
    async with bff() as client:
        r = await send(client, method, payload, softphone_token())
        assert r.status_code == 403
        assert code_of(r) == "PERSISTED_QUERY_NOT_IN_LIST"
        # The workbench may run the same document.
        assert (await send(client, method, payload, workbench_token())).json()["data"]


@METHODS
async def test_the_softphone_cannot_run_what_another_client_registered(method: str) -> None:
    sha = document_id(OTHER)
    async with bff() as client:
        await send(client, method, {"query": OTHER, "extensions": apq(sha)}, workbench_token())
        r = await send(client, method, {"extensions": apq(sha)}, softphone_token())
    assert r.status_code == 403 and code_of(r) == "PERSISTED_QUERY_NOT_IN_LIST"


@METHODS
async def test_the_softphone_may_send_a_manifest_operation_in_another_layout(method: str) -> None:
    reformatted = "# the softphone's copy\nquery Hello($name: String) {hello(name: $name)}"
    assert document_id(reformatted) != HELLO.id
    async with bff() as client:
        r = await send(client, method, {"query": reformatted, "variables": {"name": "x"}}, softphone_token())
    assert r.json() == {"data": {"hello": "hello x"}}


@METHODS
async def test_the_softphone_is_known_by_its_role_as_well_as_its_client_id(method: str) -> None:
    async with bff() as client:
        by_role = await send(client, method, {"query": OTHER}, token("desk-7", "softphone"))
        by_client = await send(client, method, {"query": OTHER}, token("softphone", "agent"))
    assert code_of(by_role) == code_of(by_client) == "PERSISTED_QUERY_NOT_IN_LIST"


@METHODS
async def test_persisted_only_refuses_every_body_and_runs_ids(method: str) -> None:
    async with bff(persisted_only=True) as client:
        for payload in ({"query": OTHER}, {"query": HELLO.body}):
            r = await send(client, method, payload, workbench_token())
            assert r.status_code == 400 and code_of(r) == "PERSISTED_QUERY_ID_REQUIRED"
        registering = {"query": OTHER, "extensions": apq(document_id(OTHER))}
        r = await send(client, method, registering, workbench_token())
        assert r.status_code == 400 and code_of(r) == "PERSISTED_QUERY_ID_REQUIRED"
        by_id: list[dict[str, Any]] = [{"extensions": apq(HELLO.id)}, {"documentId": f"sha256:{HELLO.id}"}]
        for payload in by_id:
            assert (await send(client, method, payload, workbench_token())).json() == {
                "data": {"hello": "hello world"}
            }


@METHODS
async def test_persisted_only_does_not_count_run_time_registrations(method: str) -> None:
    sha = document_id(OTHER)
    async with bff(persisted_only=True, persisted_free_form_clients="federation-router") as client:
        # The exempt router registers it; for everyone else it is still not a persisted operation.
        registered = await send(client, method, {"query": OTHER, "extensions": apq(sha)}, router_token())
        assert registered.json() == {"data": {"count": 2}}
        r = await send(client, method, {"extensions": apq(sha)}, workbench_token())
    assert code_of(r) == "PERSISTED_QUERY_NOT_FOUND"


@METHODS
async def test_persisted_only_exempts_only_the_listed_client_ids(method: str) -> None:
    entities = 'query { hello(name: "router") }'  # free-form, as a router's query plan is
    only_clients = {"persisted_free_form_roles": ""}  # the router's supervisor role exempts nothing here
    async with bff(
        persisted_only=True, persisted_free_form_clients="federation-router", **only_clients
    ) as client:
        assert (await send(client, method, {"query": entities}, router_token())).json() == {
            "data": {"hello": "hello router"}
        }
        refused = await send(client, method, {"query": entities}, workbench_token())
        assert code_of(refused) == "PERSISTED_QUERY_ID_REQUIRED"
        # An exemption never makes a list-only client free.
        softphone_exempt = token("softphone", "softphone")
    async with bff(persisted_only=True, persisted_free_form_clients="softphone") as client:
        r = await send(client, method, {"query": entities}, softphone_exempt)
    assert code_of(r) == "PERSISTED_QUERY_NOT_IN_LIST"


@METHODS
async def test_by_default_only_graphiql_roles_send_free_form_documents(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production's default (issue 15): supervisors (and developers) write queries in GraphiQL;
    agents and the softphone send their operations' ids."""
    monkeypatch.delenv("TIDEGATE_PERSISTED_ONLY", raising=False)  # the suite's conftest turns it off
    async with bff() as client:
        supervisor = await send(client, method, {"query": OTHER}, token("workbench-supervisor", "supervisor"))
        agent = await send(client, method, {"query": OTHER}, workbench_token())
        softphone = await send(client, method, {"query": OTHER}, softphone_token())
        by_id = await send(client, method, {"documentId": f"sha256:{HELLO.id}"}, workbench_token())
    assert supervisor.json() == {"data": {"count": 2}}
    assert code_of(agent) == code_of(softphone) == "PERSISTED_QUERY_ID_REQUIRED"
    assert agent.status_code == 400
    assert by_id.json() == {"data": {"hello": "hello world"}}
    async with bff(persisted_free_form_roles="agent") as client:  # the setting decides, per role
        agent = await send(client, method, {"query": OTHER}, workbench_token())
        supervisor = await send(client, method, {"query": OTHER}, token("workbench-supervisor", "supervisor"))
    assert agent.json() == {"data": {"count": 2}}
    assert code_of(supervisor) == "PERSISTED_QUERY_ID_REQUIRED"


@METHODS
async def test_apq_switched_off_is_persisted_query_not_supported(method: str) -> None:
    sha = document_id(OTHER)
    async with bff(apq=False) as client:
        for payload in ({"query": OTHER, "extensions": apq(sha)}, {"extensions": apq(sha)}):
            r = await send(client, method, payload, workbench_token())
            assert r.status_code == 200 and code_of(r) == "PERSISTED_QUERY_NOT_SUPPORTED"
        # The manifest is not APQ: its ids still run.
        assert (await send(client, method, {"extensions": apq(HELLO.id)}, workbench_token())).json()["data"]


@METHODS
@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(
            {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "ab" * 32}}}, id="version"
        ),
        pytest.param({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "xyz"}}}, id="hash"),
        pytest.param({"documentId": "md5:abc"}, id="document-id"),
    ],
)
async def test_malformed_persisted_query_fields_are_a_coded_400(method: str, payload: dict[str, Any]) -> None:
    async with bff() as client:
        r = await send(client, method, payload, workbench_token())
    assert r.status_code == 400 and code_of(r) == "BAD_REQUEST"


def test_an_invalid_manifest_operation_stops_start_up() -> None:
    broken = persisted("query Broken { nosuchfield }", "Broken")
    settings = Settings()
    with pytest.raises(ManifestError, match=r"persisted operation Broken \(\w+\) is invalid"):
        create_app(settings, schema=small_schema(settings), keys=TEST_KEYS, manifest=[HELLO, broken])


def test_a_manifest_operation_over_the_limits_stops_start_up() -> None:
    deep = persisted("query Deep { node { child { child { child { child { child { name } } } } } } }", "Deep")
    settings = Settings(max_query_depth=3)
    with pytest.raises(ManifestError, match="Deep"):
        create_app(settings, schema=small_schema(settings), keys=TEST_KEYS, manifest=[deep])


async def test_which_walk_served_each_request_is_counted() -> None:
    """A manifest operation runs its plan (`schema.compiled`), a free-form one graphql-core's walk:
    `tidegate_graphql_executions_total{executor}` says which, per operation."""
    async with bff() as client:
        for _ in range(2):
            r = await send(
                client, "POST", {"extensions": apq(HELLO.id), "variables": {"name": "x"}}, workbench_token()
            )
            assert r.status_code == 200, r.text
        r = await send(client, "POST", {"query": "query Other { hello }"}, router_token())
        assert r.status_code == 200, r.text
        scrape = Scrape((await client.get("/metrics")).text)
    executions = "tidegate_graphql_executions_total"
    assert scrape.value(executions, graphql_operation_name="Hello", executor="compiled") == 2
    assert scrape.value(executions, executor="graphql-core") == 1
    assert scrape.value(executions, graphql_operation_name="Hello", executor="graphql-core") == 0
