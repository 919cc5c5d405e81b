"""One contract for both ticket state stores: in process, and on a real redis-server shared by two clients."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from domain.enums import TicketStatus
from domain.records import TicketStatusChange
from domain.timestamps import SHANGHAI
from infra.resilience.ratelimit import redis_client
from services.ticket_state_store import (
    ApplyOutcome,
    MemoryTicketStateStore,
    RedisTicketStateStore,
    TicketStateStore,
    TicketStateStoreUnavailable,
)
from tests.support.clocks import FakeClock
from tests.support.redis_cluster import shared_client

DEDUPE_S, STATE_S = 60.0, 600.0
LIFECYCLE = [
    TicketStatus.ACCEPTED,
    TicketStatus.DISPATCHED,
    TicketStatus.ACKNOWLEDGED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.COMPLETED,
    TicketStatus.FOLLOW_UP,
    TicketStatus.CLOSED,
]
_ids = itertools.count(1)


@dataclass
class Subject:
    store: TicketStateStore
    other: TicketStateStore  # a second client of the same states (another replica, for Redis)
    advance: Callable[[float], object]


@pytest.fixture(params=["memory", "redis", "cluster"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    if request.param == "memory":
        clock = FakeClock()
        store = MemoryTicketStateStore(dedupe_ttl_s=DEDUPE_S, state_ttl_s=STATE_S, clock=clock)

        def move(seconds: float) -> None:
            clock.now += seconds

        yield Subject(store, store, move)
        return
    prefix = f"test:{uuid.uuid4().hex}:"
    one, two = (shared_client(request, request.param, timeout_s=2.0) for _ in range(2))
    try:
        yield Subject(
            RedisTicketStateStore(one, dedupe_ttl_s=DEDUPE_S, state_ttl_s=STATE_S, prefix=prefix),
            RedisTicketStateStore(two, dedupe_ttl_s=DEDUPE_S, state_ttl_s=STATE_S, prefix=prefix),
            lambda _s: None,  # Redis keeps its own time: the TTL tests below are memory-only
        )
    finally:
        await one.aclose()
        await two.aclose()


def change(ticket: str, seq: int, event_id: str | None = None) -> TicketStatusChange:
    return TicketStatusChange(
        ticket_id=ticket,
        customer_no="KH00000042",
        status=LIFECYCLE[(seq - 1) % len(LIFECYCLE)],
        sequence=seq,
        changed_at=datetime.fromtimestamp((1_780_000_000_000 + seq * 1000) / 1000, UTC).astimezone(SHANGHAI),
        event_id=event_id or f"msg_{next(_ids)}",
    )


def ticket() -> str:
    return f"GD{uuid.uuid4().hex[:12]}"


async def test_first_change_is_applied_and_read_back_whole(subject: Subject) -> None:
    t = ticket()
    first = change(t, 1)
    assert await subject.store.apply(first) is ApplyOutcome.APPLIED
    assert await subject.other.get_many([t, "GD-nothing"]) == {t: first}
    stored = (await subject.other.get_many([t]))[t]
    assert isinstance(stored.changed_at, datetime) and stored.changed_at.utcoffset() is not None


async def test_same_delivery_twice_is_a_duplicate_and_changes_nothing(subject: Subject) -> None:
    t = ticket()
    first = change(t, 3, "msg_same")
    assert await subject.store.apply(first) is ApplyOutcome.APPLIED
    again = change(t, 4, "msg_same")  # even a different payload: the id decides
    assert await subject.other.apply(again) is ApplyOutcome.DUPLICATE
    assert (await subject.store.get_many([t]))[t] == first


async def test_an_older_sequence_never_overwrites_a_newer_one(subject: Subject) -> None:
    t = ticket()
    newest = change(t, 5)
    assert await subject.store.apply(newest) is ApplyOutcome.APPLIED
    assert await subject.other.apply(change(t, 4)) is ApplyOutcome.STALE
    assert await subject.store.apply(change(t, 5)) is ApplyOutcome.STALE  # the same sequence again
    assert (await subject.other.get_many([t]))[t] == newest
    newer = change(t, 6)
    assert await subject.other.apply(newer) is ApplyOutcome.APPLIED
    assert (await subject.store.get_many([t]))[t] == newer


async def test_any_arrival_order_with_duplicates_ends_on_the_highest_sequence(subject: Subject) -> None:
    rng = random.Random(7)
    tickets = [ticket() for _ in range(5)]
    deliveries = [change(t, seq) for t in tickets for seq in range(1, 8)]
    deliveries += rng.sample(deliveries, 12)  # redelivered, same ids
    rng.shuffle(deliveries)
    stores = [subject.store, subject.other]
    outcomes = await asyncio.gather(*(stores[i % 2].apply(d) for i, d in enumerate(deliveries)))
    assert outcomes.count(ApplyOutcome.DUPLICATE) == 12
    final = await subject.store.get_many(tickets)
    assert {t: (s.sequence, s.status) for t, s in final.items()} == {
        t: (7, TicketStatus.CLOSED) for t in tickets
    }


async def test_tickets_are_independent(subject: Subject) -> None:
    a, b = ticket(), ticket()
    await subject.store.apply(change(a, 9))
    assert await subject.store.apply(change(b, 1)) is ApplyOutcome.APPLIED
    assert {t: s.sequence for t, s in (await subject.other.get_many([a, b])).items()} == {a: 9, b: 1}


async def test_memory_forgets_ids_after_the_dedupe_ttl_and_states_after_theirs() -> None:
    clock = FakeClock()
    store = MemoryTicketStateStore(dedupe_ttl_s=DEDUPE_S, state_ttl_s=STATE_S, clock=clock)
    t = ticket()
    first = change(t, 2, "msg_a")
    await store.apply(first)
    clock.now += DEDUPE_S + 1
    # The id is forgotten, but the stored sequence still refuses the replayed old change.
    assert await store.apply(first) is ApplyOutcome.STALE
    clock.now += STATE_S + 1
    assert await store.get_many([t]) == {}
    assert await store.apply(change(t, 1)) is ApplyOutcome.APPLIED


async def test_memory_is_bounded() -> None:
    store = MemoryTicketStateStore(dedupe_ttl_s=DEDUPE_S, state_ttl_s=STATE_S, max_entries=3)
    tickets = [ticket() for _ in range(5)]
    for t in tickets:
        await store.apply(change(t, 1))
    assert set(await store.get_many(tickets)) == set(tickets[-3:])


async def test_redis_down_raises_unavailable() -> None:
    client = redis_client("redis://127.0.0.1:1/0", timeout_s=0.2)  # nothing listens on port 1
    store = RedisTicketStateStore(client, dedupe_ttl_s=DEDUPE_S, state_ttl_s=STATE_S)
    try:
        with pytest.raises(TicketStateStoreUnavailable):
            await store.apply(change(ticket(), 1))
        with pytest.raises(TicketStateStoreUnavailable):
            await store.get_many([ticket()])
    finally:
        await client.aclose()
