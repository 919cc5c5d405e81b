"""The CRM simulator as a real process: its own ids, formatted phones, int account numbers."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from simulators.crm.records import contact_id
from simulators.world import phone_key
from tests.support.processes import SimProcess
from tests.support.world import seeded_world

API = "/crm/api/v2"


def _shared_mobile() -> tuple[str, list[int]]:
    world = seeded_world()
    for digits, owners in world.customers_by_phone.items():
        if len(owners) > 1 and len(digits) == 11:
            return digits, owners
    raise AssertionError("the seeded world has no shared mobile")


def test_lookup_by_phone_finds_every_customer_sharing_it(sims: dict[str, SimProcess]) -> None:
    digits, owners = _shared_mobile()
    r = httpx.get(f"{sims['crm'].url}{API}/contacts", params={"phone": digits})
    assert r.status_code == 200
    items = r.json()["items"]
    assert sorted(i["customerNo"] for i in items) == sorted(owners)
    for item in items:
        assert item["id"] == contact_id(item["customerNo"])
        numbers = [phone_key(p["number"]) for p in item["phones"]]
        # Stored the CRM's way: "+86 138 1234 5678", so the digits carry the country code.
        assert "86" + digits in numbers
        assert all(p["number"].startswith(("+86 ", "(")) for p in item["phones"])


def test_accounts_are_ints_without_leading_zeros(sims: dict[str, SimProcess]) -> None:
    world = seeded_world()
    account = world.accounts[0]
    r = httpx.get(f"{sims['crm'].url}{API}/contacts", params={"accountNo": account.account_no})
    (item,) = r.json()["items"]
    assert item["customerNo"] == account.customer_no
    assert int(account.account_no) in item["accounts"]
    assert account.account_no.startswith("00") and isinstance(item["accounts"][0], int)


def test_histories_are_epoch_seconds_newest_first(sims: dict[str, SimProcess]) -> None:
    world = seeded_world()
    customer = next(c for c in world.customers if len(world.interactions(c.customer_no)) >= 3)
    cid = contact_id(customer.customer_no)
    r = httpx.get(f"{sims['crm'].url}{API}/contacts/{cid}/interactions", params={"limit": 3})
    items = r.json()["items"]
    assert len(items) == 3
    stamps = [i["createdAt"] for i in items]
    assert stamps == sorted(stamps, reverse=True)
    assert all(isinstance(s, int) and 1_500_000_000 < s < 2_000_000_000 for s in stamps)
    assert {i["channel"] for i in items} <= {"TEL", "WX", "GT", "APP", "12345"}


def test_batch_endpoints_record_batch_sizes(clean_sims: dict[str, SimProcess]) -> None:
    url = clean_sims["crm"].url
    ids = [contact_id(c.customer_no) for c in seeded_world().customers[:37]] + ["CT99999999"]
    r = httpx.post(f"{url}{API}/contacts:batchGet", json={"ids": ids})
    assert r.status_code == 200
    assert len(r.json()["items"]) == 37 and r.json()["missing"] == ["CT99999999"]
    r = httpx.post(f"{url}{API}/interactions:batchQuery", json={"contactIds": ids[:12], "limitPerContact": 2})
    assert set(r.json()["results"]) == set(ids[:12])
    assert all(len(v) <= 2 for v in r.json()["results"].values())
    ops = httpx.get(f"{url}/_sim/stats").json()["operations"]
    assert ops["batchGetContacts"]["batch_sizes"] == [38]
    assert ops["batchQueryInteractions"]["batch_sizes"] == [12]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "/contacts", {"params": {"phone": "+86 138"}}, 400, "INVALID_ARGUMENT"),
        ("GET", "/contacts", {}, 400, "INVALID_ARGUMENT"),
        ("GET", "/contacts/CT00000000", {}, 404, "NOT_FOUND"),
        ("POST", "/contacts:batchGet", {"content": b"{not json"}, 400, "INVALID_ARGUMENT"),
        ("POST", "/contacts:batchGet", {"json": {"ids": ["x"] * 101}}, 400, "INVALID_ARGUMENT"),
        (
            "POST",
            "/interactions:batchQuery",
            {"json": {"contactIds": ["x"], "limitPerContact": 0}},
            400,
            "INVALID_ARGUMENT",
        ),
    ],
)
def test_bad_requests_get_rest_errors(
    sims: dict[str, SimProcess], method: str, path: str, kwargs: dict[str, object], status: int, code: str
) -> None:
    r = httpx.request(method, f"{sims['crm'].url}{API}{path}", **kwargs)  # type: ignore[arg-type]
    assert r.status_code == status
    assert r.json()["code"] == code and r.json()["message"]


def test_add_note_appears_in_history(clean_sims: dict[str, SimProcess]) -> None:
    url = clean_sims["crm"].url
    cid = contact_id(seeded_world().customers[10].customer_no)
    r = httpx.post(f"{url}{API}/contacts/{cid}/notes", json={"text": "客户来电询问停水", "agentId": "A1001"})
    assert r.status_code == 201
    note = r.json()["interaction"]
    assert note["type"] == "BZ"
    latest = httpx.get(f"{url}{API}/contacts/{cid}/interactions", params={"limit": 1}).json()["items"][0]
    assert latest["id"] == note["id"]
    bad = httpx.post(f"{url}{API}/contacts/{cid}/notes", json={"text": "", "agentId": "A1001"})
    assert bad.status_code == 400


def test_injected_faults_answer_503_and_garbled_json(clean_sims: dict[str, SimProcess]) -> None:
    url = clean_sims["crm"].url
    cid = contact_id(seeded_world().customers[0].customer_no)
    httpx.patch(f"{url}/_sim/faults", json={"error_rate": 1.0}).raise_for_status()
    r = httpx.get(f"{url}{API}/contacts/{cid}")
    assert r.status_code == 503 and r.json()["code"] == "SERVICE_UNAVAILABLE"
    httpx.patch(f"{url}/_sim/faults", json={"error_rate": 0.0, "garble_rate": 1.0}).raise_for_status()
    r = httpx.get(f"{url}{API}/contacts/{cid}")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    stats = httpx.get(f"{url}/_sim/stats").json()
    assert stats["errors_by_kind"] == {"injected_error": 1, "garbled": 1}


def test_timeouts_hang_then_answer_504(clean_sims: dict[str, SimProcess]) -> None:
    url = clean_sims["crm"].url
    cid = contact_id(seeded_world().customers[0].customer_no)
    httpx.patch(f"{url}/_sim/faults", json={"timeout_rate": 1.0, "hang_ms": 300}).raise_for_status()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{url}{API}/contacts/{cid}", timeout=0.1)
    r = httpx.get(f"{url}{API}/contacts/{cid}", timeout=5)
    assert r.status_code == 504


def test_fault_settings_are_validated(clean_sims: dict[str, SimProcess]) -> None:
    url = clean_sims["crm"].url
    r = httpx.patch(f"{url}/_sim/faults", json={"error_rate": 2})
    assert r.status_code == 422 and r.json()["details"][0]["loc"] == ["error_rate"]
    r = httpx.patch(f"{url}/_sim/faults", json={"no_such_knob": 1})
    assert r.status_code == 422
    assert httpx.get(f"{url}/_sim/faults").json()["error_rate"] == 0.0


async def test_concurrency_is_counted(clean_sims: dict[str, SimProcess]) -> None:
    cid = contact_id(seeded_world().customers[0].customer_no)
    async with httpx.AsyncClient(base_url=clean_sims["crm"].url) as client:
        slow = {"ops": {"getContact": {"latency_ms": 200}}}
        (await client.patch("/_sim/faults", json=slow)).raise_for_status()
        replies = await asyncio.gather(*(client.get(f"{API}/contacts/{cid}") for _ in range(8)))
        stats = (await client.get("/_sim/stats")).json()
    assert all(r.status_code == 200 for r in replies)
    assert stats["operations"]["getContact"]["peak_concurrency"] == 8
    assert stats["peak_concurrency"] == 8


def test_access_log_carries_traceparent(sims: dict[str, SimProcess]) -> None:
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    cid = contact_id(seeded_world().customers[3].customer_no)
    httpx.get(f"{sims['crm'].url}{API}/contacts/{cid}", headers={"traceparent": tp})
    lines = [ln for ln in sims["crm"].log().splitlines() if tp in ln]
    assert lines and '"op": "getContact"' in lines[-1]


def test_bulk_search_by_customer_numbers(clean_sims: dict[str, SimProcess]) -> None:
    url = clean_sims["crm"].url
    numbers = [c.customer_no for c in seeded_world().customers[:60]]
    r = httpx.post(f"{url}{API}/contacts:search", json={"customerNos": [*numbers, numbers[0], 99_999_999]})
    assert r.status_code == 200
    assert [i["customerNo"] for i in r.json()["items"]] == numbers
    assert r.json()["missing"] == [99_999_999]
    assert httpx.get(f"{url}/_sim/stats").json()["operations"]["searchContactsBulk"]["batch_sizes"] == [62]
    bad = httpx.post(f"{url}{API}/contacts:search", json={"customerNos": ["1"]})
    assert bad.status_code == 400
