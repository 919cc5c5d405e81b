"""The work-order simulator as a real process: lifecycle, dispatch, create unique per client reference."""

from __future__ import annotations

import uuid

import httpx
import pytest

from simulators.workorders.store import cust_code
from simulators.world.workorders import STATUS, TRANSITIONS
from tests.support.processes import SimProcess
from tests.support.world import seeded_world

API = "/wo/api"


def _create(url: str, **overrides: object) -> httpx.Response:
    account = seeded_world().accounts[7]
    body = {
        "type": "LS",
        "urgency": "2",
        "description": "楼道水管漏水",
        "cust_code": cust_code(account.customer_no),
        "acct_no": account.account_no,
        "lon": account.service_point[0],
        "lat": account.service_point[1],
        "grid_code": account.grid_code,
        "client_ref": f"tg-{uuid.uuid4().hex}",
        **overrides,
    }
    return httpx.post(f"{url}{API}/orders", json=body)


def test_create_dispatches_to_the_grid_worker_and_reads_back_numeric_type(
    sims: dict[str, SimProcess],
) -> None:
    url = sims["workorders"].url
    account = seeded_world().accounts[7]
    r = _create(url)
    assert r.status_code == 201
    order = r.json()
    grid = seeded_world().grid_by_code[account.grid_code]
    assert order["status"] == "02" and order["worker_id"] == grid.worker.worker_id
    assert order["type_code"] == "101"  # created with letter code "LS"
    assert [h["status"] for h in order["history"]] == ["01", "02"]
    assert isinstance(order["created_at"], int) and order["created_at"] > 1_700_000_000_000
    again = httpx.get(f"{url}{API}/orders/{order['order_no']}").json()
    assert again == order


def test_a_client_reference_makes_one_order_and_finds_it_again(sims: dict[str, SimProcess]) -> None:
    url, ref = sims["workorders"].url, f"tg-{uuid.uuid4().hex}"
    first = _create(url, client_ref=ref, client_sig="sig-1")
    assert first.status_code == 201 and first.json()["client_sig"] == "sig-1"
    second = _create(url, client_ref=ref, description="另一单")
    assert second.status_code == 409
    assert second.json()["errcode"] == 40903 and second.json()["order_no"] == first.json()["order_no"]
    found = httpx.get(f"{url}{API}/orders", params={"client_ref": ref}).json()
    assert (found["total"], found["list"]) == (1, [first.json()])
    none = httpx.get(f"{url}{API}/orders", params={"client_ref": f"tg-{uuid.uuid4().hex}"}).json()
    assert (none["total"], none["list"]) == (0, [])


def test_create_without_a_reference_is_not_idempotent(sims: dict[str, SimProcess]) -> None:
    url = sims["workorders"].url
    first, second = _create(url, client_ref=None), _create(url, client_ref=None)
    assert first.status_code == second.status_code == 201
    assert first.json()["order_no"] != second.json()["order_no"]


