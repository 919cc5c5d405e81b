"""Stale data is marked for what it is: `extensions.stale` lists the paths and ages, and the types say
"as of". Through the whole app against the real simulators."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import Simulators
from tests.gateway.conftest import TEST_KEYS, bearer, serve
from tests.support.admin import set_faults, stats
from tests.support.world import seeded_world

POP = """query ScreenPop($phone: String!) {
  customerByPhone(phone: $phone) {
    id
    accounts { accountNo balance { fen } freshness { asOf ageSeconds stale } }
    activeOutages { id }
  }
}"""


def _settings(sims: Simulators, **extra: Any) -> Settings:
    urls: dict[str, Any] = {f"{n}_url": sims[n].url for n in ("billing", "crm", "gis", "workorders")}
    # Accounts go stale after 50 ms and may stand in for an hour when billing is late or failing.
    knobs: dict[str, Any] = {
        "cache_accounts_ttl_s": 0.05,
        "cache_accounts_swr_s": 0,
        "cache_accounts_sie_s": 3_600,
        "billing_timeout_s": 5.0,
    }
    return Settings(**{**urls, **knobs, **extra})


def _caller() -> str:
    """A mobile only one customer has, whose customer holds two accounts or more."""
    world = seeded_world()
    for c in world.customers:
        if (
            c.mobile
            and len(world.customers_by_phone[c.mobile]) == 1
            and len(world.accounts_of[c.customer_no]) > 1
        ):
            return c.mobile
    raise AssertionError("the seeded world has no such customer")


async def test_a_late_billing_is_covered_by_stale_accounts_marked_in_extensions(
    clean_sims: Simulators,
) -> None:
    phone = _caller()
    app = create_app(_settings(clean_sims), keys=TEST_KEYS)
    async with serve(app, headers=bearer("supervisor")) as client:
        first = (await client.post("/graphql", json={"query": POP, "variables": {"phone": phone}})).json()
        assert "errors" not in first and "stale" not in first.get("extensions", {})
        fresh = first["data"]["customerByPhone"][0]["accounts"]
        assert all(a["freshness"]["stale"] is False for a in fresh)

        await asyncio.sleep(0.1)  # past the accounts' 50 ms freshness
        set_faults(clean_sims["billing"].url, ops={"GetAccounts": {"latency_ms": 1_000}})
        r = await client.post("/graphql", json={"query": POP, "variables": {"phone": phone}})
    body = r.json()
    assert r.status_code == 200 and "errors" not in body  # nothing missing: the cache stood in
    pops = body["data"]["customerByPhone"]
    accounts = pops[0]["accounts"]
    assert [a["balance"] for a in accounts] == [a["balance"] for a in fresh]
    assert all(a["freshness"]["stale"] is True and a["freshness"]["ageSeconds"] > 0 for a in accounts)
    as_of = datetime.fromisoformat(accounts[0]["freshness"]["asOf"])
    assert as_of.utcoffset() is not None and as_of.isoformat().endswith("+08:00")
    stale = body["extensions"]["stale"]
    assert [s["path"] for s in stale] == [["customerByPhone", 0, "accounts", i] for i in range(len(accounts))]
    assert all(s["ageSeconds"] > 0 and s["asOf"].endswith("+08:00") for s in stale)
    # The late answer was still awaited (detached from the request) and cached: 2 calls, not more.
    assert stats(clean_sims["billing"].url)["operations"]["GetAccounts"]["requests"] == 2


async def test_without_protection_nothing_is_cached(clean_sims: Simulators) -> None:
    phone = _caller()
    app = create_app(_settings(clean_sims, protection=False), keys=TEST_KEYS)
    async with serve(app, headers=bearer("supervisor")) as client:
        for _ in range(3):
            r = await client.post("/graphql", json={"query": POP, "variables": {"phone": phone}})
            assert r.status_code == 200 and "errors" not in r.json()
    assert stats(clean_sims["billing"].url)["operations"]["GetAccounts"]["requests"] == 3
    assert stats(clean_sims["gis"].url)["operations"]["query:4"]["requests"] == 3


async def test_with_protection_repeat_pops_reuse_the_cache(clean_sims: Simulators) -> None:
    phone = _caller()
    # A budget no busy machine misses: this test counts cache reuse, not deadlines.
    app = create_app(
        _settings(clean_sims, cache_accounts_ttl_s=60, budget_critical_ms=10_000), keys=TEST_KEYS
    )
    async with serve(app, headers=bearer("supervisor")) as client:
        for _ in range(3):
            r = await client.post("/graphql", json={"query": POP, "variables": {"phone": phone}})
            assert r.status_code == 200 and "errors" not in r.json()
    assert stats(clean_sims["billing"].url)["operations"]["GetAccounts"]["requests"] == 1
    assert stats(clean_sims["gis"].url)["operations"]["query:4"]["requests"] == 1
