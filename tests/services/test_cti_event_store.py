"""One contract for both CTI event stores: in process, and on a real redis-server shared by two clients."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from infra.resilience.ratelimit import redis_client
from services.cti_event_store import (
    Admission,
    CtiEventStore,
    CtiEventStoreUnavailable,
    MemoryCtiEventStore,
    RedisCtiEventStore,
)
from tests.support.clocks import FakeClock
from tests.support.redis_cluster import shared_client
from tests.support.redis_server import RedisProcess

SEEN_S, ENDED_S = 600.0, 3600.0


@dataclass
class Subject:
    store: CtiEventStore
    other: CtiEventStore  # a second client of the same store (another replica, for Redis)


@pytest.fixture(params=["memory", "redis", "cluster"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    if request.param == "memory":
        store = MemoryCtiEventStore(seen_ttl_s=SEEN_S, ended_ttl_s=ENDED_S)
        yield Subject(store, store)
        return
    prefix = f"test:{uuid.uuid4().hex}:"
    one, two = (shared_client(request, request.param, timeout_s=2.0) for _ in range(2))
    try:
        yield Subject(
            RedisCtiEventStore(one, seen_ttl_s=SEEN_S, ended_ttl_s=ENDED_S, prefix=prefix),
            RedisCtiEventStore(two, seen_ttl_s=SEEN_S, ended_ttl_s=ENDED_S, prefix=prefix),
        )
    finally:
        await one.aclose()
        await two.aclose()


def new_id() -> str:
    return uuid.uuid4().hex


async def test_an_event_id_is_good_once_on_any_replica(subject: Subject) -> None:
    event, call = new_id(), new_id()
    assert await subject.store.admit(event, call, ends_call=False) is Admission.ADMITTED
    assert await subject.other.admit(event, call, ends_call=False) is Admission.REPLAYED
    assert await subject.store.admit(event, call, ends_call=True) is Admission.REPLAYED
    # A replayed end did not end the call: its next event is still admitted.
    assert await subject.other.admit(new_id(), call, ends_call=False) is Admission.ADMITTED


async def test_after_the_end_every_event_of_the_call_is_refused(subject: Subject) -> None:
    call = new_id()
    assert await subject.store.admit(new_id(), call, ends_call=False) is Admission.ADMITTED
    ended = new_id()
    assert await subject.other.admit(ended, call, ends_call=True) is Admission.ADMITTED
    assert await subject.store.admit(new_id(), call, ends_call=False) is Admission.CALL_ENDED
    assert await subject.other.admit(new_id(), call, ends_call=True) is Admission.CALL_ENDED
    assert await subject.store.admit(ended, call, ends_call=True) is Admission.REPLAYED
    assert await subject.store.admit(new_id(), new_id(), ends_call=False) is Admission.ADMITTED  # others


async def test_the_same_event_posted_to_two_replicas_at_once_is_admitted_once(subject: Subject) -> None:
    events = [(new_id(), new_id()) for _ in range(20)]
    stores = [subject.store, subject.other]
    outcomes = await asyncio.gather(
        *(stores[i % 2].admit(e, c, ends_call=False) for i, (e, c) in enumerate(events * 2))
    )
    assert outcomes.count(Admission.ADMITTED) == 20 and outcomes.count(Admission.REPLAYED) == 20


async def test_redis_keeps_the_ids_and_ends_with_their_ttls(redis_server: RedisProcess) -> None:
    client = redis_client(redis_server.url, timeout_s=2.0)
    prefix = f"test:{uuid.uuid4().hex}:"
    try:
        store = RedisCtiEventStore(client, seen_ttl_s=SEEN_S, ended_ttl_s=ENDED_S, prefix=prefix)
        await store.admit("e1", "c1", ends_call=True)
        seen_ms = await client.pttl(f"{prefix}{{c1}}:seen:e1")  # the call is the hash tag
        ended_ms = await client.pttl(f"{prefix}{{c1}}:ended")
        assert 0 < seen_ms <= SEEN_S * 1000 and SEEN_S * 1000 < ended_ms <= ENDED_S * 1000
    finally:
        await client.aclose()


async def test_memory_forgets_ids_after_their_ttl_and_ends_after_theirs() -> None:
    clock = FakeClock()
    store = MemoryCtiEventStore(seen_ttl_s=SEEN_S, ended_ttl_s=ENDED_S, clock=clock)
    assert await store.admit("e1", "c1", ends_call=True) is Admission.ADMITTED
    clock.now += SEEN_S + 1
    # The id is forgotten (its timestamp is refused by then anyway); the call is still ended.
    assert await store.admit("e1", "c1", ends_call=False) is Admission.CALL_ENDED
    clock.now += ENDED_S
    assert await store.admit("e2", "c1", ends_call=False) is Admission.ADMITTED


async def test_memory_is_bounded() -> None:
    store = MemoryCtiEventStore(seen_ttl_s=SEEN_S, ended_ttl_s=ENDED_S, max_entries=3)
    for n in range(5):
        await store.admit(f"e{n}", f"c{n}", ends_call=True)
    assert await store.admit("e0", "c-new", ends_call=False) is Admission.ADMITTED  # e0 pushed out
    assert await store.admit("e-new", "c4", ends_call=False) is Admission.CALL_ENDED  # c4 kept


async def test_redis_down_raises_unavailable() -> None:
    client = redis_client("redis://127.0.0.1:1/0", timeout_s=0.2)  # nothing listens on port 1
    try:
        with pytest.raises(CtiEventStoreUnavailable):
            await RedisCtiEventStore(client, seen_ttl_s=SEEN_S, ended_ttl_s=ENDED_S).admit(
                "e", "c", ends_call=False
            )
    finally:
        await client.aclose()
