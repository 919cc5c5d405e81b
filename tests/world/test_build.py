"""The seeded world in-process: deterministic, coherent, and with the quirks the issue asks for."""

from __future__ import annotations

from collections import Counter
from datetime import date

from simulators.world import build_world
from simulators.world.network import metres_between, point_in_ring
from simulators.world.people import ACCOUNT_STATUS, ROGUE_STATUS, ROGUE_USE_TYPE, USE_TYPES
from tests.support.world import seeded_world


def _gb11643_ok(id_card: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(id_card[:17], weights, strict=True))
    return "10X98765432"[total % 11] == id_card[17]


def test_same_seed_same_world_and_other_seed_differs() -> None:
    a = build_world(7, 300, date(2026, 11, 26))
    b = build_world(7, 300, date(2026, 11, 26))
    c = build_world(8, 300, date(2026, 11, 26))
    assert a.customers == b.customers and a.accounts == b.accounts and a.outages == b.outages
    assert a.history(a.accounts[0].account_no) == b.history(b.accounts[0].account_no)
    assert a.customers != c.customers


def test_people_look_real() -> None:
    world = seeded_world()
    persons = [c for c in world.customers if c.kind == "person"]
    assert all(c.id_card and len(c.id_card) == 18 and _gb11643_ok(c.id_card) for c in persons)
    mobiles = [c.mobile for c in world.customers if c.mobile]
    assert all(len(m) == 11 and m.startswith("1") for m in mobiles)
    assert any(c.landline for c in world.customers)
    shared = [owners for owners in world.customers_by_phone.values() if len(owners) > 1]
    assert len(shared) >= 10, "some phone numbers must be shared by several customers"
    multi = [n for n, accts in world.accounts_of.items() if len(accts) > 1]
    assert len(multi) >= 50, "some customers must hold several accounts"


def test_account_keys_and_codes() -> None:
    world = seeded_world()
    assert all(len(a.account_no) == 10 and a.account_no.startswith("00") for a in world.accounts)
    assert len({a.account_no for a in world.accounts}) == len(world.accounts)
    use = Counter(a.use_type for a in world.accounts)
    assert set(use) - {ROGUE_USE_TYPE} <= set(USE_TYPES)
    status = Counter(a.status for a in world.accounts)
    assert set(status) - {ROGUE_STATUS} <= set(ACCOUNT_STATUS)


def test_every_account_taps_an_in_service_main_beside_it_inside_its_grid() -> None:
    world = seeded_world()
    mains = world.network.main_by_id
    for account in world.accounts:
        main = mains[account.main_id]
        assert main.status == 0 and main.main_type == 1, "connections tap in-service distribution mains"
        assert main.road == account.premises.frontage.road
        (x0, y0), (x1, y1) = main.path
        x, y = account.service_point
        if main.road.axis == "ew":
            assert min(x0, x1) - 1e-9 <= x <= max(x0, x1) + 1e-9
            assert 5.0 <= metres_between((x, y0), account.service_point) <= 26.0
        else:
            assert min(y0, y1) - 1e-9 <= y <= max(y0, y1) + 1e-9
            assert 5.0 <= metres_between((x0, y), account.service_point) <= 26.0
        grid = world.grid_by_code[account.grid_code]
        assert point_in_ring(account.service_point, grid.ring)


def test_addresses_are_coherent() -> None:
    world = seeded_world()
    for account in world.accounts[:500]:
        p = account.premises
        assert p.address.startswith("江城市临江区" + p.road.name)
        if p.compound is not None:
            assert p.address.endswith("室") and p.compound.name in p.address


def test_outages_isolate_valve_segments_and_cover_customers() -> None:
    world = seeded_world()
    active = [o for o in world.outages if o.status == 1]
    assert {o.kind for o in active} == {1, 2}, "one planned and one emergency outage are active"
    for outage in world.outages:
        assert outage.valve_ids, "an outage shuts at least one valve"
        tapped = [a for a in world.accounts if a.main_id in outage.main_ids]
        assert len(tapped) == outage.affected_accounts > 0
        assert all(point_in_ring(a.service_point, outage.ring) for a in tapped)
    burst = next(o for o in active if o.kind == 2)
    assert any(a.main_id in burst.main_ids for a in world.accounts)


def test_bills_follow_annual_tiers_and_late_fees_accrue_daily() -> None:
    world = seeded_world()
    residential = [a for a in world.accounts if a.use_type == "01"]
    heavy = next(
        h
        for a in residential
        if (h := world.history(a.account_no)).bills and any(len(b.tiers) > 1 for b in h.bills)
    )
    for bill in heavy.bills:
        assert bill.water_fen == sum(t.amount_fen for t in bill.tiers)
        assert sum(t.volume_m3 for t in bill.tiers) == bill.usage_m3
        assert bill.total_fen == bill.water_fen + bill.sewage_fen + bill.resource_fen
    owing = next(h for a in residential if (h := world.history(a.account_no)).arrears_fen() > 0)
    overdue = [b for b in owing.bills if b.unpaid_fen]
    last_due = max(b.due for b in overdue)
    later = date.fromordinal(last_due.toordinal() + 40)
    fee_a = owing.late_fee_fen(later, 0.003, 1.0)
    fee_b = owing.late_fee_fen(date.fromordinal(later.toordinal() + 1), 0.003, 1.0)
    assert fee_b > fee_a > 0
    capped = owing.late_fee_fen(date.fromordinal(later.toordinal() + 5000), 0.003, 0.3)
    assert capped == sum(round(b.unpaid_fen * 0.3) for b in overdue)
