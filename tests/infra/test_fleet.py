"""The fleet against a real redis-server: replicas announce themselves, the count follows joins,
clean leaves and crashes, and a Redis outage leaves the last count standing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from infra.fleet import Fleet
from infra.redis_client import RedisClient
from infra.resilience.bulkhead import Bulkhead, BulkheadConfig
from infra.resilience.priority import operation_class
from infra.resilience.rate_budget import RateBudget, RateBudgetConfig
from tests.support.redis_cluster import shared_client
from tests.support.redis_server import RedisProcess


def fast(redis: RedisClient | None, member: str, floor: int = 1) -> Fleet:
    """A fleet that beats every 50 ms and forgets a silent replica after 300 ms."""
    return Fleet(redis, floor=floor, member=member, heartbeat_s=0.05, ttl_s=0.3)


@pytest.fixture(params=["redis", "cluster"])
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[RedisClient]:
    """The fleet's key on a single server and on a three-master cluster (one key: any slot will do)."""
    client = shared_client(request, request.param, timeout_s=0.5)
    if request.param == "redis":
        await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


async def _settle(fleet: Fleet, size: int) -> None:
    for _ in range(200):
        if fleet.size == size:
            return
        await asyncio.sleep(0.02)
    members = await fleet.redis.zrange(fleet.key, 0, -1) if fleet.redis is not None else []
    raise AssertionError(f"fleet size stayed {fleet.size}, expected {size}: {members}")


async def test_replicas_count_each_other_and_a_clean_leave_is_seen(redis: RedisClient) -> None:
    seen: list[int] = []
    a, b, c = (fast(redis, name) for name in "abc")
    try:
        await a.start()
        a.on_size(seen.append)
        assert a.size == 1
        await b.start()
        await c.start()
        for fleet in (a, b, c):
            await _settle(fleet, 3)
        await c.aclose()
        await _settle(a, 2)
        await _settle(b, 2)
        assert seen in ([1, 2, 3, 2], [1, 3, 2])  # a's beats may see b and c join together
    finally:
        for fleet in (a, b, c):
            await fleet.aclose()
    assert await redis.zcard("tidegate:fleet") == 0


async def test_a_replica_that_dies_drops_out_after_its_ttl(redis: RedisClient) -> None:
    alive, dead = fast(redis, "alive"), fast(redis, "dead")
    try:
        await alive.start()
        await dead.start()
        await _settle(alive, 2)
        assert dead._task is not None
        dead._task.cancel()  # a crash: no more beats, and no leave
        await _settle(alive, 1)
    finally:
        await alive.aclose()
        await dead.aclose()


async def test_the_floor_holds_and_without_redis_the_fleet_is_the_floor(redis: RedisClient) -> None:
    floored = fast(redis, "x", floor=3)
    await floored.start()
    for _ in range(200):  # the first beat may miss its 50 ms on a loaded machine; the next ones land
        if floored.live is not None:
            break
        await asyncio.sleep(0.02)
    assert floored.live == 1 and floored.size == 3
    await floored.aclose()
    alone = Fleet(None, floor=1)
    await alone.start()
    assert alone.size == 1
    await alone.aclose()


async def test_redis_gone_keeps_the_last_count(redis_server: RedisProcess) -> None:
    client = Redis.from_url(redis_server.url, socket_timeout=0.2, socket_connect_timeout=0.2)
    a, b = fast(client, "a"), fast(client, "b")
    try:
        await a.start()
        await b.start()
        await _settle(a, 2)
        redis_server.kill()
        await asyncio.sleep(0.5)  # several failed beats
        assert a.size == 2 and b.size == 2
    finally:
        redis_server.restart()
        await a.aclose()
        await b.aclose()
        await client.aclose()


def test_a_bulkhead_share_divides_every_ceiling_and_keeps_the_reserve_below_it() -> None:
    pool = BulkheadConfig(16, reserved_for_critical=4, sheddable_max_concurrent=8)
    assert pool.share(1) is pool
    half = pool.share(2)
    assert (half.max_concurrent, half.reserved_for_critical, half.sheddable_max_concurrent) == (8, 2, 4)
    many = pool.share(20)  # more replicas than slots: one call each, no reserve
    assert (many.max_concurrent, many.reserved_for_critical, many.sheddable_max_concurrent) == (1, 0, 1)
    with pytest.raises(ValueError):
        pool.share(0)


async def test_a_bulkhead_reconfigured_wider_lets_its_waiters_in() -> None:
    bulkhead = Bulkhead("billing", BulkheadConfig(1, max_wait_s=5.0))
    with operation_class("normal"):
        await bulkhead.acquire()
        waiter = asyncio.create_task(bulkhead.acquire())
        await asyncio.sleep(0.05)
        assert not waiter.done()
        bulkhead.reconfigure(BulkheadConfig(2, max_wait_s=5.0))
        await asyncio.wait_for(waiter, 1.0)
    assert bulkhead.in_flight == 2


async def test_a_rate_budget_reconfigured_keeps_what_was_spent() -> None:
    now = [0.0]
    budget = RateBudget("billing", RateBudgetConfig(10.0, burst=10, max_wait_s=0.0), clock=lambda: now[0])
    with operation_class("critical"):
        for _ in range(10):
            await budget.acquire()  # the whole burst spent
        budget.reconfigure(RateBudgetConfig(10.0, burst=10, max_wait_s=0.0).share(2))
        assert budget.config.max_rps == 5.0 and budget.config.burst == 5
    with operation_class("normal"), pytest.raises(Exception, match="budget"):
        await budget.acquire()  # a new share starts from what was spent, not full
