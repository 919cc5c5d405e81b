"""The semi-static data cache: RFC 5861 windows on a fake clock, single-flight in one process and across
two `Cache`s sharing a real redis-server, one contract for both stores, and Redis going away.
Assertions count fetches, never time them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from redis.asyncio import Redis

from infra.cache.cache import Cache, Cached, CachePolicy
from infra.cache.store import CacheStore, Entry, MemoryStore, RedisStore
from infra.errors import BackendServerError, NotFound
from infra.resilience.bulkhead import BackendShed, Bulkhead, BulkheadConfig
from infra.resilience.priority import operation_class
from infra.resilience.ratelimit import redis_client
from tests.support.clocks import FakeClock
from tests.support.redis_cluster import shared_client
from tests.support.redis_server import start_redis

T = TypeVar("T")
KEY = "tariff:v1:DOM-STD"
POLICY = CachePolicy(ttl_s=60, stale_while_revalidate_s=30, stale_if_error_s=600)


@dataclass(frozen=True)
class Tariff:
    code: str
    pence_per_m3: int


def dump_tariff(tariff: Tariff) -> object:
    return {"code": tariff.code, "pence_per_m3": tariff.pence_per_m3}


def load_tariff(raw: Any) -> Tariff:
    return Tariff(raw["code"], raw["pence_per_m3"])


class Backend:
    """A fetch that counts its calls; each answer differs (pence = call number), so we can tell them apart."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.error: Exception | None = None
        self.entered = asyncio.Event()

    async def fetch(self) -> Tariff:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        else:
            await asyncio.sleep(0.001)  # yield, so concurrent gets really overlap
        if self.error is not None:
            raise self.error
        return Tariff("DOM-STD", self.calls)


async def get(cache: Cache, backend: Backend, policy: CachePolicy = POLICY) -> Cached[Tariff]:
    return await cache.get(KEY, policy, backend.fetch, dump_tariff, load_tariff)


@pytest.fixture
def cache(clock: FakeClock) -> Cache:
    return Cache(MemoryStore(clock=clock), clock)


# --- policy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ttl", "swr", "sie"), [(0, 0, 0), (-1, 0, 0), (float("inf"), 0, 0), (1, -1, 0), (1, 0, float("nan"))]
)
def test_policy_rejects_nonsense(ttl: float, swr: float, sie: float) -> None:
    with pytest.raises(ValueError):
        CachePolicy(ttl, swr, sie)


def test_policy_keeps_entries_for_the_longest_window() -> None:
    assert POLICY.keep_s == 60 + 600


# --- one process, MemoryStore ----------------------------------------------------------------------


async def test_100_concurrent_gets_on_a_cold_key_share_one_fetch(cache: Cache) -> None:
    backend = Backend()
    results = await asyncio.gather(*(get(cache, backend) for _ in range(100)))
    assert backend.calls == 1
    assert {r.value for r in results} == {Tariff("DOM-STD", 1)}
    assert not any(r.stale for r in results)


class GuardedBackend(Backend):
    """Each fetch first takes a slot of billing's bulkhead, as `BackendHttp` does: sheddable work has
    one slot and it is taken, so a sheddable fetch waits its 50 ms and is shed; critical work has two."""

    def __init__(self) -> None:
        super().__init__()
        config = BulkheadConfig(max_concurrent=2, max_wait_s=0.05, sheddable_max_concurrent=1)
        self.bulkhead = Bulkhead("billing", config)

    async def fetch(self) -> Tariff:
        await self.bulkhead.acquire()
        try:
            return await super().fetch()
        finally:
            self.bulkhead.release()

    async def fetch_many(self, keys: list[str]) -> dict[str, Tariff]:
        return {key: await self.fetch() for key in keys}


async def as_class(name: str, work: Awaitable[T]) -> T:
    with operation_class(name):
        return await work


