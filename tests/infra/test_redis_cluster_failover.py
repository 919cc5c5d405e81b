"""A Redis Cluster master dies (SIGKILL) under a running replica's Redis users, all on the one client
the BFF makes (`infra.redis_client.cluster_client`, fail-fast, one retry): while its replica is
promoted they degrade as with any outage (the limiter answers from its local share, stores raise
their "unavailable" or read as misses), and once it is promoted the same client, limiter, bus,
stores and fleet work again within seconds, with no restart.

Three masters with a replica each, module-scoped: only this test needs replicas.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from infra.cache.store import Entry, RedisStore
from infra.fleet import Fleet
from infra.idempotency_store import IdempotencyStoreUnavailable, RedisIdempotencyStore
from infra.pubsub import SHARD_TAG, Message, RedisBus
from infra.redis_client import RedisClient, cluster_client
from infra.resilience.gcra import Bucket, Limit, RedisGcra
from infra.resilience.ratelimit import RateLimiter
from tests.support.redis_cluster import RedisClusterProcesses, start_cluster

RL_SLOT = "tidegate:{rl}:"  # the GCRA buckets' slot; the bus's and the fleet's share its master here
RECOVER_S = 10.0  # "within a few seconds" of the promotion, with room for a loaded CI machine


@pytest.fixture(scope="module")
def replicated_cluster() -> Iterator[RedisClusterProcesses]:
    cluster = start_cluster(replicas=1)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def client(replicated_cluster: RedisClusterProcesses) -> AsyncIterator[RedisClient]:
    client = cluster_client(replicated_cluster.startup_nodes())  # the BFF's: 100 ms timeouts
    yield client
    await client.aclose()


async def _within(seconds: float, what: str, check: Callable[[], Awaitable[bool]]) -> float:
    """Seconds until `check()` holds (an exception counts as not yet); fails after `seconds`."""
    start = time.monotonic()
    while True:
        try:
            if await check():
                return time.monotonic() - start
        except Exception:  # the outage's errors: not yet
            pass
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.05)


def _key_on(cluster: RedisClusterProcesses, port: int, prefix: str) -> str:
    """A key under `prefix` whose slot the master on `port` serves."""
    return next(f"k{n}" for n in range(10_000) if cluster.master_port_of(f"{prefix}k{n}") == port)


async def test_cluster_failover_limits_stores_bus_and_fleet_recover_without_a_restart(
    replicated_cluster: RedisClusterProcesses, client: RedisClient
) -> None:
    cluster = replicated_cluster
    limiter = RateLimiter(RedisGcra(client), probe_interval_s=0.2)
    bucket = Bucket("rl:global", Limit(rate_per_s=1_000.0, burst=1_000))
    bus = RedisBus(client, heartbeat_s=0.2, retry_max_s=0.2)
    cache = RedisStore(client)
    idempotency = RedisIdempotencyStore(client)
    fleet = Fleet(client, member="failover", heartbeat_s=0.1, ttl_s=2.0)
    doomed = cluster.master_port_of(RL_SLOT)
    assert cluster.master_port_of(SHARD_TAG) == cluster.master_port_of(fleet.key) == doomed
    idem_key = _key_on(cluster, doomed, "tidegate:idem:")
    await fleet.start()
    try:
        async with bus.subscribe("ticket:T1") as messages:
            received: list[Message] = []
            reader = asyncio.create_task(_collect(messages, received))
            assert (await limiter.acquire([bucket])).shared
            await bus.publish("ticket:T1", {"n": 0})
            await _within(5, "the bus delivering", lambda: _arrived(received, 0))
            await cache.set("tariffs", Entry(1.0, "before"), 60)

            assert cluster.kill_master_of(RL_SLOT) == doomed
            # While the slot has no master: a local answer, a miss, an "unavailable", never a hang.
            async with asyncio.timeout(2):
                outage = await limiter.acquire([bucket])
                assert outage.allowed and not outage.shared
                assert await cache.get("tariffs") is None
                with pytest.raises(IdempotencyStoreUnavailable):
                    await idempotency.claim(idem_key, "fp", lease_s=5, ttl_s=60)
            killed_at = time.monotonic()
            promoted = cluster.wait_promoted(RL_SLOT, doomed)
            promoted_after = time.monotonic() - killed_at
            assert promoted != doomed

            async def limits_shared() -> bool:
                return (await limiter.acquire([bucket])).shared

            async def bus_delivers() -> bool:
                await bus.publish("ticket:T1", {"n": 1})
                await asyncio.sleep(0.1)
                return await _arrived(received, 1)

            async def claims() -> bool:
                claim = await idempotency.claim(idem_key, "fp", lease_s=5, ttl_s=60)
                return claim is not None

            async def cache_writes() -> bool:
                await cache.set("tariffs", Entry(2.0, "after"), 60)
                found = await cache.get("tariffs")
                return found is not None and found.payload == "after"

            async def fleet_counts() -> bool:
                return await fleet.beat() == 1

            took = {
                "limits": await _within(RECOVER_S, "rate limits shared again", limits_shared),
                "idempotency": await _within(RECOVER_S, "idempotency keys claimed", claims),
                "cache": await _within(RECOVER_S, "the cache written and read", cache_writes),
                "fleet": await _within(RECOVER_S, "the fleet counted", fleet_counts),
                "bus": await _within(RECOVER_S, "the bus delivering again", bus_delivers),
            }
            reader.cancel()
    finally:
        await fleet.aclose()
        await bus.aclose()
    print(f"promoted {promoted_after:.1f} s after the kill; then working again after (s): {took}")


async def _collect(messages: AsyncIterator[Message], into: list[Message]) -> None:
    async for message in messages:
        into.append(message)


async def _arrived(received: list[Message], n: int) -> bool:
    return {"n": n} in received
