"""Redis killed for ten seconds under load, then started again empty, under a fleet of three
replicas: no request fails for want of Redis (admission falls back to each replica's share of the
limits, the read cache to the back offices), the fleet admits no more than the shared limit plus
one window of local shares while Redis is away and while the replicas find it again (each probes
once a second, and charges what it admitted alone to the shared buckets before it uses them), and
nothing past the shared limit once all are back. (The exact proof that the way back adds nothing,
four replicas probing in lock-step, is `tests/infra/test_ratelimit.py`; here the replicas return
at their own moments under load, as in service.)

One client sends three times its limit, spread over the replicas; agents send screen pops well
within theirs. Admissions are counted per phase by the time each request was sent: a bound on
how many the buckets may admit in that span (rate x seconds + burst), not a latency.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.stack import bearer
from tests.conftest import Simulators
from tests.e2e.test_fleet import billing_guards, eventually
from tests.support.processes import BffProcess, start_bff
from tests.support.redis_server import RedisProcess, _launch, start_redis
from tests.support.world import seeded_world

LIMIT_RPS, BURST = 20, 20  # the hammering client's limit, fleet-wide
SEND_RPS = 60  # what it sends: three times its limit
POPS_RPS = 5
# Requests are counted by when they were sent, the buckets decide when they arrive: a few sent just
# before a phase's end may be decided in the next one.
EDGE = 3
PROBE_S = 1.0  # how often a replica in fallback tries Redis (infra.resilience.ratelimit)
BEFORE_S, DOWN_S, AFTER_S = 3.0, 10.0, 5.0
POP = "query ScreenPop($p: String!) { customerByPhone(phone: $p) { id name } }"


@dataclass
class Sent:
    at: float  # since the start, when it was sent
    admitted: bool


@dataclass
class Log:
    hammer: list[Sent] = field(default_factory=list)
    pops: list[tuple[float, int, str]] = field(default_factory=list)  # (at, status, first error code)


async def _hammer(
    client: httpx.AsyncClient, urls: list[str], auth: dict[str, str], log: Log, t0: float
) -> None:
    async def one(url: str, at: float) -> None:
        r = await client.post(url, json={"query": "{ __typename }"}, headers=auth)
        assert r.status_code in (200, 429), r.text
        log.hammer.append(Sent(at, r.status_code == 200))

    tasks = []
    for n in range(int((BEFORE_S + DOWN_S + AFTER_S) * SEND_RPS)):
        due = t0 + n / SEND_RPS
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        tasks.append(asyncio.create_task(one(urls[n % len(urls)], time.monotonic() - t0)))
    await asyncio.gather(*tasks)


async def _pops(
    client: httpx.AsyncClient, urls: list[str], auth: dict[str, str], log: Log, t0: float
) -> None:
    phones = [c.mobile for c in seeded_world().customers if c.mobile][:200]

    async def one(url: str, phone: str, at: float) -> None:
        r = await client.post(url, json={"query": POP, "variables": {"p": phone}}, headers=auth)
        errors = r.json().get("errors") or [{}]
        log.pops.append((at, r.status_code, errors[0].get("extensions", {}).get("code", "")))

    tasks = []
    for n in range(int((BEFORE_S + DOWN_S + AFTER_S) * POPS_RPS)):
        due = t0 + n / POPS_RPS
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        phone = phones[n % len(phones)]
        tasks.append(asyncio.create_task(one(urls[n % len(urls)], phone, time.monotonic() - t0)))
    await asyncio.gather(*tasks)


async def _outage(redis: RedisProcess, t0: float) -> tuple[float, float]:
    """Kill Redis BEFORE_S in, start it again (empty, same port) DOWN_S later: (killed, back) offsets."""
    await asyncio.sleep(max(0.0, t0 + BEFORE_S - time.monotonic()))
    redis.kill()
    killed = time.monotonic() - t0
    await asyncio.sleep(max(0.0, t0 + BEFORE_S + DOWN_S - time.monotonic()))
    redis.proc = await asyncio.to_thread(_launch, redis.port)
    return killed, time.monotonic() - t0


async def test_fleet_rides_out_a_redis_outage_without_failures_or_overshoot(
    sims: Simulators, tmp_path: Path
) -> None:
    for name in ("billing", "crm", "gis", "workorders"):
        _ = sims[name]  # started before the BFFs, which use all four
    redis = start_redis()
    key = tmp_path / "issuer-key.pem"
    env = {
        "TIDEGATE_REDIS_URL": redis.url,
        "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key),
        "TIDEGATE_RATE_CLIENT_RPS": str(LIMIT_RPS),
        "TIDEGATE_RATE_CLIENT_BURST": str(BURST),
        "TIDEGATE_REPLICAS": "3",  # the fleet's floor: its local shares stay thirds while Redis is away
        "TIDEGATE_LOG_LEVEL": "WARNING",
    }
    bffs: list[BffProcess] = []
    log = Log()
    try:
        bffs = [start_bff(sims, env) for _ in range(3)]
        eventually(lambda: all(billing_guards(b)["maxConcurrent"] == 5 for b in bffs), "a fleet of three")
        urls = [f"{b.url}/graphql" for b in bffs]
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            t0 = time.monotonic()
            (killed, back), _, _ = await asyncio.gather(
                _outage(redis, t0),
                _hammer(client, urls, bearer(key, "hammer"), log, t0),
                _pops(client, urls, bearer(key, "agents"), log, t0),
            )
    finally:
        for b in bffs:
            b.stop()
        redis.stop()

    def admitted(start: float, end: float) -> int:
        return sum(1 for s in log.hammer if start <= s.at < end and s.admitted)

    end = BEFORE_S + DOWN_S + AFTER_S
    settled = back + PROBE_S + 0.5  # every replica has probed and gone back to the shared buckets
    before, during = admitted(0, killed), admitted(killed, back)
    returning, after = admitted(back, settled), admitted(settled, end)
    pop_failures = [p for p in log.pops if p[1] != 200 or p[2]]
    print(
        f"\nredis outage {killed:.1f}-{back:.1f} s: hammer admitted {before} before, {during} while down, "
        f"{returning} while the replicas returned, {after} after (of {len(log.hammer)} sent at "
        f"{SEND_RPS}/s, limit {LIMIT_RPS}/s burst {BURST}); "
        f"{len(log.pops)} screen pops, failed: {pop_failures}"
    )
    assert len(log.pops) == int(end * POPS_RPS) and pop_failures == []  # no pop failed for want of Redis
    # With Redis: the shared bucket. While it is away and the replicas return: the limit plus one
    # window of local shares (three thirds of the burst). Once all are back: the limit, nothing more
    # (the demand keeps the shared bucket drained, so a window admits its rate, +1 for the edges).
    assert before <= LIMIT_RPS * killed + BURST + EDGE
    assert during + returning <= LIMIT_RPS * (settled - killed) + 2 * BURST + EDGE
    assert after <= LIMIT_RPS * (end - settled) + 1 + EDGE
    assert during > LIMIT_RPS * (back - killed) / 2  # the fallback admitted: Redis's absence refused nobody
