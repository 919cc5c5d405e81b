"""Fixtures the cache's tests share: a wall clock that moves by hand, and an empty real redis-server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from infra.resilience.ratelimit import redis_client
from tests.support.clocks import FakeClock
from tests.support.redis_server import RedisProcess


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
async def redis(redis_server: RedisProcess) -> AsyncIterator[Redis]:
    """The session's redis-server, emptied (tests in a module that define their own `redis` use theirs)."""
    client = redis_client(redis_server.url)
    await client.flushall()
    yield client
    await client.aclose()