@pytest.mark.parametrize("batched", [True, False], ids=["get_many", "get"])
async def test_a_critical_caller_never_shares_a_sheddable_fetch_that_gets_shed(
    cache: Cache, batched: bool
) -> None:
    """The surge's one failed screen pop: a customer's history was fetching the account the pop
    wanted; the pop joined that fetch, and billing's bulkhead shed it as sheddable work, pop and all."""
    backend = GuardedBackend()
    await backend.bulkhead.acquire()  # a sheddable call already holds the sheddable share

    def read() -> Awaitable[object]:
        if batched:
            return cache.get_many([KEY], POLICY, backend.fetch_many, dump_tariff, load_tariff)
        return get(cache, backend)

    history = asyncio.create_task(as_class("sheddable", read()))
    await asyncio.sleep(0.01)  # its fetch waits for a slot
    pop = await as_class("critical", read())
    found = pop[KEY] if isinstance(pop, dict) else pop
    assert isinstance(found, Cached) and found.value == Tariff("DOM-STD", 1)
    with pytest.raises(BackendShed):
        await history  # the sheddable caller is still shed: its own fetch was
    assert backend.calls == 1  # only the critical fetch reached the backend


async def test_a_batch_shed_at_capacity_serves_what_stale_if_error_allows(
    cache: Cache, clock: FakeClock
) -> None:
    """At capacity is one of the three reasons stale data may answer (docs/resilience.md)."""
    backend = GuardedBackend()
    policy = CachePolicy(ttl_s=60, stale_if_error_s=600)
    other = "tariff:v1:DOM-LOW"

    def read() -> Awaitable[dict[str, Cached[Tariff]]]:
        return cache.get_many([KEY, other], policy, backend.fetch_many, dump_tariff, load_tariff)

    await cache.get_many([KEY], policy, backend.fetch_many, dump_tariff, load_tariff)
    clock.now += 61
    await backend.bulkhead.acquire()  # the sheddable share is taken
    with pytest.raises(BackendShed):  # the batch is shed, and one key has nothing older to give
        await as_class("sheddable", read())
    await as_class("sheddable", cache.drain())
    found = await as_class(
        "sheddable", cache.get_many([KEY], policy, backend.fetch_many, dump_tariff, load_tariff)
    )
    assert (found[KEY].value.pence_per_m3, found[KEY].stale, found[KEY].age_s) == (1, True, 61)
    assert backend.calls == 1


async def test_lower_classes_join_a_fetch_of_a_higher_one(cache: Cache) -> None:
    backend = GuardedBackend()
    backend.gate = asyncio.Event()
    pop = asyncio.create_task(as_class("critical", get(cache, backend)))
    await asyncio.sleep(0.01)
    others = [asyncio.create_task(as_class(c, get(cache, backend))) for c in ("normal", "sheddable")]
    await asyncio.sleep(0.01)
    backend.gate.set()
    answers = await asyncio.gather(pop, *others)
    assert backend.calls == 1
    assert {a.value.pence_per_m3 for a in answers} == {1}


async def test_a_fresh_hit_fetches_nothing(cache: Cache, clock: FakeClock) -> None:
    backend = Backend()
    await get(cache, backend)
    clock.now += 59.5
    hit = await get(cache, backend)
    assert backend.calls == 1
    assert (hit.value.pence_per_m3, hit.age_s, hit.stale) == (1, 59.5, False)


async def test_stale_while_revalidate_answers_at_once_and_refreshes_once(
    cache: Cache, clock: FakeClock
) -> None:
    backend = Backend()
    await get(cache, backend)
    clock.now += 75
    backend.gate = asyncio.Event()  # the refresh hangs until we let it go
    answers = [await get(cache, backend) for _ in range(10)]  # would hang here if any waited for it
    assert all((a.value.pence_per_m3, a.age_s, a.stale) == (1, 75, True) for a in answers)
    await asyncio.sleep(0.01)
    assert backend.calls == 2  # the first fetch, and exactly one background refresh

    backend.gate.set()
    await cache.drain()
    refreshed = await get(cache, backend)
    assert (refreshed.value.pence_per_m3, refreshed.age_s, refreshed.stale) == (2, 0, False)
    assert backend.calls == 2


