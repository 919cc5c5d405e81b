"""The softphone's persisted screen pop through the real app, schema and manifest, on the simulators:
parsed and validated once at start-up and never per request, still classed critical by admission,
and a manifest mutation named by its hash over GET is a 405."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
import strawberry.extensions.parser_cache as parser_cache
import strawberry.extensions.validation_cache as validation_cache
import strawberry.schema.schema as strawberry_schema
from graphql.language.parser import parse as graphql_parse

import gateway.limits.admission as admission
from gateway.app import create_app
from gateway.live.cti import signed_event
from gateway.persisted.document_caches import DOCUMENT_WORK
from gateway.persisted.manifest import load_manifest
from gateway.settings import Settings
from tests.conftest import Simulators
from tests.gateway.conftest import PREFLIGHT, TEST_ISSUER, TEST_KEYS, bearer, serve, serve_with_state
from tests.support.world import seeded_world

CTI_SECRET = "persisted-test-cti-secret"
OPERATIONS = {op.name: op for op in reversed(load_manifest())}  # the written form (listed first)
SCREEN_POP = OPERATIONS["ScreenPop"]


def softphone(agent_id: str) -> dict[str, str]:
    minted = TEST_ISSUER.mint(client_id="softphone", role="softphone", agent_id=agent_id)
    return {"Authorization": f"Bearer {minted}"}


def settings_for(sims: Simulators, **overrides: Any) -> Settings:
    urls: dict[str, Any] = {f"{n}_url": sims[n].url for n in ("billing", "crm", "gis", "workorders")}
    return Settings(**urls, cti_secrets=CTI_SECRET, budget_critical_ms=10_000, **overrides)


def caller(index: int) -> Any:
    world = seeded_world()
    found = [c for c in world.customers if c.mobile and len(world.customers_by_phone[c.mobile]) == 1]
    return found[20 + index]


async def ring(client: httpx.AsyncClient, agent_id: str, call_id: str, number: str | None) -> None:
    body, headers = signed_event(CTI_SECRET, "CALL_RINGING", agent_id, call_id, number)
    assert (await client.post("/cti/events", content=body, headers=headers)).status_code == 204


def hash_only(method: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The softphone's request: the operation's sha256 only, GET parameters URL-encoded as JSON."""
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": SCREEN_POP.id}}
    if method == "GET":
        return {
            "params": {
                "extensions": orjson.dumps(extensions).decode(),
                "variables": orjson.dumps(variables).decode(),
            }
        }
    return {"json": {"extensions": extensions, "variables": variables}}


