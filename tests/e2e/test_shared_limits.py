"""Four BFF processes share one real redis-server's buckets: together they admit the limit, no more."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import Simulators
from tests.support.processes import BffProcess, start_bff
from tests.support.redis_server import start_redis

LIMITS = {"TIDEGATE_RATE_CLIENT_RPS": "0.01", "TIDEGATE_RATE_CLIENT_BURST": "100", "TIDEGATE_REPLICAS": "4"}
# 800 requests at once on a small shared machine can keep one decision from Redis past the default
# 250 ms, and the process then (rightly) admits from its local share: this test is about the shared
# bucket, so Redis gets all the time it needs (the fallback has tests of its own).
PATIENT = {"TIDEGATE_REDIS_TIMEOUT_MS": "5000", "TIDEGATE_RATE_REDIS_DEADLINE_MS": "10000"}


async def _fire(bff: BffProcess, n: int) -> list[int]:
    headers = {"Authorization": f"Bearer {bff.token('supervisor')}"}
    # A new connection per request: a kept-alive one can be closed by the server's keep-alive timer
    # just as the next request is sent, when a loaded machine stalls the process that long (a CI run
    # once got `ReadError` there); this test is about the bucket, not connection reuse.
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=bff.url, timeout=30, limits=limits) as client:
        replies = await asyncio.gather(
            *(client.post("/graphql", json={"query": "{ __typename }"}, headers=headers) for _ in range(n))
        )
    return [r.status_code for r in replies]


async def test_four_processes_admit_the_shared_burst_exactly(sims: Simulators) -> None:
    redis = start_redis()
    bffs: list[BffProcess] = []
    try:
        bffs = [start_bff(sims, env={**LIMITS, **PATIENT, "TIDEGATE_REDIS_URL": redis.url}) for _ in range(4)]
        # Each process has its own issuer key, but every token's subject is the same client,
        # so all four draw from one shared bucket, rl:client:workbench, in Redis.
        statuses = await asyncio.gather(*(_fire(bff, 200) for bff in bffs))
    finally:
        for bff in bffs:
            bff.stop()
        redis.stop()
    assert sorted({code for s in statuses for code in s}) == [200, 429]
    assert sum(s.count(200) for s in statuses) == 100, [s.count(200) for s in statuses]
