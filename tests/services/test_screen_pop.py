"""The screen pop through the schema and loaders, against the four simulators as real processes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulators.world import World
from simulators.world.model import Account as WorldAccount
from tests.conftest import Simulators
from tests.services.conftest import Run
from tests.support.admin import set_faults, stats
from tests.support.world import seeded_world

SCREEN_POP = (Path(__file__).parents[2] / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")
OFFSET_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")


def _on_burst(world: World) -> WorldAccount:
    burst = next(o for o in world.outages if o.kind == 2 and o.status == 1)
    on_main = [a for a in world.accounts if a.main_id in burst.main_ids]
    return next(a for a in on_main if world.customer_by_no[a.customer_no].mobile)


def _times(value: object) -> list[str]:
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in ([v] if k.endswith("At") and v else _times(v))]
    if isinstance(value, list):
        return [t for v in value for t in _times(v)]
    return []


async def test_screen_pop_maps_every_system_into_one_clean_answer(run: Run) -> None:
    world = seeded_world()
    account = _on_burst(world)
    customer = world.customer_by_no[account.customer_no]
    mobile = customer.mobile or ""
    result = await run(SCREEN_POP, {"phone": f"+86 {mobile[:3]}-{mobile[3:7]} {mobile[7:]}"})
    assert result.errors is None
    pops = result.data["customerByPhone"]  # type: ignore[index]
    assert sorted(p["id"] for p in pops) == sorted(f"KH{n:08d}" for n in world.customers_by_phone[mobile])
    pop = next(p for p in pops if p["id"] == f"KH{customer.customer_no:08d}")
    assert pop["name"] == customer.name and pop["idCard"] == customer.id_card and pop["mobile"] == mobile
    got = {a["accountNo"]: a for a in pop["accounts"]}
    assert set(got) == {a.account_no for a in world.accounts_of[customer.customer_no]}
    for number, row in got.items():
        history = world.history(number)
        assert row["balance"]["fen"] == history.balance_fen
        assert row["arrears"]["fen"] == history.arrears_fen()
        assert row["arrears"]["yuan"] == f"{history.arrears_fen() // 100}.{history.arrears_fen() % 100:02d}"
        assert row["lateFee"]["fen"] == history.late_fee_fen(world.as_of, 0.003, 1.0)
        assert row["currentTier"] == history.current_tier
        assert row["meterNo"] == world.account_by_no[number].meter_no
    assert got[account.account_no]["useType"] in {
        "RESIDENTIAL",
        "COMMERCIAL",
        "PUBLIC_INSTITUTION",
        "SPECIAL_INDUSTRY",
        "UNKNOWN",
    }
    expected_ix = [i.interaction_id for i in world.interactions(customer.customer_no)[:5]]
    assert [i["id"] for i in pop["interactions"]] == expected_ix
    assert {o["id"] for o in pop["activeOutages"]} >= {"TS0001"}
    burst = next(o for o in pop["activeOutages"] if o["id"] == "TS0001")
    assert (burst["kind"], burst["status"]) == ("EMERGENCY", "ACTIVE")
    assert all(
        t["status"] in {"ACCEPTED", "DISPATCHED", "ACKNOWLEDGED", "ON_HOLD", "IN_PROGRESS", "RETURNED"}
        for t in pop["tickets"]
    )
    stamps = _times(pops)
    assert stamps and all(OFFSET_TIME.match(s) for s in stamps), stamps[:5]


@pytest.mark.parametrize("form", ["0086{m}", "86{m}", "0{m}", "{a} {b} {c}", "{a}-{b}-{c}", "+86{m}"])
async def test_phone_forms_agents_and_switches_send(run: Run, form: str) -> None:
    customer = next(c for c in seeded_world().customers if c.mobile)
    m = customer.mobile or ""
    phone = form.format(m=m, a=m[:3], b=m[3:7], c=m[7:])
    result = await run("query($p: String!) { customerByPhone(phone: $p) { id } }", {"p": phone})
    assert result.errors is None
    assert f"KH{customer.customer_no:08d}" in {c["id"] for c in result.data["customerByPhone"]}  # type: ignore[index]


async def test_landline_and_unknown_and_invalid_phones(run: Run) -> None:
    customer = next(c for c in seeded_world().customers if c.landline)
    result = await run(
        "query($p: String!) { customerByPhone(phone: $p) { id landline } }", {"p": customer.landline}
    )
    assert result.errors is None
    assert f"KH{customer.customer_no:08d}" in {c["id"] for c in result.data["customerByPhone"]}  # type: ignore[index]
    result = await run('{ customerByPhone(phone: "13000000000") { id } }')
    assert result.errors is None and result.data == {"customerByPhone": []}
    result = await run('{ customerByPhone(phone: "call me") { id } }')
    assert result.errors and result.errors[0].extensions == {"code": "BAD_USER_INPUT"}


async def test_fifty_tickets_with_customers_and_accounts_batch_per_fifty(
    run: Run, clean_sims: Simulators
) -> None:
    query = """{ tickets(status: [CLOSED], first: 50) {
        id customer { name } account { accountNo balance { fen } } } }"""
    result = await run(query)
    assert result.errors is None
    rows = result.data["tickets"]  # type: ignore[index]
    assert len(rows) == 50
    distinct = {r["account"]["accountNo"] for r in rows}
    billing = stats(clean_sims["billing"].url)["operations"]
    assert billing["GetAccounts"]["requests"] == 1
    assert billing["GetAccounts"]["batch_sizes"] == [len(distinct)]
    crm = stats(clean_sims["crm"].url)["operations"]
    assert crm["searchContactsBulk"]["requests"] == 1
    assert set(crm) == {"searchContactsBulk"}


async def test_screen_pop_calls_billing_and_crm_in_parallel(run: Run, clean_sims: Simulators) -> None:
    for name in ("billing", "crm"):
        set_faults(clean_sims[name].url, latency_scale=1.0)
    customer = next(c for c in seeded_world().customers if c.mobile and c.customer_no > 100)
    result = await run(SCREEN_POP, {"phone": customer.mobile})
    assert result.errors is None
    billing = stats(clean_sims["billing"].url)
    crm = stats(clean_sims["crm"].url)["recent"]
    assert set(billing["operations"]) == {"GetAccounts"}, "one billing call per 50 accounts, nothing else"
    accounts = next(c for c in billing["recent"] if c["op"] == "GetAccounts")
    history = next(c for c in crm if c["op"] == "batchQueryInteractions")
    assert history["start"] < accounts["end"] and accounts["start"] < history["end"], (accounts, history)


async def test_an_accounts_parts_load_side_by_side(run: Run, clean_sims: Simulators) -> None:
    set_faults(clean_sims["billing"].url, latency_scale=1.0)
    customer = next(c for c in seeded_world().customers if c.customer_no > 100)
    query = "query($id: ID!) { customer(id: $id) { accounts { holderName meter(reads: 1) { meterNo } } } }"
    result = await run(query, {"id": f"KH{customer.customer_no:08d}"})
    assert result.errors is None
    recent = stats(clean_sims["billing"].url)["recent"]
    accounts = next(c for c in recent if c["op"] == "GetAccounts")
    meter = next(c for c in recent if c["op"] == "GetMeter")
    assert meter["start"] < accounts["end"], "the meter call should not wait for the account call"