async def test_past_the_revalidate_window_the_caller_waits_for_a_fetch(
    cache: Cache, clock: FakeClock
) -> None:
    backend = Backend()
    await get(cache, backend)
    clock.now += 90  # ttl 60 + swr 30
    answer = await get(cache, backend)
    assert (answer.value.pence_per_m3, answer.stale, backend.calls) == (2, False, 2)


@pytest.mark.parametrize(
    "error",
    [BackendServerError("billing", "HTTP 503"), BackendShed("billing", "8 calls in flight; shed")],
    ids=["backend failed", "shed at capacity"],
)
async def test_stale_if_error_serves_the_old_value_until_its_window_closes(
    cache: Cache, clock: FakeClock, error: Exception
) -> None:
    policy = CachePolicy(ttl_s=60, stale_while_revalidate_s=0, stale_if_error_s=600)
    backend = Backend()
    stored_at = clock.now
    await get(cache, backend, policy)
    backend.error = error
    for age in (61.0, 300.0, 659.5):
        clock.now = stored_at + age
        answer = await get(cache, backend, policy)
        assert (answer.value.pence_per_m3, answer.age_s, answer.stale) == (1, age, True)
    assert backend.calls == 4  # every get past the ttl tried the backend first

    clock.now = stored_at + 660
    with pytest.raises(type(error)):
        await get(cache, backend, policy)
    assert backend.calls == 5

    backend.error = None  # the backend is back: a plain fetch again
    assert (await get(cache, backend, policy)).stale is False


async def test_not_found_is_raised_not_cached_and_drops_a_stale_entry(cache: Cache, clock: FakeClock) -> None:
    backend = Backend()
    backend.error = NotFound("billing", "no such tariff")
    for expected_calls in (1, 2):
        with pytest.raises(NotFound):
            await get(cache, backend)
        assert backend.calls == expected_calls

    backend.error = None
    await get(cache, backend)
    clock.now += 61  # stale, well within stale-if-error
    backend.error = NotFound("billing", "tariff withdrawn")
    with pytest.raises(NotFound):
        await get(cache, backend, CachePolicy(60, 0, 600))
    with pytest.raises(NotFound):  # not answered from the old entry: it is gone
        await get(cache, backend, CachePolicy(60, 0, 600))


