"""The APQ stores: one contract for the in-process LRU and Redis (a real redis-server), Redis's TTL
and its failures read as misses, and two replicas on one Redis sharing a registration."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from gateway.app import create_app
from gateway.persisted.apq_store import KEY_PREFIX, ApqStore, MemoryApqStore, RedisApqStore
from gateway.persisted.manifest import document_id
from gateway.settings import Settings
from infra.resilience.ratelimit import redis_client
from tests.gateway.conftest import TEST_KEYS, serve, small_schema
from tests.support.redis_cluster import shared_client
from tests.support.redis_server import RedisProcess


@pytest.fixture
async def redis(redis_server: RedisProcess) -> AsyncIterator[Redis]:
    client = redis_client(redis_server.url, timeout_s=1.0)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", "redis", "cluster"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ApqStore]:
    if request.param == "memory":
        yield MemoryApqStore(100)
        return
    client = shared_client(request, request.param, timeout_s=1.0)
    if request.param == "redis":
        await client.flushdb()
    yield RedisApqStore(client, ttl_s=600)
    await client.aclose()


async def test_a_stored_document_is_found_by_its_hash(store: ApqStore) -> None:
    assert await store.get("a" * 64) is None
    await store.put("a" * 64, "query 漢字 { hello }")
    assert await store.get("a" * 64) == "query 漢字 { hello }"
    assert await store.get("b" * 64) is None


async def test_the_memory_store_drops_the_least_recently_used() -> None:
    store = MemoryApqStore(2)
    await store.put("1", "a")
    await store.put("2", "b")
    assert await store.get("1") == "a"  # now "2" is the least recently used
    await store.put("3", "c")
    assert (await store.get("1"), await store.get("2"), await store.get("3")) == ("a", None, "c")
    assert len(store) == 2


async def test_redis_entries_expire(redis: Redis) -> None:
    await RedisApqStore(redis, ttl_s=120).put("c" * 64, "{ hello }")
    assert 0 < await redis.ttl(KEY_PREFIX + "c" * 64) <= 120


async def test_a_redis_that_fails_reads_as_a_miss() -> None:
    dead = redis_client("redis://127.0.0.1:1/0", timeout_s=0.2)
    store = RedisApqStore(dead, ttl_s=60)
    try:
        await store.put("d" * 64, "{ hello }")  # not kept, not raised
        assert await store.get("d" * 64) is None
    finally:
        await dead.aclose()


async def test_replicas_on_one_redis_share_registrations(redis_server: RedisProcess, redis: Redis) -> None:
    settings = Settings(redis_url=redis_server.url)
    query = "query Count { count(n: 7) }"
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": document_id(query)}}
    replica_a = create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)
    replica_b = create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)
    async with serve(replica_a) as a, serve(replica_b) as b:
        registered = await a.post("/graphql", json={"query": query, "extensions": extensions})
        assert registered.json() == {"data": {"count": 7}}
        by_hash = await b.post("/graphql", json={"extensions": extensions})
    assert by_hash.json() == {"data": {"count": 7}}
    assert await redis.get(KEY_PREFIX + document_id(query)) == query.encode()
