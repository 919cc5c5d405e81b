"""`fleet_lease` on both idempotency stores: in process, and on a real redis-server shared by two clients
(two replicas). One holder at a time, released however the block ends, handed over when a holder dies."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from infra.idempotency_store import (
    Claim,
    IdempotencyStore,
    IdempotencyStoreUnavailable,
    MemoryIdempotencyStore,
    Outcome,
    RedisIdempotencyStore,
)
from services.fleet_lease import PREFIX, fleet_lease
from tests.support.redis_cluster import shared_client


@pytest.fixture(params=["memory", "redis"])
async def replicas(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[IdempotencyStore, IdempotencyStore]]:
    """Two replicas' views of one store."""
    if request.param == "memory":
        store = MemoryIdempotencyStore()
        yield store, store
        return
    one, two = shared_client(request, "redis"), shared_client(request, "redis")
    try:
        yield RedisIdempotencyStore(one), RedisIdempotencyStore(two)
    finally:
        await one.aclose()
        await two.aclose()


async def test_one_holder_at_a_time_across_replicas(
    replicas: tuple[IdempotencyStore, IdempotencyStore],
) -> None:
    name, steps = f"declareOutage:{uuid.uuid4()}", []
    first_in = asyncio.Event()

    async def hold(store: IdempotencyStore, who: str, entered: asyncio.Event | None = None) -> None:
        async with fleet_lease(store, name):
            steps.append(f"{who} in")
            if entered is not None:
                entered.set()
            await asyncio.sleep(0.1)  # the second replica asks meanwhile, more than once
            steps.append(f"{who} out")

    one, two = replicas
    first = asyncio.create_task(hold(one, "one", first_in))
    await first_in.wait()
    await asyncio.gather(hold(two, "two"), first)
    assert steps == ["one in", "one out", "two in", "two out"]


async def test_the_lease_is_released_when_the_block_fails(
    replicas: tuple[IdempotencyStore, IdempotencyStore],
) -> None:
    name = f"declareOutage:{uuid.uuid4()}"
    one, two = replicas
    with pytest.raises(RuntimeError):
        async with fleet_lease(one, name):
            raise RuntimeError("the declaration failed")
    async with asyncio.timeout(5), fleet_lease(two, name):  # at once, not after the lease runs out
        pass
    claim = await two.claim(PREFIX + name, "", lease_s=1, ttl_s=1)
    assert claim.outcome is Outcome.STARTED  # released again


async def test_a_dead_holders_lease_runs_out_and_the_next_replica_takes_over(
    replicas: tuple[IdempotencyStore, IdempotencyStore],
) -> None:
    name = f"declareOutage:{uuid.uuid4()}"
    one, two = replicas
    dead = await one.claim(PREFIX + name, "", lease_s=0.3, ttl_s=0.3)  # taken, never released
    assert dead.outcome is Outcome.STARTED
    started = asyncio.get_running_loop().time()
    async with asyncio.timeout(5), fleet_lease(two, name):
        waited = asyncio.get_running_loop().time() - started
    assert 0.2 <= waited < 5


class _Down:
    """A store whose Redis is away."""

    async def claim(self, key: str, fingerprint: str, *, lease_s: float, ttl_s: float) -> Claim:
        raise IdempotencyStoreUnavailable("connection refused")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} called on a store that never granted a lease")


async def test_without_the_store_the_block_runs_unleased_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran = []
    with caplog.at_level(logging.WARNING, logger="tidegate.services.fleet_lease"):
        async with fleet_lease(_Down(), "declareOutage:M1"):
            ran.append(True)
    assert ran == [True]
    assert "running unleased" in caplog.text