def spies(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts every call into the functions Strawberry (and admission) parse and validate with:
    the parser and validation caches' functions (hit or miss), and the uncached paths."""
    calls: Counter[str] = Counter()

    def counting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def spy(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return function(*args, **kwargs)

        return spy

    validate = strawberry_schema.validate_document
    monkeypatch.setattr(parser_cache, "_get_parse_cache", lambda _maxsize: counting("parse", graphql_parse))
    monkeypatch.setattr(
        validation_cache, "_get_validate_cache", lambda _maxsize: counting("validate", validate)
    )
    monkeypatch.setattr(strawberry_schema, "parse", counting("parse", graphql_parse))
    monkeypatch.setattr(strawberry_schema, "validate_document", counting("validate", validate))
    monkeypatch.setattr(admission, "parse", counting("classify-parse", graphql_parse))
    admission.classify.cache_clear()
    return calls


async def test_persisted_screen_pops_are_neither_parsed_nor_validated_per_request(
    sims: Simulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(sims, screen_pop_prefetch=False)
    app = create_app(settings, keys=TEST_KEYS)  # the manifest is parsed and validated here
    calls = spies(monkeypatch)
    work = (DOCUMENT_WORK.parses, DOCUMENT_WORK.validations)
    person = caller(0)
    async with serve(app, headers=softphone("A7101")) as client:
        await ring(client, "A7101", "call-7101", person.mobile)
        for n in range(3):
            for method in ("GET", "POST"):
                headers = PREFLIGHT if method == "GET" else {}
                r = await client.request(
                    method, "/graphql", headers=headers, **hash_only(method, {"phone": person.mobile})
                )
                assert r.status_code == 200, r.text
                assert [c["id"] for c in r.json()["data"]["customerByPhone"]] == [
                    f"KH{person.customer_no:08d}"
                ], (n, method)
        by_id = await client.post(
            "/graphql", json={"documentId": f"sha256:{SCREEN_POP.id}", "variables": {"phone": person.mobile}}
        )
        assert by_id.json()["data"]["customerByPhone"]
        assert calls == Counter()  # seven screen pops: no parse, no validation, no classification parse
        assert (DOCUMENT_WORK.parses, DOCUMENT_WORK.validations) == work

        # The same operation's text, not persisted (another field order), costs both: the spies see it.
        free_form = SCREEN_POP.body.replace("    id\n    name\n", "    name\n    id\n", 1)
        r = await client.post(
            "/graphql",
            json={"query": free_form, "variables": {"phone": person.mobile}},
            headers=bearer("supervisor"),
        )
        assert r.json()["data"]["customerByPhone"]
    assert calls["parse"] >= 1 and calls["validate"] >= 1
    assert (DOCUMENT_WORK.parses, DOCUMENT_WORK.validations) == (work[0] + 1, work[1] + 1)


async def test_the_ring_time_pop_runs_the_manifest_plan_unparsed(sims: Simulators) -> None:
    """The pop started on ring runs the manifest's ScreenPop as prepared at start-up: no parse, no
    validation, and the plan (`schema.compiled`) walks it, as it walks the answered call's query."""
    app = create_app(settings_for(sims), keys=TEST_KEYS)
    work = (DOCUMENT_WORK.parses, DOCUMENT_WORK.validations)
    async with serve_with_state(app, headers=softphone("A7111")) as (client, state):
        prefetch = state["ring_prefetch"]
        await ring(client, "A7111", "call-7111", caller(5).mobile)
        async with asyncio.timeout(10):  # a safety net, not a latency assertion
            while not prefetch.executors:  # noqa: ASYNC110  (the pop runs in its own task)
                await asyncio.sleep(0.01)
    assert prefetch.executors == Counter({"compiled": 1})
    assert (DOCUMENT_WORK.parses, DOCUMENT_WORK.validations) == work


async def test_a_hash_only_screen_pop_is_classed_critical(sims: Simulators) -> None:
    # One critical request per 1,000 s: the second hash-only pop is refused in the critical bucket,
    # which it reaches only if admission saw the resolved document (the request carries no text).
    settings = settings_for(sims, rate_critical_rps=0.001, rate_critical_burst=1, screen_pop_prefetch=False)
    person = caller(1)
    async with serve(create_app(settings, keys=TEST_KEYS), headers=softphone("A7102")) as client:
        await ring(client, "A7102", "call-7102", person.mobile)
        first = await client.get("/graphql", headers=PREFLIGHT, **hash_only("GET", {"phone": person.mobile}))
        second = await client.post("/graphql", **hash_only("POST", {"phone": person.mobile}))
    assert first.status_code == 200
    assert second.status_code == 429
    refusal = second.json()["errors"][0]["extensions"]
    assert (refusal["code"], refusal["class"]) == ("RATE_LIMITED", "critical")


async def test_a_manifest_mutation_by_hash_over_get_is_a_405(sims: Simulators) -> None:
    create_ticket = OPERATIONS["CreateTicket"]
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": create_ticket.id}}
    async with serve(create_app(settings_for(sims), keys=TEST_KEYS)) as client:
        r = await client.get(
            "/graphql", params={"extensions": orjson.dumps(extensions).decode()}, headers=PREFLIGHT
        )
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