def test_lifecycle_follows_the_transition_table(sims: dict[str, SimProcess]) -> None:
    url = sims["workorders"].url
    number = _create(url).json()["order_no"]
    for target in ("03", "05", "06", "07", "08"):
        r = httpx.post(f"{url}{API}/orders/{number}/transition", json={"to": target, "operator": "W001"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == target and r.json()["status_name"] == STATUS[target]
    r = httpx.post(f"{url}{API}/orders/{number}/transition", json={"to": "99"})
    assert r.status_code == 409 and r.json()["errcode"] == 40901


def test_cannot_cancel_once_work_started(sims: dict[str, SimProcess]) -> None:
    url = sims["workorders"].url
    number = _create(url).json()["order_no"]
    for target in ("03", "05"):
        httpx.post(f"{url}{API}/orders/{number}/transition", json={"to": target}).raise_for_status()
    assert "99" not in TRANSITIONS["05"]
    r = httpx.post(f"{url}{API}/orders/{number}/transition", json={"to": "99"})
    assert r.status_code == 409


def test_list_by_many_customers_counts_the_batch(clean_sims: dict[str, SimProcess]) -> None:
    url = clean_sims["workorders"].url
    world = seeded_world()
    customers = sorted({o.customer_no for o in world.work_orders})[:30]
    codes = ",".join(cust_code(n) for n in customers)
    r = httpx.get(f"{url}{API}/orders", params={"cust_code": codes, "size": 200})
    body = r.json()
    expected = sum(1 for o in world.work_orders if o.customer_no in customers)
    assert body["total"] >= expected  # tests may have created more for these customers
    assert {o["cust_code"] for o in body["list"]} <= {cust_code(n) for n in customers}
    stats = httpx.get(f"{url}/_sim/stats").json()
    assert stats["operations"]["listOrders"]["batch_sizes"] == [30]


def test_seeded_burst_has_crews_on_site(sims: dict[str, SimProcess]) -> None:
    world = seeded_world()
    burst = next(o for o in world.outages if o.kind == 2 and o.status == 1)
    on_burst = [o for o in world.work_orders if o.type_code == "102" and o.status == "05"]
    assert on_burst, "the active burst main should have repair orders in progress"
    r = httpx.get(f"{sims['workorders'].url}{API}/orders", params={"status": "05", "size": 200})
    numbers = {o["order_no"] for o in r.json()["list"]}
    assert {o.order_no for o in on_burst} <= numbers
    assert burst.main_ids


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"type": "XX"}, 40001),
        ({"urgency": "9"}, 40002),
        ({"description": ""}, 40003),
        ({"acct_no": "0000000000"}, 40005),
        ({"lon": "east"}, 40006),
        ({"grid_code": "WG-99"}, 40009),
        ({"worker_id": "W999"}, 40007),
        ({"client_ref": ""}, 40011),
        ({"client_ref": 42}, 40011),
        ({"client_sig": "x" * 129}, 40012),
    ],
)
def test_bad_creates_get_vendor_errors(
    sims: dict[str, SimProcess], body: dict[str, object], errcode: int
) -> None:
    r = _create(sims["workorders"].url, **body)
    assert r.status_code == 400
    assert r.json()["errcode"] == errcode and r.json()["errmsg"]


def test_bad_list_and_unknown_order(sims: dict[str, SimProcess]) -> None:
    url = sims["workorders"].url
    assert httpx.get(f"{url}{API}/orders", params={"status": "42"}).status_code == 400
    too_many = ",".join(f"KH-{n:08d}" for n in range(51))
    assert httpx.get(f"{url}{API}/orders", params={"cust_code": too_many}).status_code == 400
    r = httpx.get(f"{url}{API}/orders/GD000")
    assert r.status_code == 404 and r.json()["errcode"] == 40401
    r = httpx.post(f"{url}{API}/orders", content=b"[1,2")
    assert r.status_code == 400 and r.json()["errcode"] == 40000


def test_grids_list_every_worker(sims: dict[str, SimProcess]) -> None:
    grids = httpx.get(f"{sims['workorders'].url}{API}/grids").json()["list"]
    assert len(grids) == 16
    assert len({g["worker_id"] for g in grids}) == 16


def test_injected_errors(clean_sims: dict[str, SimProcess]) -> None:
    url = clean_sims["workorders"].url
    httpx.patch(f"{url}/_sim/faults", json={"ops": {"createOrder": {"error_rate": 1.0}}}).raise_for_status()
    r = _create(url)
    assert r.status_code == 503 and r.json()["errcode"] == 50301
    assert httpx.get(f"{url}{API}/grids").status_code == 200  # other operations unaffected


def test_a_child_order_hangs_under_its_master_and_is_listed_by_it(sims: dict[str, SimProcess]) -> None:
    url = sims["workorders"].url
    master = _create(url, type="BG").json()
    child = _create(url, type="BG", parent_no=master["order_no"])
    assert child.status_code == 201 and child.json()["parent_no"] == master["order_no"]
    listed = httpx.get(f"{url}{API}/orders", params={"parent_no": master["order_no"]}).json()
    assert [o["order_no"] for o in listed["list"]] == [child.json()["order_no"]]
    assert master["parent_no"] is None


def test_a_child_needs_a_master_that_is_no_child(sims: dict[str, SimProcess]) -> None:
    url = sims["workorders"].url
    unknown = _create(url, parent_no="GD000000000000")
    assert (unknown.status_code, unknown.json()["errcode"]) == (400, 40013)
    master = _create(url).json()
    child = _create(url, parent_no=master["order_no"]).json()
    grandchild = _create(url, parent_no=child["order_no"])
    assert (grandchild.status_code, grandchild.json()["errcode"]) == (400, 40014)
