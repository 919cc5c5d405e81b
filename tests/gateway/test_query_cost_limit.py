"""`QueryCostLimit` in the real app: a hostile document is refused with its codes before graphql-core
validates anything (HTTP and APQ registration alike); a large admitted document is validated off the
event loop; a small one inline."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import parser_cache
from strawberry.schema import schema as strawberry_schema
from strawberry.schema.schema import validate_document

from bench.documents import doubling
from gateway.app import create_app
from gateway.persisted.document_caches import DOCUMENT_WORK
from gateway.persisted.manifest import document_id
from gateway.settings import Settings
from tests.gateway.conftest import TEST_KEYS, errors_of, serve, small_schema

HOSTILE_CODES = {"TOO_MANY_SPREADS", "TOO_MANY_FIELDS", "QUERY_TOO_COSTLY"}


def app_settings(**overrides: object) -> Settings:
    return Settings(**overrides)


async def test_the_2_to_the_30_document_is_refused_before_any_rule_runs() -> None:
    settings = app_settings()
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        validations = DOCUMENT_WORK.validations
        r = await client.post("/graphql", json={"query": doubling(30)})
        assert DOCUMENT_WORK.validations == validations  # graphql-core never walked it
    assert r.status_code == 200
    assert r.json()["data"] is None
    assert {code for code, _ in errors_of(r.json())} == HOSTILE_CODES


async def test_an_apq_registration_of_it_is_refused_and_not_stored() -> None:
    settings = app_settings()
    query = doubling(30)
    apq = {"persistedQuery": {"version": 1, "sha256Hash": document_id(query)}}
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        registering = await client.post("/graphql", json={"query": query, "extensions": apq})
        by_hash = await client.post("/graphql", json={"extensions": apq})
    assert {code for code, _ in errors_of(registering.json())} == HOSTILE_CODES
    assert errors_of(by_hash.json())[0][0] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(("fields", "off_loop"), [(3, False), (4, True)])
async def test_a_document_over_the_inline_size_is_validated_in_a_thread(fields: int, off_loop: bool) -> None:
    settings = app_settings(validate_inline_max_fields=3)
    query = "{ node { child { name " + "n: name " * (fields - 3) + "} } }"  # fields: node, child, name...
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        before = DOCUMENT_WORK.validations_off_loop
        r = await client.post("/graphql", json={"query": query})
        assert DOCUMENT_WORK.validations_off_loop - before == int(off_loop)
    assert r.json()["data"] == {"node": {"child": {"name": "node", **({"n": "node"} if off_loop else {})}}}


async def test_a_document_validated_once_is_not_validated_again_nor_sent_to_a_thread() -> None:
    """The validation cache is keyed by the text (whose hash Python keeps), not by the parsed tree
    (whose hash walks every node): the second request validates nothing and hops to no thread."""
    settings = app_settings(validate_inline_max_fields=3)
    query = "{ node { child { name a: name b: name } } }"
    broken = "{ node { child { nope a: name b: name } } }"
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        before = DOCUMENT_WORK.validations_off_loop
        answers = [await client.post("/graphql", json={"query": q}) for q in (query, broken, query, broken)]
        assert DOCUMENT_WORK.validations_off_loop - before == 2  # once per distinct text
    assert answers[0].json() == answers[2].json()
    assert errors_of(answers[1].json()) == errors_of(answers[3].json())
    assert errors_of(answers[3].json())[0][0] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize(("inline_max_fields", "off_loop"), [(100, False), (0, True)])
async def test_the_loop_keeps_running_while_a_large_document_validates(
    monkeypatch: pytest.MonkeyPatch, inline_max_fields: int, off_loop: bool
) -> None:
    """A validation that holds its thread for a while (as graphql-core's pairwise field comparisons
    do): off the loop, a ticker task keeps running meanwhile; inline, it stands still."""
    ticks, seen = 0, []

    def slow_validate(*args: object) -> list[GraphQLError]:
        seen.append(ticks)
        time.sleep(0.05)  # the thread is busy; the loop's other tasks run only if this is not the loop
        seen.append(ticks)
        return list(validate_document(*args))  # type: ignore[arg-type]

    monkeypatch.setattr(strawberry_schema, "validate_document", slow_validate)
    settings = app_settings(validate_inline_max_fields=inline_max_fields)
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        task = asyncio.create_task(ticker())
        r = await client.post("/graphql", json={"query": "{ node { name } }"})
        done.set()
        await task
    assert r.json() == {"data": {"node": {"name": "node"}}}
    before, after = seen
    assert (after > before) is off_loop


@pytest.mark.parametrize(("inline_max_chars", "off_loop"), [(4_096, False), (10, True)])
async def test_a_long_text_is_parsed_in_a_thread(
    monkeypatch: pytest.MonkeyPatch, inline_max_chars: int, off_loop: bool
) -> None:
    """As for validation: a parse that holds its thread lets the loop's other tasks run only when it
    is not the loop's thread. Syntax errors from the thread are coded as before."""
    ticks, seen = 0, []

    def slow_parse(text: str, **options: Any) -> DocumentNode:
        seen.append(ticks)
        time.sleep(0.05)
        seen.append(ticks)
        return parse(text, **options)

    monkeypatch.setattr(parser_cache, "_get_parse_cache", lambda maxsize: slow_parse)
    settings = app_settings(parse_inline_max_chars=inline_max_chars)
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        task = asyncio.create_task(ticker())
        parses = DOCUMENT_WORK.parses_off_loop
        r = await client.post("/graphql", json={"query": "{ node { name } }"})
        broken = await client.post("/graphql", json={"query": "{ node { name }"})
        done.set()
        await task
        assert DOCUMENT_WORK.parses_off_loop - parses == 2 * int(off_loop)
    assert r.json() == {"data": {"node": {"name": "node"}}}
    assert errors_of(broken.json())[0][0] == "GRAPHQL_PARSE_FAILED"
    before, after = seen[:2]
    assert (after > before) is off_loop
