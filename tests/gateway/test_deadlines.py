"""A late backend costs its own fields, not the screen pop: the operation's budget cuts it off."""

from __future__ import annotations

from pathlib import Path

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import Simulators
from tests.gateway.conftest import TEST_KEYS, bearer, serve
from tests.support.admin import set_faults, stats
from tests.support.world import seeded_world

SCREEN_POP = (Path(__file__).parents[2] / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")


async def test_a_slow_billing_yields_partial_data_within_the_budget(clean_sims: Simulators) -> None:
    # A budget generous enough for the CRM on a loaded CI machine, far below billing's delay.
    set_faults(clean_sims["billing"].url, ops={"GetAccounts": {"latency_ms": 6_000}})
    urls = {f"{n}_url": clean_sims[n].url for n in ("billing", "crm", "gis", "workorders")}
    settings = Settings(**urls, budget_critical_ms=1_500, billing_timeout_s=8.0)
    customer = next(c for c in seeded_world().customers if c.mobile)
    async with serve(create_app(settings, keys=TEST_KEYS), headers=bearer("supervisor")) as client:
        r = await client.post("/graphql", json={"query": SCREEN_POP, "variables": {"phone": customer.mobile}})
    body = r.json()
    assert r.status_code == 200
    (pop,) = [p for p in body["data"]["customerByPhone"] if p["id"] == f"KH{customer.customer_no:08d}"]
    assert pop["name"] and pop["interactions"] is not None  # the CRM answered in time
    late = {e["extensions"]["code"] for e in body["errors"] if ".accounts." in ".".join(map(str, e["path"]))}
    assert late == {"BACKEND_TIMEOUT"}
    assert pop["accounts"][0]["balance"] is None and pop["accounts"][0]["accountNo"]
    assert stats(clean_sims["billing"].url)["operations"]["GetAccounts"]["requests"] == 1
