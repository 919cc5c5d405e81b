"""Who the active outages leave without water, from the trace: the IVR look-up and the screen pop.

Against the four simulators as real processes, on the seeded network. The seeded planned outage
TS0002 shuts mains 42–45 and, through them, 393–395 lose their supply (the simulator's own trace
says so: `simulators.world.network`). Its polygon, drawn round all seven, also covers twenty accounts
on mains that stay fed: the polygon said "affected", the network says not. And a polygon drawn by
hand round the shut mains only (as a dispatcher draws one) leaves the downstream customers outside
it: the polygon said "not affected", the network says they are dry.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from graphql import parse

from backends.registry import BACKENDS, open_backends
from domain.geo import GeoPoint
from domain.outage_impact import ImpactCause, outage_reach
from domain.ports import Backends
from domain.records import Outage
from gateway.persisted.compiled_operation import compile_operation
from gateway.persisted.manifest import load_manifest
from infra.http.config import BackendConfig
from services.access import CUSTOMER_READ, NETWORK_READ, TICKET_READ, Access, Principal
from services.context import build_context
from services.isolation import graph_of
from services.outage_impact import ImpactIndexer, indexer_of
from simulators.world import World
from simulators.world.model import Account as WorldAccount
from simulators.world.network import point_in_ring, ring_around
from tests.conftest import Simulators
from tests.services.conftest import SUPERVISOR
from tests.support.admin import set_faults, stats
from tests.support.world import seeded_world

LOOKUP = """query ($phone: String!) { callerOutageStatus(phone: $phone) {
  affected outageId reason cause estimatedRestoreAt message asOf
  notices { outageId kind cause mainId roadName closedValveIds } } }"""
POP = """query ($id: ID!) { customer(id: $id) { id activeOutages { id }
  outageImpacts { outage { id } accountNo byTrace cause mainId closedValveIds } } }"""

# The softphone's scopes (docs/security.md): no customer:read:any, no unmask.
SOFTPHONE = Principal(
    subject="softphone-test",
    client_id="softphone",
    role="softphone",
    scopes=frozenset({CUSTOMER_READ, TICKET_READ, NETWORK_READ}),
    agent_id="A1001",
)


def _outage(world: World, outage_id: str) -> Any:
    return next(o for o in world.outages if o.outage_id == outage_id)


def _downstream(world: World) -> list[int]:
    """TS0002's mains that lose supply without being shut (by the simulator's own trace)."""
    o = _outage(world, "TS0002")
    return list(world.network.trace(o.main_ids[0]).cut_off)


def _sole_phone_accounts(world: World, mains: Sequence[int]) -> list[WorldAccount]:
    """Accounts on these mains whose holder's mobile is theirs alone and all of whose accounts are
    on these mains: the number's answer then depends on these mains only."""
    out = []
    for a in world.accounts:
        c = world.customer_by_no[a.customer_no]
        if a.main_id not in mains or not c.mobile or len(world.customers_by_phone[c.mobile]) != 1:
            continue
        if all(x.main_id in mains for x in world.accounts_of[a.customer_no]):
            out.append(a)
    return out


def _mobile(world: World, account: WorldAccount) -> str:
    return world.customer_by_no[account.customer_no].mobile or ""


def _requests(sims: Simulators) -> dict[str, int]:
    return {name: int(stats(sim.url)["requests"]) for name, sim in sims.items()}


@pytest.fixture
async def backends(clean_sims: Simulators) -> AsyncIterator[Backends]:
    configs = {n: BackendConfig(n, clean_sims[n].url, timeout_s=5.0) for n in BACKENDS}
    opened = open_backends(configs)
    try:
        yield opened
    finally:
        await indexer_of(opened).aclose()
        await opened.aclose()


async def _built(backends: Backends) -> ImpactIndexer:
    """The index built once by its background loop, which then sleeps past the test."""
    indexer = indexer_of(backends)
    indexer.interval_s = 3_600
    indexer.ensure_running()
    for _ in range(600):
        if indexer.index is not None:
            return indexer
        await asyncio.sleep(0.05)
    raise AssertionError("the outage index was never built")


async def _execute(
    schema: Any, backends: Backends, doc: str, variables: dict[str, Any], who: Principal
) -> Any:
    ctx = build_context(backends, access=Access(who))
    return await schema.execute(doc, variable_values=variables, context_value=ctx)


