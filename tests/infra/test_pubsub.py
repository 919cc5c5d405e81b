"""The event bus: one contract suite run against `MemoryBus` and `RedisBus` (a real redis-server), then
what only Redis does: several processes' buses, a connection killed under the listener."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from infra.pubsub import SHARD_TAG, EventBus, MemoryBus, Message, RedisBus
from infra.redis_client import cluster_client
from infra.resilience.ratelimit import redis_client
from tests.support.redis_cluster import RedisClusterProcesses, shared_client
from tests.support.redis_server import RedisProcess


async def _next(messages: AsyncIterator[Message]) -> Message:
    async with asyncio.timeout(5):  # a safety net against a hang, not a latency assertion
        return await anext(messages)


def _redis(server: RedisProcess) -> Redis:
    return redis_client(server.url, timeout_s=0.5)


@pytest.fixture(params=["memory", "redis", "cluster"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    if request.param == "memory":
        memory = MemoryBus(max_queued=3)
        yield memory
        await memory.aclose()
        return
    client = shared_client(request, request.param, timeout_s=0.5)
    redis_bus = RedisBus(client, max_queued=3)
    yield redis_bus
    await redis_bus.aclose()
    await client.aclose()


async def test_contract_a_subscriber_gets_what_is_published_after_it_subscribed(bus: EventBus) -> None:
    await bus.publish("ticket:T1", {"n": 0})  # before anyone listens: gone
    async with bus.subscribe("ticket:T1") as messages:
        await bus.publish("ticket:T1", {"n": 1})
        await bus.publish("ticket:T2", {"n": 2})  # another channel
        await bus.publish("ticket:T1", {"n": 3})
        assert await _next(messages) == {"n": 1}
        assert await _next(messages) == {"n": 3}


async def test_contract_every_subscriber_gets_every_message_of_its_channels(bus: EventBus) -> None:
    async with (
        bus.subscribe("ticket:T1", "customer:KH00000001") as both,
        bus.subscribe("customer:KH00000001") as one,
    ):
        await bus.publish("ticket:T1", {"n": 1})
        await bus.publish("customer:KH00000001", {"n": 2})
        assert [await _next(both), await _next(both)] == [{"n": 1}, {"n": 2}]
        assert await _next(one) == {"n": 2}


async def test_contract_a_slow_subscriber_loses_the_oldest(bus: EventBus) -> None:
    async with bus.subscribe("screenpop:A1") as slow, bus.subscribe("screenpop:A1") as reader:
        for n in range(5):
            await bus.publish("screenpop:A1", {"n": n})
        # Once the reader has the last one, the fan-out has put all five into the slow queue too.
        while (await _next(reader)) != {"n": 4}:
            pass
        got = [await _next(slow) for _ in range(3)]
    assert got == [{"n": 2}, {"n": 3}, {"n": 4}]


async def test_contract_leaving_unsubscribes(bus: EventBus) -> None:
    counted = cast("MemoryBus | RedisBus", bus)
    async with bus.subscribe("ticket:T9"):
        assert counted.subscribers("ticket:T9") == 1
    assert counted.subscribers("ticket:T9") == 0
    async with bus.subscribe("ticket:T9") as messages:  # and back again
        await bus.publish("ticket:T9", {"again": True})
        assert await _next(messages) == {"again": True}


async def test_processes_share_the_bus_over_one_connection_each(redis_server: RedisProcess) -> None:
    publisher_side, subscriber_side = _redis(redis_server), _redis(redis_server)
    a, b = RedisBus(publisher_side), RedisBus(subscriber_side)
    probe = Redis(port=redis_server.port)
    try:
        async with b.subscribe("ticket:T1") as first, b.subscribe("ticket:T2", "ticket:T3") as second:
            await a.publish("ticket:T1", {"ticketId": "T1", "status": "COMPLETED"})
            await a.publish("ticket:T3", {"ticketId": "T3"})
            assert await _next(first) == {"ticketId": "T1", "status": "COMPLETED"}
            assert await _next(second) == {"ticketId": "T3"}
            clients = await probe.client_list(_type="pubsub")
            assert len(clients) == 1  # b's one listener connection carries all three channels
    finally:
        await a.aclose()
        await b.aclose()
        for client in (publisher_side, subscriber_side):
            await client.aclose()
        await probe.aclose()


async def test_a_killed_connection_is_made_again_with_every_channel(redis_server: RedisProcess) -> None:
    client = _redis(redis_server)
    bus = RedisBus(client, heartbeat_s=0.2)
    probe = Redis(port=redis_server.port)
    try:
        async with bus.subscribe("cti") as messages:
            killed = await probe.client_kill_filter(_type="pubsub")
            assert killed == 1
            # The state we wait for: Redis sees the listener subscribed to `cti` again.
            for _ in range(200):
                numsub = cast("list[tuple[Any, int]]", await probe.pubsub_numsub("cti"))
                if numsub[0][1] == 1:
                    break
                await asyncio.sleep(0.02)
            await bus.publish("cti", {"event": "CALL_RINGING"})
            assert await _next(messages) == {"event": "CALL_RINGING"}
    finally:
        await bus.aclose()
        await client.aclose()
        await probe.aclose()


async def test_a_publish_while_redis_is_unreachable_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = redis_client("redis://127.0.0.1:1/0", timeout_s=0.2)  # nothing listens on port 1
    bus = RedisBus(client)
    try:
        await bus.publish("ticket:T1", {"n": 1})
    finally:
        await bus.aclose()
        await client.aclose()
    assert "message lost" in caplog.text


async def test_what_is_not_a_json_object_is_dropped(redis_server: RedisProcess) -> None:
    client = _redis(redis_server)
    bus = RedisBus(client)
    try:
        async with bus.subscribe("ticket:T1") as messages:
            await client.publish("ticket:T1", b"not json")
            await client.publish("ticket:T1", b"[1, 2]")
            await bus.publish("ticket:T1", {"ok": True})
            assert await _next(messages) == {"ok": True}
    finally:
        await bus.aclose()
        await client.aclose()


async def test_cluster_replicas_share_the_bus_through_one_shard(redis_cluster: RedisClusterProcesses) -> None:
    """Sharded pub/sub: two replicas' buses on different cluster clients; every channel in one slot, so
    one master carries the subscriptions and the others none."""
    one, two = (cluster_client(redis_cluster.startup_nodes(), timeout_s=0.5) for _ in range(2))
    a, b = RedisBus(one), RedisBus(two)
    try:
        async with b.subscribe("ticket:T1", "screenpop:A1") as messages:
            await a.publish("ticket:T1", {"ticketId": "T1"})
            await a.publish("screenpop:A1", {"agent": "A1"})
            assert [await _next(messages), await _next(messages)] == [{"ticketId": "T1"}, {"agent": "A1"}]
            owner = redis_cluster.master_port_of(SHARD_TAG)
            for node in redis_cluster.live():
                probe: Any = Redis(port=node.port)  # redis-py's execute_command is untyped
                shards = await probe.execute_command("PUBSUB", "SHARDCHANNELS")
                await probe.aclose()
                assert (len(shards) == 3) == (node.port == owner)  # the two channels and b's own
    finally:
        await a.aclose()
        await b.aclose()
        await one.aclose()
        await two.aclose()


async def test_cluster_bus_connection_killed_is_made_again(redis_cluster: RedisClusterProcesses) -> None:
    client = cluster_client(redis_cluster.startup_nodes(), timeout_s=0.5)
    bus = RedisBus(client, heartbeat_s=0.2)
    probe: Any = Redis(port=redis_cluster.master_port_of(SHARD_TAG))  # execute_command is untyped
    try:
        async with bus.subscribe("cti") as messages:
            assert await probe.client_kill_filter(_type="pubsub") == 1
            for _ in range(200):  # the state: the listener has subscribed `cti` again on the shard
                numsub = cast(
                    "list[Any]", await probe.execute_command("PUBSUB", "SHARDNUMSUB", SHARD_TAG + "cti")
                )
                if numsub[1] == 1:
                    break
                await asyncio.sleep(0.02)
            await bus.publish("cti", {"event": "CALL_RINGING"})
            assert await _next(messages) == {"event": "CALL_RINGING"}
    finally:
        await bus.aclose()
        await client.aclose()
        await probe.aclose()
