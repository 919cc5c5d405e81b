"""The surge mix through three replicas at once: billing, counted at its simulator, never sees more
calls in flight than its pool nor more calls a second than the fleet's budget, and the critical
work (screen pops, tickets) still succeeds.

Each replica holds a third of billing's bulkhead (the fleet counts itself in Redis) and all draw on
one rate budget in Redis. The arrivals are `bench/surge.py`'s own (Poisson, a tenfold surge, repeat
callers), spread over the replicas round-robin as a balancer would. Once on one redis-server, once
on a Redis Cluster. Counts and shares only: latencies are printed, not judged.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.stack import bearer
from bench.surge import NORMAL_RATES, drive, request_body
from bench.surge_mix import burst_area, callers, schedule
from tests.conftest import Simulators
from tests.e2e.test_fleet import billing_guards, eventually
from tests.support.admin import reset_stats, set_faults, stats
from tests.support.processes import BffProcess, start_bff
from tests.support.world import seeded_world

PHASES = (("normal", 2.0, 1.0), ("surge", 6.0, 10.0), ("recovery", 2.0, 1.0))
BILLING_POOL = 20  # the simulator's pool: its capacity
BILLING_BUDGET_RPS, BILLING_BURST = 50.0, 10  # the fleet's defaults (TIDEGATE_BILLING_MAX_RPS, _RPS_BURST)
AGENTS = 20

# It judges how many pops meet their 300 ms deadline under the load it makes: `make test` runs it
# after the parallel suite, alone, so other tests' processes do not take its CPU (Makefile, `solo`).
pytestmark = pytest.mark.solo


async def test_fleet_of_three_holds_billing_to_its_pool_and_budget_through_a_surge(
    clean_sims: Simulators, fleet_redis: dict[str, str], tmp_path: Path
) -> None:
    for name in ("billing", "crm", "gis", "workorders"):  # started before the BFFs, which use all four
        sim = clean_sims[name]  # with real latencies, so calls pile up as they would
        set_faults(sim.url, latency_scale=1.0)
    key = tmp_path / "issuer-key.pem"  # one issuer key: a token is good on every replica
    env = {
        **fleet_redis,  # one redis-server, or a three-master Redis Cluster
        "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key),
        "TIDEGATE_BUDGET_CRITICAL_MS": "300",  # the real screen-pop deadline
        "TIDEGATE_LOG_LEVEL": "WARNING",
    }
    bffs: list[BffProcess] = []
    try:
        bffs = [start_bff(clean_sims, env) for _ in range(3)]
        eventually(
            lambda: all(billing_guards(b)["maxConcurrent"] == 5 for b in bffs),
            "each replica holds its third of billing's bulkhead",
        )
        world = seeded_world()
        plan = schedule(dict(NORMAL_RATES), PHASES, callers(world), 0.3, seed=7)
        bodies = [request_body(a, i, burst_area(world)) for i, a in enumerate(plan)]
        tokens = [bearer(key, f"fleet-agent-{n:02d}") for n in range(AGENTS)]
        billing = clean_sims["billing"].url
        reset_stats(billing)
        outcomes, loadgen = await drive([f"{b.url}/graphql" for b in bffs], plan, bodies, tokens, 10.0)
        counted = stats(billing)
    finally:
        for b in bffs:
            b.stop()

    failures = Counter((o.kind.name, o.codes[:1]) for o in outcomes if not o.success)
    critical = [o for o in outcomes if o.kind.op_class == "critical"]
    succeeded = sum(o.success for o in critical)
    surge_calls = sum(1 for a in plan if a.phase == "surge")
    print(
        f"\nfleet surge: {len(plan)} arrivals ({surge_calls} in the surge) over 3 replicas; billing "
        f"{counted['requests']} calls, peak {counted['peak_in_flight']} in flight (pool {BILLING_POOL}), "
        f"peak {counted['peak_rps']}/s (budget {BILLING_BUDGET_RPS:g}/s + burst {BILLING_BURST}); "
        f"critical {succeeded}/{len(critical)}; failed {dict(failures)}; loadgen {loadgen}"
    )
    assert surge_calls > 300 and counted["requests"] > 100  # the surge reached billing
    assert counted["peak_in_flight"] <= BILLING_POOL
    # Counted where the calls arrive: a few admitted at a second's edge may land in the next (+10%).
    assert counted["peak_rps"] <= (BILLING_BUDGET_RPS + BILLING_BURST) * 1.1
    # The 99.9% goal is judged by `bench/surge.py`. Here three replicas, the four simulators, Redis
    # (or a cluster's three masters) and the load generator still share two cores, so a pop's 300 ms
    # deadline can pass for want of CPU: allow 1%. Run inside the parallel suite, CI runs lost 1, 3, 6
    # and once 10 of ~217; run alone, none (a run that loses more gets the process tests' one rerun,
    # tests/conftest.py). Without the protection about half the critical answers fail, so the check
    # still tells them apart.
    assert succeeded >= 0.99 * len(critical)
