"""One contract for both idempotency stores: in process, and on a real redis-server shared by clients."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from infra.idempotency_store import (
    IdempotencyStore,
    IdempotencyStoreUnavailable,
    MemoryIdempotencyStore,
    Outcome,
    RedisIdempotencyStore,
)
from infra.resilience.ratelimit import redis_client
from tests.support.clocks import FakeClock
from tests.support.redis_cluster import shared_client

LEASE, TTL = 0.2, 60.0


@dataclass
class Subject:
    store: IdempotencyStore
    other: IdempotencyStore  # a second client of the same records (another replica, for Redis)
    advance: Callable[[float], object]  # let this much time pass for the store


@pytest.fixture(params=["memory", "redis", "cluster"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    if request.param == "memory":
        clock = FakeClock()
        store = MemoryIdempotencyStore(clock=clock)

        def move(seconds: float) -> None:
            clock.now += seconds

        yield Subject(store, store, move)
        return
    one, two = shared_client(request, request.param), shared_client(request, request.param)
    try:
        yield Subject(RedisIdempotencyStore(one), RedisIdempotencyStore(two), _sleep)
    finally:
        await one.aclose()
        await two.aclose()


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds + 0.05)


async def _advance(subject: Subject, seconds: float) -> None:
    waited = subject.advance(seconds)
    if asyncio.iscoroutine(waited):
        await waited


def _key() -> str:
    return f"createTicket:{uuid.uuid4().hex}"


async def test_first_claim_starts_and_the_next_waits(subject: Subject) -> None:
    # A lease no scheduler delay outlasts: with 0.2 s, a loaded CI machine once let it run out
    # between the two claims (the second then started, as it should after a lease).
    held = 5.0
    key = _key()
    first = await subject.store.claim(key, "fp", lease_s=held, ttl_s=TTL)
    assert (first.outcome, first.reconcile) == (Outcome.STARTED, False) and first.token
    busy = await subject.other.claim(key, "fp", lease_s=held, ttl_s=TTL)
    assert busy.outcome is Outcome.RUNNING and 0 < busy.wait_s <= held + 1e-6
    assert (await subject.other.claim(key, "other", lease_s=held, ttl_s=TTL)).outcome is Outcome.REUSED


async def test_a_completed_key_replays_its_answer(subject: Subject) -> None:
    key = _key()
    claim = await subject.store.claim(key, "fp", lease_s=LEASE, ttl_s=TTL)
    assert claim.token is not None
    assert not await subject.store.complete(key, "not-the-token", {"x": 0}, ttl_s=TTL)
    assert await subject.store.complete(key, claim.token, {"ticket": "GD1", "n": [1, 2]}, ttl_s=TTL)
    done = await subject.other.claim(key, "fp", lease_s=LEASE, ttl_s=TTL)
    assert (done.outcome, done.response) == (Outcome.DONE, {"ticket": "GD1", "n": [1, 2]})
    assert (await subject.other.claim(key, "fp2", lease_s=LEASE, ttl_s=TTL)).outcome is Outcome.REUSED
    assert not await subject.store.abandon(key, claim.token)  # done is done


async def test_a_doubt_holds_the_key_until_it_settles_then_asks_to_reconcile(subject: Subject) -> None:
    key = _key()
    claim = await subject.store.claim(key, "fp", lease_s=LEASE, ttl_s=TTL)
    assert claim.token is not None
    assert await subject.store.doubt(key, claim.token, settle_s=0.3, ttl_s=TTL)
    waiting = await subject.other.claim(key, "fp", lease_s=LEASE, ttl_s=TTL)
    assert waiting.outcome is Outcome.UNCERTAIN and 0 < waiting.wait_s <= 0.3 + 1e-6
    await _advance(subject, 0.3)
    again = await subject.other.claim(key, "fp", lease_s=LEASE, ttl_s=TTL)
    assert (again.outcome, again.reconcile) == (Outcome.STARTED, True)
    assert not await subject.store.complete(key, claim.token, {}, ttl_s=TTL)  # no longer the holder
    assert again.token is not None and await subject.other.complete(key, again.token, {"ok": 1}, ttl_s=TTL)


async def test_an_attempt_past_its_lease_is_taken_over_with_a_reconcile(subject: Subject) -> None:
    key = _key()
    assert (await subject.store.claim(key, "fp", lease_s=LEASE, ttl_s=TTL)).outcome is Outcome.STARTED
    await _advance(subject, LEASE)
    taken = await subject.other.claim(key, "fp", lease_s=LEASE, ttl_s=TTL)
    assert (taken.outcome, taken.reconcile) == (Outcome.STARTED, True)


async def test_an_abandoned_key_starts_afresh(subject: Subject) -> None:
    key = _key()
    claim = await subject.store.claim(key, "fp", lease_s=LEASE, ttl_s=TTL)
    assert claim.token is not None and await subject.store.abandon(key, claim.token)
    fresh = await subject.other.claim(key, "another input", lease_s=LEASE, ttl_s=TTL)
    assert (fresh.outcome, fresh.reconcile) == (Outcome.STARTED, False)


async def test_records_expire_after_their_ttl(subject: Subject) -> None:
    key = _key()
    claim = await subject.store.claim(key, "fp", lease_s=LEASE, ttl_s=TTL)
    assert claim.token is not None
    assert await subject.store.complete(key, claim.token, {"x": 1}, ttl_s=0.2)
    await _advance(subject, 0.2)
    assert (await subject.other.claim(key, "new", lease_s=LEASE, ttl_s=TTL)).outcome is Outcome.STARTED


async def test_concurrent_claims_have_one_winner(subject: Subject) -> None:
    key = _key()
    claims = await asyncio.gather(
        *(s.claim(key, "fp", lease_s=5, ttl_s=TTL) for s in [subject.store, subject.other] * 10)
    )
    assert sorted(c.outcome for c in claims) == [Outcome.RUNNING] * 19 + [Outcome.STARTED]


async def test_an_unreachable_redis_refuses_instead_of_guessing() -> None:
    client = redis_client("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(IdempotencyStoreUnavailable) as caught:
            await RedisIdempotencyStore(client).claim(_key(), "fp", lease_s=1, ttl_s=TTL)
    finally:
        await client.aclose()
    assert caught.value.code == "BACKEND_UNAVAILABLE"


def test_memory_store_drops_the_oldest_past_its_bound() -> None:
    store = MemoryIdempotencyStore(max_entries=2)
    for key in ("a", "b", "c"):
        asyncio.run(store.claim(key, "fp", lease_s=1, ttl_s=TTL))
    assert len(store) == 2
