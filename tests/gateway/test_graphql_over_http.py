"""GraphQL over HTTP's two response types through the real app: status codes, content types, `data`
present or not, and a code on every error (gateway.http.media_types, gateway.http.graphql_response)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import strawberry
from graphql import GraphQLError, print_ast
from graphql import parse as parse_document

from gateway.app import create_app
from gateway.http.extensions import schema_extensions
from gateway.persisted.manifest import PersistedOperation, document_id
from gateway.settings import Settings
from tests.gateway.conftest import PREFLIGHT, TEST_KEYS, Query, bearer, serve

GRJ = "application/graphql-response+json; charset=utf-8"
JSON = "application/json; charset=utf-8"
ACCEPT_GRJ = {"accept": "application/graphql-response+json"}
ACCEPT_JSON = {"accept": "application/json"}
HELLO_BODY = print_ast(parse_document("query Hello($name: String) { hello(name: $name) }", no_location=True))
HELLO = PersistedOperation(document_id(HELLO_BODY), HELLO_BODY, "Hello", "query")


@strawberry.type
class Required:
    @strawberry.field
    def broken(self) -> str:
        """Non-null and failing: its null reaches the root, so `data` is null after execution."""
        raise GraphQLError("no such account", extensions={"code": "NOT_FOUND"})


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> bool:
        return True


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(max_query_depth=5)
    schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=schema_extensions(settings))
    async with serve(create_app(settings, schema=schema, keys=TEST_KEYS, manifest=[HELLO])) as c:
        yield c


def codes(r: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in r.json()["errors"]]


# Request errors: the operation never executes.
REQUEST_ERRORS = [
    pytest.param({"query": "{ hello"}, "GRAPHQL_PARSE_FAILED", id="does-not-parse"),
    pytest.param({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED", id="does-not-validate"),
    pytest.param({"query": "{ node { child { child { child { child { child { name } } } } } } }"},
                 "QUERY_TOO_DEEP", id="a-limit-refuses-it"),
    pytest.param({"query": "query ($n: Int!) { count(n: $n) }", "variables": {"n": "x"}},
                 "BAD_USER_INPUT", id="variables-do-not-coerce"),
    pytest.param({"query": "query ($n: Int!) { count(n: $n) }", "variables": {"n": None}},
                 "BAD_USER_INPUT", id="required-variable-null"),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_a_request_error_is_400_without_data_in_graphql_response_json(
    client: httpx.AsyncClient, payload: dict[str, Any], code: str
) -> None:
    r = await client.post("/graphql", json=payload, headers=ACCEPT_GRJ)
    assert (r.status_code, r.headers["content-type"]) == (400, GRJ)
    assert "data" not in r.json()
    assert codes(r) == [code]


@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_a_request_error_stays_200_with_null_data_in_application_json(
    client: httpx.AsyncClient, payload: dict[str, Any], code: str
) -> None:
    for accept in (ACCEPT_JSON, {"accept": "*/*"}, {}):
        r = await client.post("/graphql", json=payload, headers=accept)
        assert (r.status_code, r.headers["content-type"]) == (200, JSON)
        assert r.json()["data"] is None
        assert codes(r) == [code]


@pytest.mark.parametrize("accept", [ACCEPT_GRJ, ACCEPT_JSON])
async def test_an_executed_operation_is_200_with_data_even_with_field_errors(
    client: httpx.AsyncClient, accept: dict[str, str]
) -> None:
    r = await client.post("/graphql", json={"query": "{ hello missing }"}, headers=accept)
    assert r.status_code == 200 and r.headers["content-type"] == accept["accept"] + "; charset=utf-8"
    assert r.json()["data"] == {"hello": "hello world", "missing": None}
    assert codes(r) == ["NOT_FOUND"]


async def test_null_data_after_execution_is_200_and_keeps_data() -> None:
    """A non-null field's error reaching the root: `data` is null but present, the status 200."""
    settings = Settings()
    schema = strawberry.Schema(query=Required, extensions=schema_extensions(settings))
    async with serve(create_app(settings, schema=schema, keys=TEST_KEYS)) as c:
        r = await c.post("/graphql", json={"query": "{ broken }"}, headers=ACCEPT_GRJ)
    assert (r.status_code, r.headers["content-type"]) == (200, GRJ)
    assert r.json()["data"] is None and codes(r) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("content", "status"),
    [
        pytest.param(b"{not json", 400, id="not-json"),
        pytest.param(b"{}", 400, id="no-query"),
        pytest.param(b'{"query": 7}', 400, id="query-not-a-string"),
        pytest.param(b'{"query": "query A { hello }", "operationName": "B"}', 400, id="no-such-operation"),
        pytest.param(b'{"query": "subscription { hello }"}', 400, id="subscription-over-http"),
    ],
)
async def test_an_unusable_request_is_a_coded_4xx_in_either_type(
    client: httpx.AsyncClient, content: bytes, status: int
) -> None:
    for accept, content_type in ((ACCEPT_GRJ, GRJ), (ACCEPT_JSON, JSON)):
        headers = {"content-type": "application/json", **accept}
        r = await client.post("/graphql", content=content, headers=headers)
        assert (r.status_code, r.headers["content-type"]) == (status, content_type)
        assert "data" not in r.json() and codes(r) == ["BAD_REQUEST"]


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "application/json;q=0"])
async def test_nothing_acceptable_is_406(client: httpx.AsyncClient, accept: str) -> None:
    r = await client.post("/graphql", json={"query": "{ hello }"}, headers={"accept": accept})
    assert (r.status_code, r.headers["content-type"]) == (406, JSON)
    assert codes(r) == ["NOT_ACCEPTABLE"]