async def test_an_entry_load_cannot_read_is_a_miss(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    await store.set(KEY, Entry(clock(), {"shape": "from an older deploy"}), 60)
    backend = Backend()
    answer = await get(Cache(store, clock), backend)
    assert (answer.value.pence_per_m3, backend.calls) == (1, 1)


async def test_a_value_dump_cannot_write_is_served_uncached(cache: Cache) -> None:
    backend = Backend()
    for expected_calls in (1, 2):
        answer = await cache.get(KEY, POLICY, backend.fetch, lambda t: {1j}, load_tariff)
        assert (answer.value.pence_per_m3, backend.calls) == (expected_calls, expected_calls)


async def test_memory_store_evicts_the_least_recently_used(clock: FakeClock) -> None:
    store = MemoryStore(max_entries=2, clock=clock)
    for key in ("a", "b"):
        await store.set(key, Entry(clock(), key), 60)
    assert await store.get("a") is not None  # "a" is now the most recently used
    await store.set("c", Entry(clock(), "c"), 60)
    assert (len(store), await store.get("b")) == (2, None)
    assert [await store.get(k) for k in ("a", "c")] == [Entry(clock(), "a"), Entry(clock(), "c")]


async def test_memory_store_forgets_after_keep_s(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    await store.set("a", Entry(clock(), 1), 60)
    clock.now += 60
    assert await store.get("a") is None


# --- one contract, both stores ---------------------------------------------------------------------


@pytest.fixture(params=["memory", "redis", "cluster"])
async def store(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[CacheStore]:
    if request.param == "memory":
        yield MemoryStore(clock=clock)
        return
    client = shared_client(request, request.param)
    if request.param == "redis":
        await client.flushall()
    yield RedisStore(client)
    await client.aclose()


async def test_store_round_trips_entries(store: CacheStore) -> None:
    assert await store.get("k") is None
    entry = Entry(1_800_000_000.25, {"code": "DOM-STD", "bands": [1, 2.5, None], "名": "水"})
    await store.set("k", entry, 60)
    assert await store.get("k") == entry
    await store.delete("k")
    assert await store.get("k") is None


async def test_store_batches_keys_of_any_slot_on_a_cluster_too(store: CacheStore) -> None:
    keys = [f"tariff:{n}" for n in range(20)]  # on a cluster: spread over the three masters
    await store.set_many([(key, Entry(1_800_000_000.0, n)) for n, key in enumerate(keys)], 60)
    found = await store.get_many([*keys, "absent"])
    assert [entry.payload if entry else None for entry in found] == [*range(20), None]


async def test_store_lock_is_exclusive_and_released_only_by_its_holder(store: CacheStore) -> None:
    token = await store.acquire_lock("k", 10)
    assert token is not None
    assert await store.acquire_lock("k", 10) is None
    await store.release_lock("k", "someone-else")
    assert await store.acquire_lock("k", 10) is None
    await store.release_lock("k", token)
    assert await store.acquire_lock("k", 10) is not None


# --- two "processes" on one redis-server -----------------------------------------------------------


async def test_a_value_fetched_by_one_process_is_a_hit_for_the_other(redis: Redis, clock: FakeClock) -> None:
    one, two = Cache(RedisStore(redis), clock), Cache(RedisStore(redis), clock)
    backend = Backend()
    await get(one, backend)
    clock.now += 10
    hit = await get(two, backend)
    assert (hit.value.pence_per_m3, hit.age_s, hit.stale, backend.calls) == (1, 10, False, 1)


async def test_100_cold_gets_across_two_processes_make_one_fetch(redis: Redis, clock: FakeClock) -> None:
    one, two = Cache(RedisStore(redis), clock), Cache(RedisStore(redis), clock)
    backend = Backend()
    backend.gate = asyncio.Event()
    gets = [asyncio.create_task(get(cache, backend)) for _ in range(50) for cache in (one, two)]
    await backend.entered.wait()  # one process holds the lock and fetches...
    await asyncio.sleep(0.1)  # ...while the other polls for a while (it would get the value anyway)
    backend.gate.set()
    results = await asyncio.gather(*gets)
    assert backend.calls == 1
    assert {r.value for r in results} == {Tariff("DOM-STD", 1)}


async def test_a_dead_lock_holder_delays_the_fetch_but_does_not_stop_it(
    redis: Redis, clock: FakeClock
) -> None:
    await redis.set(f"tidegate:cache:{KEY}:lock", "a process that died", px=200)
    backend = Backend()
    answer = await get(Cache(RedisStore(redis), clock, lock_wait_s=5), backend)
    assert (answer.value.pence_per_m3, backend.calls) == (1, 1)


async def test_a_silent_lock_holder_is_waited_for_only_lock_wait_s(redis: Redis, clock: FakeClock) -> None:
    await redis.set(f"tidegate:cache:{KEY}:lock", "a process that hangs", px=60_000)
    backend = Backend()
    answer = await get(Cache(RedisStore(redis), clock, lock_wait_s=0.2), backend)
    assert (answer.value.pence_per_m3, backend.calls) == (1, 1)


async def test_with_redis_stopped_every_get_fetches_and_none_fails(clock: FakeClock) -> None:
    server = start_redis()
    client = redis_client(server.url)
    try:
        cache = Cache(RedisStore(client), clock)
        backend = Backend()
        await get(cache, backend)
        assert backend.calls == 1
        server.stop()
        for expected_calls in (2, 3, 4):
            answer = await get(cache, backend)
            assert (answer.value.pence_per_m3, answer.stale) == (expected_calls, False)
            assert backend.calls == expected_calls
    finally:
        server.stop()
        await client.aclose()
