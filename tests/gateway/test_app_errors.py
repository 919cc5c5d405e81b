"""Every error carries `extensions.code`; bad HTTP input is a coded 4xx, never a 500 or a trace."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.gateway.conftest import errors_of

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        pytest.param(b"{not json", JSON, 400, id="not-json"),
        pytest.param(b"", JSON, 400, id="empty-body"),
        pytest.param(b'"{ hello }"', JSON, 400, id="json-string"),
        pytest.param(b"42", JSON, 400, id="json-number"),
        pytest.param(b'[{"query": "{ hello }"}]', JSON, 400, id="json-array-batch"),
        pytest.param(b"{}", JSON, 400, id="missing-query"),
        pytest.param(b'{"query": ""}', JSON, 400, id="empty-query"),
        pytest.param(b'{"query": 7}', JSON, 400, id="query-not-string"),
        pytest.param(b'{"query": "{ hello }", "variables": [1]}', JSON, 400, id="variables-list"),
        pytest.param(b'{"query": "{ hello }", "variables": "x"}', JSON, 400, id="variables-string"),
        pytest.param(b'{"query": "{ hello }", "operationName": 1}', JSON, 400, id="operation-name-number"),
        pytest.param(b'{"query": "{ hello }", "extensions": 1}', JSON, 400, id="extensions-number"),
        pytest.param(b'{"query": "query A { hello }", "operationName": "B"}', JSON, 400, id="unknown-op"),
        pytest.param(b'{"query": "{ hello }"}', {"content-type": "text/plain"}, 415, id="text-plain"),
        pytest.param(b"query={hello}", {"content-type": "application/x-www-form-urlencoded"}, 415, id="form"),
        pytest.param(b'{"query": "{ hello }"}', {}, 415, id="no-content-type"),
    ],
)
async def test_bad_post_is_a_coded_4xx(
    client: httpx.AsyncClient, body: bytes, headers: dict[str, str], status: int
) -> None:
    r = await client.post("/graphql", content=body, headers=headers)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    ((code, message),) = errors_of(r.json())
    assert code == "BAD_REQUEST"
    assert message and "Traceback" not in message


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"query": "{ hello }", "variables": "{oops"}, id="variables-not-json"),
        pytest.param({"query": "{ hello }", "variables": "[1]"}, id="variables-not-object"),
        pytest.param({"variables": "{}"}, id="missing-query"),
    ],
)
async def test_bad_get_is_a_coded_400(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    r = await client.get("/graphql", params=params, headers={"apollo-require-preflight": "true"})
    assert r.status_code == 400
    assert errors_of(r.json())[0][0] == "BAD_REQUEST"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_unsupported_method_is_a_coded_405(client: httpx.AsyncClient, method: str) -> None:
    r = await client.request(method, "/graphql", json={"query": "{ hello }"})
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST"
    assert errors_of(r.json())[0][0] == "BAD_REQUEST"


async def test_body_over_the_limit_is_413_before_reading_it(client: httpx.AsyncClient) -> None:
    r = await client.post("/graphql", json={"query": "{ hello }", "pad": "x" * 3_000})
    assert r.status_code == 413
    assert errors_of(r.json())[0][0] == "BAD_REQUEST"


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ hello }", "pad": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    r = await client.post("/graphql", content=chunks(), headers=JSON)
    assert "content-length" not in r.request.headers
    assert r.status_code == 413
    assert errors_of(r.json())[0][0] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        pytest.param("{ hello ", "GRAPHQL_PARSE_FAILED", id="syntax"),
        pytest.param("{ nope }", "GRAPHQL_VALIDATION_FAILED", id="unknown-field"),
        pytest.param("query Q($n: Int!) { hello }", "GRAPHQL_VALIDATION_FAILED", id="unused-variable"),
        pytest.param(
            "{ node { child { child { child { child { child { name } } } } } } }",
            "QUERY_TOO_DEEP",
            id="depth",
        ),
        pytest.param("{ a: hello b: hello c: hello d: hello }", "TOO_MANY_ALIASES", id="aliases"),
        pytest.param("{ " + "hello " * 250 + "}", "TOO_MANY_TOKENS", id="tokens"),
        pytest.param("{ " + "hello " * 6 + "}", "TOO_MANY_ROOT_FIELDS", id="root-fields"),
        pytest.param("{ __schema { types { name } } }", "INTROSPECTION_DISABLED", id="introspection"),
    ],
)
async def test_graphql_errors_before_execution_are_coded(
    client: httpx.AsyncClient, query: str, code: str
) -> None:
    r = await client.post("/graphql", json={"query": query})
    assert r.status_code == 200
    body = r.json()
    assert body["data"] is None
    assert {c for c, _ in errors_of(body)} == {code}


async def test_variables_that_do_not_coerce_are_bad_user_input(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/graphql", json={"query": "query Q($n: Int!) { count(n: $n) }", "variables": {"n": "seven"}}
    )
    ((code, message),) = errors_of(r.json())
    assert code == "BAD_USER_INPUT"
    assert "$n" in message


async def test_uncaught_exception_is_masked_and_logged_with_the_operation(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="tidegate.graphql")
    r = await client.post("/graphql", json={"query": "query ScreenPop { hello boom }"})
    body = r.json()
    assert body["data"] == {"hello": "hello world", "boom": None}
    assert body["errors"] == [
        {
            "message": "Internal server error",
            "locations": [{"line": 1, "column": 25}],
            "path": ["boom"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]
    (logged,) = [rec for rec in caplog.records if rec.name == "tidegate.graphql"]
    assert logged.operation == "ScreenPop"  # type: ignore[attr-defined]
    assert "ScreenPop" in logged.getMessage()
    assert logged.exc_info is not None and isinstance(logged.exc_info[1], RuntimeError)


async def test_resolver_codes_are_kept(client: httpx.AsyncClient) -> None:
    r = await client.post("/graphql", json={"query": "{ missing slow }"})
    assert sorted(errors_of(r.json())) == [
        ("BACKEND_TIMEOUT", "no answer within 1.5 s"),
        ("NOT_FOUND", "no such account"),
    ]


async def test_cached_validation_errors_stay_coded_on_repeat(client: httpx.AsyncClient) -> None:
    for _ in range(3):  # the second and third come out of ValidationCache
        r = await client.post("/graphql", json={"query": "{ nope " + "hello " * 5 + "}"})
        assert sorted(c for c, _ in errors_of(r.json())) == [
            "GRAPHQL_VALIDATION_FAILED",
            "TOO_MANY_ROOT_FIELDS",
        ]


async def test_a_cost_refusal_comes_before_graphql_cores_rules(client: httpx.AsyncClient) -> None:
    """Refused by the one-pass cost check: no rule walks the document, so its unknown field goes
    unreported (graphql-core's rules would walk every spread of a hostile document)."""
    for _ in range(2):
        r = await client.post("/graphql", json={"query": "{ nope a: hello b: hello c: hello d: hello }"})
        assert errors_of(r.json()) == [("TOO_MANY_ALIASES", "4 aliases found. Allowed: 3")]


async def test_an_audit_trail_that_cannot_keep_up_withholds_the_answer_with_a_coded_503(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Narrow: the writer's refusal is forced (its own backpressure is tested in test_audit_writer)."""
    from gateway.observability.audit_writer import AuditUnavailable, AuditWriter

    async def full(self: AuditWriter, records: object) -> None:
        raise AuditUnavailable("the audit trail cannot keep up; the request was not answered")

    monkeypatch.setattr(AuditWriter, "write", full)
    r = await client.post("/graphql", json={"query": "{ hello }"})
    assert (r.status_code, r.headers["retry-after"]) == (503, "5")
    assert "data" not in r.json()
    assert errors_of(r.json()) == [
        ("AUDIT_UNAVAILABLE", "the audit trail cannot keep up; the request was not answered")
    ]