async def test_the_ivr_answers_from_memory_and_asks_no_back_office(
    schema: Any, backends: Backends, clean_sims: Simulators
) -> None:
    world = seeded_world()
    burst = _outage(world, "TS0001")
    shut = _sole_phone_accounts(world, burst.main_ids)[0]
    downstream = _sole_phone_accounts(world, _downstream(world))[0]
    dry = {
        a.account_no
        for o in world.outages
        if o.status == 1
        for a in world.accounts
        if a.main_id in o.main_ids
    }
    fed = next(
        a
        for a in _sole_phone_accounts(world, [m.main_id for m in world.network.mains])
        if all(x.account_no not in dry for x in world.accounts_of[a.customer_no])
    )
    await _built(backends)
    before = _requests(clean_sims)
    answers = {}
    for name, phone in {
        "shut": f"+86 {_mobile(world, shut)}",
        "downstream": _mobile(world, downstream),
        "fed": f"0086-{_mobile(world, fed)}",
        "withheld": "anonymous",
        "blank": "",
        "short code": "12345",
    }.items():
        result = await _execute(schema, backends, LOOKUP, {"phone": phone}, SOFTPHONE)
        assert result.errors is None, (name, result.errors)
        answers[name] = result.data["callerOutageStatus"]
    assert _requests(clean_sims) == before, "a look-up asked a back office"

    assert answers["shut"]["affected"] and answers["shut"]["outageId"] == "TS0001"
    assert answers["shut"]["cause"] == "SHUT"
    valve_nos = {v.valve_id: v.asset_no for v in world.network.valves}
    assert set(answers["shut"]["notices"][0]["closedValveIds"]) == {valve_nos[v] for v in burst.valve_ids}
    assert answers["shut"]["estimatedRestoreAt"].startswith("20") and "预计" in answers["shut"]["message"]
    assert answers["downstream"]["affected"] and answers["downstream"]["outageId"] == "TS0002"
    assert answers["downstream"]["cause"] == "DOWNSTREAM"
    assert "上游" in answers["downstream"]["message"]
    for name in ("fed", "withheld", "blank", "short code"):
        assert answers[name]["affected"] is False and answers[name]["outageId"] is None, name
        assert answers[name]["message"] and answers[name]["asOf"] is not None


@pytest.mark.parametrize("phone", ["not a phone", "1" * 41, "138\x001234"])
async def test_bad_input_is_a_coded_error(schema: Any, backends: Backends, phone: str) -> None:
    result = await _execute(schema, backends, LOOKUP, {"phone": phone}, SOFTPHONE)
    assert result.errors and result.errors[0].extensions["code"] == "BAD_USER_INPUT"


async def test_a_failed_refresh_keeps_the_last_good_index(backends: Backends, clean_sims: Simulators) -> None:
    indexer = await _built(backends)
    good = indexer.index
    assert good is not None and good.stats["accounts"] > 0 and good.stats["phones"] > 0
    set_faults(clean_sims["gis"].url, error_rate=1.0)
    assert await indexer.refresh() is good
    assert indexer.failures == 1


async def test_every_affected_account_is_in_the_index(backends: Backends) -> None:
    """The index's accounts are exactly the accounts tapping the active outages' mains (the
    simulator's trace gives `MAIN_IDS`: shut and downstream)."""
    world = seeded_world()
    indexer = await _built(backends)
    assert indexer.index is not None
    expected = {
        a.account_no
        for o in world.outages
        if o.status == 1
        for a in world.accounts
        if a.main_id in o.main_ids
    }
    assert set(indexer.index.by_account) == expected
    counts = {o.outage_id: o.affected_accounts for o in world.outages if o.status == 1}
    for outage_id, count in counts.items():
        assert (
            sum(1 for n in indexer.index.by_account.values() if any(x.outage_id == outage_id for x in n))
            == count
        )


class HandDrawnGis:
    """The real GIS adapter, but TS0002's polygon drawn round its shut mains only, as a dispatcher
    would draw it (the seeded polygon covers the downstream mains too)."""

    def __init__(self, real: Any, ring: tuple[GeoPoint, ...]) -> None:
        self._real = real
        self._ring = ring

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    async def outages(self, active: bool | None = None) -> list[Outage]:
        found = await self._real.outages(active)
        return [dataclasses.replace(o, area=(self._ring,)) if o.outage_id == "TS0002" else o for o in found]


async def test_downstream_of_a_closed_valve_but_outside_the_polygon_is_affected(
    schema: Any, backends: Backends
) -> None:
    world = seeded_world()
    o = _outage(world, "TS0002")
    segment = world.network.trace(o.main_ids[0]).segment
    ring = ring_around([world.network.main_by_id[m] for m in segment])
    outside = [
        a for a in _sole_phone_accounts(world, _downstream(world)) if not point_in_ring(a.service_point, ring)
    ]
    assert outside, "the seeded world has downstream customers outside a polygon round the shut mains"
    account = outside[0]
    hand_drawn = dataclasses.replace(
        backends,
        gis=HandDrawnGis(backends.gis, tuple(GeoPoint(x, y) for x, y in ring)),
    )
    await graph_of(hand_drawn.gis)  # what the index does at start-up: the pop never builds it
    polygon = next(x for x in await hand_drawn.gis.outages(True) if x.outage_id == "TS0002")
    here = GeoPoint(*account.service_point)
    assert not polygon.covers(here), "the polygon test would say: not affected"
    result = await _execute(schema, hand_drawn, POP, {"id": f"KH{account.customer_no:08d}"}, SUPERVISOR)
    assert result.errors is None, result.errors
    customer = result.data["customer"]
    assert "TS0002" in [x["id"] for x in customer["activeOutages"]]
    why = next(x for x in customer["outageImpacts"] if x["outage"]["id"] == "TS0002")
    valve_nos = {v.valve_id: v.asset_no for v in world.network.valves}
    main_nos = {m.main_id: m.asset_no for m in world.network.mains}
    assert why == {
        "outage": {"id": "TS0002"},
        "accountNo": account.account_no,
        "byTrace": True,
        "cause": "DOWNSTREAM",
        "mainId": main_nos[account.main_id],
        "closedValveIds": sorted(valve_nos[v] for v in o.valve_ids),
    }


