"""`isolationPlan(mainId)` over GraphQL, in-process against the simulators over real HTTP.

Expected values come from the seeded world (the simulator's own trace, billing's owners and use
types, the CRM's register), not from the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.access import CUSTOMER_READ, NETWORK_READ, Access, Principal
from services.calls import CallRegistry
from simulators.crm.sensitive import register
from tests.services.conftest import Run
from tests.support.world import seeded_world, sole_callers

PLAN_Q = """query($id: ID!) { isolationPlan(mainId: $id) {
  mainId segmentMainIds isolatedMainIds enlarged sealed cutOffMainIds outMainIds
  growth { valve { id operable currentlyOpen } addedMainIds }
  valvesToClose { id mainId operable currentlyOpen }
  accountCount customerCount estimatedHouseholds sensitiveCustomerCount
} }"""
PAGE_Q = """query($id: ID!, $after: String) { isolationPlan(mainId: $id) {
  customers(first: 7, after: $after) { total nextCursor items { id } }
  accounts(first: 200) { total items { accountNo } }
} }"""
SENSITIVE_Q = """query($id: ID!) { isolationPlan(mainId: $id) {
  sensitiveCustomers { registerId category note account { accountNo } customer { id } }
} }"""
AGENT = Principal(
    "agent-a1001", "workbench", "agent", frozenset({CUSTOMER_READ, NETWORK_READ}), agent_id="A1001"
)


def _asset(main_id: int) -> str:
    return seeded_world().network.main_by_id[main_id].asset_no


def _affected(main_id: int) -> list[Any]:
    """The world's accounts whose connection taps a main the simulator's trace leaves dry."""
    trace = seeded_world().network.trace(main_id)
    return [a for a in seeded_world().accounts if a.main_id in set(trace.main_ids)]


def _enlarged_main() -> int:
    """A served main whose area, by the simulator's trace, holds a valve nobody can close: the
    segment had to grow past it."""
    net = seeded_world().network
    stuck = {v.main_id for v in net.valves if v.currently_open and not v.operable}
    for m in net.mains:
        trace = net.trace(m.main_id)
        if m.status == 0 and len(trace.segment) > 1 and stuck & set(trace.segment) and _affected(m.main_id):
            return m.main_id
    raise AssertionError("no enlarged segment in the seeded network")


async def test_the_plan_names_valves_mains_and_counts_as_the_simulator_traces(run: Run) -> None:
    world = seeded_world()
    main_id = _enlarged_main()
    expected = world.network.trace(main_id)
    result = await run(PLAN_Q, {"id": _asset(main_id)})
    assert result.errors is None, result.errors
    plan = result.data["isolationPlan"]  # type: ignore[index]
    assert plan["mainId"] == _asset(main_id)
    assert plan["isolatedMainIds"] == [_asset(m) for m in expected.segment]
    assert plan["cutOffMainIds"] == [_asset(m) for m in expected.cut_off]
    assert plan["outMainIds"] == [_asset(m) for m in expected.main_ids]
    valve_assets = {v.valve_id: v.asset_no for v in world.network.valves}
    assert [v["id"] for v in plan["valvesToClose"]] == [valve_assets[v] for v in sorted(expected.valves)]
    assert all(v["operable"] and v["currentlyOpen"] for v in plan["valvesToClose"])
    assert plan["sealed"] is expected.sealed
    assert plan["enlarged"] and plan["growth"]
    assert set(plan["segmentMainIds"]) < set(plan["isolatedMainIds"])
    assert all(not g["valve"]["operable"] and g["valve"]["currentlyOpen"] for g in plan["growth"])
    affected = _affected(main_id)
    assert plan["accountCount"] == len(affected)
    assert plan["customerCount"] == len({a.customer_no for a in affected})
    assert plan["estimatedHouseholds"] == sum(1 for a in affected if a.use_type == "01")


async def test_customers_and_accounts_page_through_everyone_affected(run: Run) -> None:
    main_id = _enlarged_main()
    affected = _affected(main_id)
    seen: list[str] = []
    after = None
    for _ in range(100):
        result = await run(PAGE_Q, {"id": _asset(main_id), "after": after})
        assert result.errors is None, result.errors
        plan = result.data["isolationPlan"]  # type: ignore[index]
        seen += [c["id"] for c in plan["customers"]["items"]]
        after = plan["customers"]["nextCursor"]
        if after is None:
            break
    assert seen == sorted({f"KH{a.customer_no:08d}" for a in affected})
    assert plan["customers"]["total"] == len(seen)
    assert {a["accountNo"] for a in plan["accounts"]["items"]} == {a.account_no for a in affected}


async def test_sensitive_customers_among_the_affected_are_listed(run: Run) -> None:
    world = seeded_world()
    entries = register(world)
    by_account = {e.account_no: e for e in entries}
    main_id = next(
        a.main_id
        for a in world.accounts
        if a.account_no in by_account and world.network.main_by_id[a.main_id].status == 0
    )
    expected = {
        (e.register_id, e.account_no)
        for e in entries
        if e.account_no in {a.account_no for a in _affected(main_id)}
    }
    result = await run(SENSITIVE_Q, {"id": _asset(main_id)})
    assert result.errors is None, result.errors
    listed = result.data["isolationPlan"]["sensitiveCustomers"]  # type: ignore[index]
    assert {(s["registerId"], s["account"]["accountNo"]) for s in listed} == expected
    for s in listed:
        entry = by_account[s["account"]["accountNo"]]
        assert s["customer"]["id"] == f"KH{entry.customer_no:08d}" and s["note"]
    counted = await run(
        "query($id: ID!) { isolationPlan(mainId: $id) { sensitiveCustomerCount } }", {"id": _asset(main_id)}
    )
    assert counted.data == {"isolationPlan": {"sensitiveCustomerCount": len(expected)}}


@pytest.mark.parametrize(
    ("main_id", "code"), [("GS-999999", "NOT_FOUND"), ("999999", "NOT_FOUND"), (" ", "BAD_USER_INPUT")]
)
async def test_an_unknown_or_malformed_main_is_a_coded_error(run: Run, main_id: str, code: str) -> None:
    result = await run("query($id: ID!) { isolationPlan(mainId: $id) { mainId } }", {"id": main_id})
    assert result.data == {"isolationPlan": None}
    assert [(e.extensions or {})["code"] for e in result.errors or []] == [code]


async def test_an_agent_gets_the_plan_and_its_counts_but_no_customer_lists(run: Run) -> None:
    caller = sole_callers()[0]
    call = CallRegistry().answered("A1001", "call-1", caller.mobile)
    main_id = _enlarged_main()
    query = """query($id: ID!) { isolationPlan(mainId: $id) {
      accountCount customerCount valvesToClose { id }
      accounts { total } customers { total } sensitiveCustomers { registerId }
    } }"""
    result = await run(query, {"id": _asset(main_id)}, access=Access(AGENT, call))
    plan = result.data["isolationPlan"]  # type: ignore[index]
    assert plan["accountCount"] == len(_affected(main_id)) and plan["customerCount"] and plan["valvesToClose"]
    assert plan["accounts"] is None and plan["customers"] is None and plan["sensitiveCustomers"] is None
    assert sorted((e.extensions or {})["code"] for e in result.errors or []) == ["FORBIDDEN"] * 3