async def test_get_negotiates_like_post(client: httpx.AsyncClient) -> None:
    ok = await client.get("/graphql", params={"query": "{ hello }"}, headers={**ACCEPT_GRJ, **PREFLIGHT})
    assert (ok.status_code, ok.headers["content-type"], ok.json()) == (
        200,
        GRJ,
        {"data": {"hello": "hello world"}},
    )
    bad = await client.get("/graphql", params={"query": "{ nope }"}, headers={**ACCEPT_GRJ, **PREFLIGHT})
    assert (bad.status_code, "data" in bad.json(), codes(bad)) == (400, False, ["GRAPHQL_VALIDATION_FAILED"])
    old = await client.get("/graphql", params={"query": "{ nope }"}, headers=PREFLIGHT)
    assert (old.status_code, old.headers["content-type"], old.json()["data"]) == (200, JSON, None)


@pytest.mark.parametrize(("accept", "content_type"), [(ACCEPT_GRJ, GRJ), (ACCEPT_JSON, JSON)])
async def test_a_mutation_over_get_is_405_allow_post(
    client: httpx.AsyncClient, accept: dict[str, str], content_type: str
) -> None:
    r = await client.get("/graphql", params={"query": "mutation { touch }"}, headers={**accept, **PREFLIGHT})
    assert (r.status_code, r.headers["allow"], r.headers["content-type"]) == (405, "POST", content_type)
    assert codes(r) == ["BAD_REQUEST"]


async def test_a_get_without_preflight_is_refused_in_the_negotiated_type(client: httpx.AsyncClient) -> None:
    r = await client.get("/graphql", params={"query": "{ hello }"}, headers=ACCEPT_GRJ)
    assert (r.status_code, r.headers["content-type"]) == (400, GRJ)
    assert codes(r) == ["CSRF_PREFLIGHT_REQUIRED"]


async def test_a_persisted_operation_with_bad_variables_is_a_request_error(client: httpx.AsyncClient) -> None:
    """The manifest's pre-planned path hands coercion failures to the executor: still a 400 there."""
    payload = {"documentId": f"sha256:{HELLO.id}", "variables": {"name": 5}}
    r = await client.post("/graphql", json=payload, headers=ACCEPT_GRJ)
    assert (r.status_code, "data" in r.json(), codes(r)) == (400, False, ["BAD_USER_INPUT"])
    ok = await client.post("/graphql", json={**payload, "variables": {"name": "pq"}}, headers=ACCEPT_GRJ)
    assert (ok.status_code, ok.json()) == (200, {"data": {"hello": "hello pq"}})


@pytest.mark.parametrize(
    ("accept", "status", "content_type"), [(ACCEPT_GRJ, 404, GRJ), (ACCEPT_JSON, 200, JSON), ({}, 200, JSON)]
)
async def test_an_apq_miss_is_404_only_where_200_without_data_is_forbidden(
    client: httpx.AsyncClient, accept: dict[str, str], status: int, content_type: str
) -> None:
    """Apollo's APQ answers a miss 200 (kept for application/json: Apollo Client 3's link); in
    graphql-response+json a body without `data` must not be 2xx."""
    payload = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}
    r = await client.post("/graphql", json=payload, headers=accept)
    assert (r.status_code, r.headers["content-type"]) == (status, content_type)
    assert "data" not in r.json() and codes(r) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_refusals_before_the_view_use_the_accepted_type(client: httpx.AsyncClient) -> None:
    """No token (BearerAuth) and a body over the limit (BodyLimit) answer before negotiation: in the
    type the client accepts all the same."""
    r = await client.post(
        "/graphql", json={"query": "{ hello }"}, headers={**ACCEPT_GRJ, "authorization": ""}
    )
    assert (r.status_code, r.headers["content-type"], codes(r)) == (401, GRJ, ["UNAUTHENTICATED"])
    huge = {"query": "{ hello }", "variables": {"pad": "x" * 200_000}}
    r = await client.post("/graphql", json=huge, headers={**ACCEPT_GRJ, **bearer()})
    assert (r.status_code, r.headers["content-type"], codes(r)) == (413, GRJ, ["BAD_REQUEST"])