def _inside_but_fed(world: World) -> WorldAccount:
    o = _outage(world, "TS0002")
    active = [x for x in world.outages if x.status == 1]
    inside = [
        a
        for a in world.accounts
        if point_in_ring(a.service_point, o.ring)
        and all(x.main_id not in y.main_ids for x in world.accounts_of[a.customer_no] for y in active)
    ]
    assert inside, "the seeded polygon of TS0002 covers accounts on mains that stay fed"
    return inside[0]


async def test_without_a_graph_yet_the_pop_falls_back_to_the_polygon_and_says_so(
    schema: Any, backends: Backends
) -> None:
    account = _inside_but_fed(seeded_world())
    result = await _execute(schema, backends, POP, {"id": f"KH{account.customer_no:08d}"}, SUPERVISOR)
    assert result.errors is None, result.errors
    why = result.data["customer"]["outageImpacts"]
    assert [(x["outage"]["id"], x["byTrace"], x["cause"]) for x in why] == [("TS0002", False, "UNKNOWN")]


async def test_inside_the_polygon_on_a_still_fed_main_is_not_affected(
    schema: Any, backends: Backends
) -> None:
    await graph_of(backends.gis)  # what the index does at start-up: the pop never builds it
    account = _inside_but_fed(seeded_world())
    polygon = next(x for x in await backends.gis.outages(True) if x.outage_id == "TS0002")
    assert polygon.covers(GeoPoint(*account.service_point)), "the polygon test would say: affected"
    result = await _execute(schema, backends, POP, {"id": f"KH{account.customer_no:08d}"}, SUPERVISOR)
    assert result.errors is None, result.errors
    assert result.data["customer"]["activeOutages"] == []
    assert result.data["customer"]["outageImpacts"] == []


async def test_shut_and_downstream_agree_with_the_simulators_own_trace_for_every_seeded_outage(
    backends: Backends,
) -> None:
    """For each of the six outages (any status): SHUT is the simulator's segment, DOWNSTREAM its cut-off."""
    world = seeded_world()
    graph = await graph_of(backends.gis)
    outages = {o.outage_id: o for o in await backends.gis.outages(None)}
    assert set(outages) == {o.outage_id for o in world.outages}
    for seeded in world.outages:
        expected = world.network.trace(seeded.main_ids[0])
        reach = outage_reach(graph, outages[seeded.outage_id])
        shut = {m for m, cause in reach.causes.items() if cause is ImpactCause.SHUT}
        downstream = {m for m, cause in reach.causes.items() if cause is ImpactCause.DOWNSTREAM}
        assert (shut, downstream) == (set(expected.segment), set(expected.cut_off)), seeded.outage_id


async def test_the_compiled_look_up_answers_as_the_executor_does(
    schema: Any, backends: Backends, clean_sims: Simulators
) -> None:
    """`CallerOutageStatus` as the softphone sends it, from the manifest, runs compiled in the BFF
    (`gateway.persisted.compiled_operation`): same answers as the executor's, refusals and bad
    input included, and the same back-office silence."""
    body = next(op.body for op in load_manifest() if op.name == "CallerOutageStatus")
    compiled = compile_operation(schema, parse(body))
    assert compiled is not None, "the IVR look-up no longer compiles"
    world = seeded_world()
    shut = _sole_phone_accounts(world, _outage(world, "TS0001").main_ids)[0]
    downstream = _sole_phone_accounts(world, _downstream(world))[0]
    await _built(backends)
    nobody = dataclasses.replace(SOFTPHONE, scopes=frozenset({TICKET_READ}))
    before = _requests(clean_sims)
    compared, seen = 0, set()
    for who in (SOFTPHONE, nobody):
        for phone in (_mobile(world, shut), _mobile(world, downstream), "+86 13800138000", "anonymous", "x1"):
            executed = await _execute(schema, backends, body, {"phone": phone}, who)
            ctx = build_context(backends, access=Access(who))
            result = await compiled.execute(ctx, {"phone": phone})
            assert result is not None
            assert result.data == executed.data, phone
            assert [(e.message, e.path, e.extensions) for e in result.errors or ()] == [
                (e.message, e.path, e.extensions) for e in executed.errors or ()
            ], phone
            compared += 1
            status = (executed.data or {}).get("callerOutageStatus")
            seen |= {e.extensions["code"] for e in executed.errors or ()}
            seen |= {"affected"} if status and status["affected"] else set()
    assert _requests(clean_sims) == before
    assert compared == 10 and {"affected", "FORBIDDEN", "BAD_USER_INPUT"} <= seen, seen
