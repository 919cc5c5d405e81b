"""One screen pop's trace, through the whole app against the four simulator processes: the operation's
SERVER span, the resolver sources' batch spans under it, the backend CLIENT spans under those, one
trace id throughout, and every simulator that was called received that trace id in `traceparent`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from gateway.app import create_app
from gateway.live.cti import signed_event
from gateway.settings import Settings
from tests.conftest import Simulators
from tests.gateway.conftest import TEST_KEYS, bearer, serve
from tests.support.admin import stats
from tests.support.processes import CTI_SECRET
from tests.support.world import seeded_world

SCREEN_POP = (Path(__file__).parents[2] / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")
SYSTEMS = ("billing", "crm", "gis", "workorders")
AGENT = "A7001"


def _settings(sims: Simulators, **extra: Any) -> Settings:
    urls: dict[str, Any] = {f"{n}_url": sims[n].url for n in SYSTEMS}
    # No ring-time pop: the answered call's pop then asks every back office itself.
    values = {**urls, "cti_secrets": CTI_SECRET, "screen_pop_prefetch": False, "budget_critical_ms": 10_000}
    return Settings(**{**values, **extra})


def _caller() -> str:
    """A mobile only one customer has, with two accounts or more (two billing keys in one batch)."""
    world = seeded_world()
    return next(
        c.mobile
        for c in world.customers
        if c.mobile
        and len(world.customers_by_phone[c.mobile]) == 1
        and len(world.accounts_of[c.customer_no]) > 1
    )


async def _ring(client: httpx.AsyncClient, call_id: str, caller: str) -> None:
    body, headers = signed_event(CTI_SECRET, "CALL_RINGING", AGENT, call_id, caller)
    assert (await client.post("/cti/events", content=body, headers=headers)).status_code == 204


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


def _hex_ids(spans: Sequence[ReadableSpan]) -> set[str]:
    return {format_span_id(s.context.span_id) for s in spans}


async def test_one_screen_pop_is_one_trace_down_to_every_backend(clean_sims: Simulators) -> None:
    exporter = InMemorySpanExporter()
    caller = _caller()
    app = create_app(_settings(clean_sims), keys=TEST_KEYS, span_exporter=exporter)
    async with serve(app, headers=bearer("agent", agent_id=AGENT)) as client:
        await _ring(client, "call-trace-1", caller)
        pop = {"query": SCREEN_POP, "operationName": "ScreenPop", "variables": {"phone": caller}}
        r = await client.post("/graphql", json=pop)
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body.get("errors")
    assert body["data"]["customerByPhone"][0]["accounts"]

    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}
    (operation,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert operation.name == "query ScreenPop" and operation.parent is None
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "ScreenPop"
    assert operation.attributes["graphql.operation.type"] == "query"
    assert operation.attributes["http.response.status_code"] == 200
    assert operation.status.status_code is StatusCode.UNSET
    trace_id = operation.context.trace_id
    assert {s.context.trace_id for s in spans} == {trace_id}
    assert r.headers["traceresponse"].split("-")[1] == format_trace_id(trace_id)

    calls = [s for s in spans if s.kind is SpanKind.CLIENT]
    called = {str((s.attributes or {})["peer.service"]) for s in calls}
    assert called == set(SYSTEMS)
    for call in calls:
        attributes = call.attributes or {}
        assert operation in _ancestors(call, by_id), call.name
        assert attributes["http.response.status_code"] == 200
        assert attributes["server.address"] == "127.0.0.1"
        assert attributes["http.request.method"] in ("GET", "POST")
        assert caller not in str(attributes["url.full"])  # query values are redacted: phones travel there
    assert not any(caller in str(v) for s in spans for v in (s.attributes or {}).values())

    # Resolver sources sit between the operation and the calls they batch.
    batches = {s.name: s for s in spans if s.kind is SpanKind.INTERNAL}
    accounts = batches["billing.account_by_no batch"]
    account_count = len(body["data"]["customerByPhone"][0]["accounts"])  # two or more, in one batch
    assert (accounts.attributes or {})["tidegate.batch.size"] == account_count
    assert accounts.parent is not None and accounts.parent.span_id == operation.context.span_id
    billing_calls = [c for c in calls if (c.attributes or {})["peer.service"] == "billing"]
    assert billing_calls and all(accounts in _ancestors(c, by_id) for c in billing_calls)
    assert any(
        batches["workorders.tickets_by_customer batch"] in _ancestors(c, by_id)
        for c in calls
        if (c.attributes or {})["peer.service"] == "workorders"
    )

    # Each simulator received this trace id, its parent being one of our CLIENT spans to it.
    for system in SYSTEMS:
        received = stats(clean_sims[system].url)["traces"]["recent"]
        ours = [t for t in received if t["trace_id"] == format_trace_id(trace_id)]
        sent = [c for c in calls if (c.attributes or {})["peer.service"] == system]
        assert len(ours) == len(sent), system
        assert {t["parent_id"] for t in ours} == _hex_ids(sent)
        log_lines = [ln for ln in clean_sims[system].log().splitlines() if format_trace_id(trace_id) in ln]
        assert len(log_lines) == len(sent)


async def test_a_routers_traceparent_is_continued(clean_sims: Simulators) -> None:
    """A federation router (or the workbench) sent a `traceparent`: the pop joins that trace."""
    exporter = InMemorySpanExporter()
    caller = _caller()
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    app = create_app(_settings(clean_sims), keys=TEST_KEYS, span_exporter=exporter)
    async with serve(app, headers=bearer("agent", agent_id=AGENT)) as client:
        await _ring(client, "call-trace-2", caller)
        r = await client.post(
            "/graphql",
            json={"query": SCREEN_POP, "variables": {"phone": caller}},
            headers={"traceparent": incoming},
        )
    assert r.status_code == 200 and "errors" not in r.json()
    spans = exporter.get_finished_spans()
    (operation,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert format_trace_id(operation.context.trace_id) == "0af7651916cd43dd8448eb211c80319c"
    assert operation.parent is not None and format_span_id(operation.parent.span_id) == "b7ad6b7169203331"
    assert {format_trace_id(s.context.trace_id) for s in spans} == {"0af7651916cd43dd8448eb211c80319c"}
    received = stats(clean_sims["crm"].url)["traces"]["recent"]
    assert any(t["trace_id"] == "0af7651916cd43dd8448eb211c80319c" for t in received)


async def test_the_ring_time_pop_is_a_trace_of_its_own(clean_sims: Simulators) -> None:
    """Started by a CTI event nobody traces: a root span, with its loaders' and calls' spans below."""
    exporter = InMemorySpanExporter()
    caller = _caller()
    app = create_app(_settings(clean_sims, screen_pop_prefetch=True), keys=TEST_KEYS, span_exporter=exporter)
    async with serve(app, headers=bearer("agent", agent_id=AGENT)) as client:
        await _ring(client, "call-trace-3", caller)
        for _ in range(500):  # wait for the state: the pop, run in the background, has ended its root span
            if any(s.parent is None for s in exporter.get_finished_spans()):
                break
            await asyncio.sleep(0.01)
    spans = exporter.get_finished_spans()
    roots = [s for s in spans if s.parent is None]
    assert [s.name for s in roots] == ["query ScreenPop"]
    assert (roots[0].attributes or {})["tidegate.ring_time"] is True
    assert not [s for s in spans if s.kind is SpanKind.SERVER]  # no GraphQL request was made
    assert {s.context.trace_id for s in spans} == {roots[0].context.trace_id}


async def test_with_tracing_off_no_backend_receives_a_traceparent(clean_sims: Simulators) -> None:
    """Off means off: not even a caller's `traceparent` is passed on (the BFF is then no hop at all)."""
    caller = _caller()
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    app = create_app(_settings(clean_sims), keys=TEST_KEYS)
    async with serve(app, headers=bearer("agent", agent_id=AGENT)) as client:
        await _ring(client, "call-trace-4", caller)
        r = await client.post(
            "/graphql",
            json={"query": SCREEN_POP, "variables": {"phone": caller}},
            headers={"traceparent": incoming},
        )
    assert r.status_code == 200 and "errors" not in r.json() and "traceresponse" not in r.headers
    for system in SYSTEMS:
        counted = stats(clean_sims[system].url)
        assert counted["requests"] > 0 and counted["traces"] == {"received": 0, "recent": []}, system
