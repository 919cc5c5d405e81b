"""The shared Redis behind a Sentinel set (`TIDEGATE_REDIS_SENTINELS`): one master, one replica, one
sentinel, real processes. A BFF replica finds the master through the sentinel and is ready; then the
master dies (SIGKILL), the sentinel promotes the replica, and the same client (the BFF's own factory)
limits, keeps idempotency keys and carries the bus again within seconds, without a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest
import redis

from gateway.settings import Settings
from infra.fleet import Fleet
from infra.idempotency_store import RedisIdempotencyStore
from infra.pubsub import Message, RedisBus
from infra.redis_client import open_redis
from infra.resilience.gcra import Bucket, Limit, RedisGcra
from infra.resilience.ratelimit import RateLimiter
from tests.conftest import Simulators
from tests.support.processes import start_bff
from tests.support.redis_cluster import SentinelSet, start_sentinel_set

RECOVER_S = 15.0  # the sentinel's own failover (down after 1 s, then elect and promote) included


@pytest.fixture(scope="module")
def sentinel_set() -> Iterator[SentinelSet]:
    found = start_sentinel_set()
    try:
        yield found
    finally:
        found.stop()


def test_a_replica_finds_the_master_through_the_sentinel_and_is_ready(
    sims: Simulators, sentinel_set: SentinelSet
) -> None:
    bff = start_bff(sims, {"TIDEGATE_REDIS_SENTINELS": sentinel_set.addresses})
    try:
        ready = httpx.get(f"{bff.url}/readyz", timeout=10).json()
        assert ready["checks"]["redis"] == {"status": "up"}
        master = redis.Redis(port=sentinel_set.master.port)
        assert master.zcard("tidegate:fleet") == 1  # it announced itself on the master
        master.close()
    finally:
        bff.stop()


async def _within(seconds: float, what: str, check: Callable[[], Awaitable[bool]]) -> float:
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


async def test_a_replica_follows_the_sentinel_failover_without_a_restart(sentinel_set: SentinelSet) -> None:
    target = Settings(redis_sentinels=sentinel_set.addresses).redis.target()
    client = open_redis(target)  # as the BFF makes it: 100 ms timeouts, no retries
    assert client is not None
    limiter = RateLimiter(RedisGcra(client), probe_interval_s=0.2)
    bucket = Bucket("rl:global", Limit(rate_per_s=1_000.0, burst=1_000))
    idempotency = RedisIdempotencyStore(client)
    bus = RedisBus(client, heartbeat_s=0.2, retry_max_s=0.2)
    fleet = Fleet(client, member="sentinel", heartbeat_s=0.1, ttl_s=2.0)
    received: list[Message] = []
    try:
        async with bus.subscribe("ticket:T1") as messages:

            async def collect() -> None:
                async for message in messages:
                    received.append(message)

            reader = asyncio.create_task(collect())
            assert (await limiter.acquire([bucket])).shared
            old = sentinel_set.master_port()
            sentinel_set.master.proc.kill()
            sentinel_set.master.proc.wait()
            assert (await limiter.acquire([bucket])).allowed  # the outage: answered locally

            async def promoted() -> bool:
                return await asyncio.to_thread(sentinel_set.master_port) != old

            async def limits_shared() -> bool:
                return (await limiter.acquire([bucket])).shared

            async def claims() -> bool:
                await idempotency.claim("k1", "fp", lease_s=5, ttl_s=60)
                return True

            async def bus_delivers() -> bool:
                await bus.publish("ticket:T1", {"n": 1})
                await asyncio.sleep(0.1)
                return {"n": 1} in received

            async def fleet_counts() -> bool:
                return await fleet.beat() == 1

            took = {"promoted": await _within(RECOVER_S, "the replica promoted", promoted)}
            assert sentinel_set.master_port() == sentinel_set.replica.port
            took["limits"] = await _within(5, "rate limits shared again", limits_shared)
            took["idempotency"] = await _within(5, "idempotency keys claimed", claims)
            took["fleet"] = await _within(5, "the fleet counted", fleet_counts)
            took["bus"] = await _within(5, "the bus delivering again", bus_delivers)
            reader.cancel()
    finally:
        await fleet.aclose()
        await bus.aclose()
        await client.aclose()
    print(f"after the master's kill (s): {took}")
