"""The semi-static reads through the cache, against the real simulators: counted in their own stats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from backends.registry import BACKENDS, open_backends
from domain.ports import Backends
from infra.cache.cache import Cache, CachePolicy
from infra.cache.store import MemoryStore, RedisStore
from infra.deadline import deadline
from infra.errors import BackendServerError, BackendTimeout, BackendUnavailable
from infra.http.config import BackendConfig
from infra.sealed import Sealer
from services.cached_reads import CachedReads, CachePolicies
from tests.conftest import Simulators
from tests.support.admin import set_faults, stats
from tests.support.clocks import FakeClock
from tests.support.redis_server import RedisProcess
from tests.support.world import seeded_world

NOW = 1_800_000_000.0  # epoch seconds: entries are stamped with wall-clock time
POLICIES = CachePolicies(
    accounts=CachePolicy(60, 0, 600), outages=CachePolicy(30, 30, 300), network=CachePolicy(3600, 0, 3600)
)


@pytest.fixture
async def backends(clean_sims: Simulators) -> AsyncIterator[Backends]:
    configs = {n: BackendConfig(n, clean_sims[n].url, timeout_s=5.0) for n in BACKENDS}
    opened = open_backends(configs)
    try:
        yield opened
    finally:
        await opened.aclose()


def _reads(backends: Backends, clock: FakeClock, store: Any = None) -> tuple[CachedReads, Cache]:
    cache = Cache(store or MemoryStore(clock=clock), clock)
    return CachedReads(backends, cache, POLICIES, Sealer(), clock), cache


def _requests(sims: Simulators, service: str, op: str) -> int:
    found: dict[str, Any] = stats(sims[service].url)["operations"].get(op, {})
    return int(found.get("requests", 0))


def _account_nos(count: int) -> list[str]:
    return [a.account_no for a in seeded_world().accounts[:count]]


async def test_100_concurrent_misses_make_one_backend_call(
    clean_sims: Simulators, backends: Backends
) -> None:
    reads, _ = _reads(backends, FakeClock(NOW))
    number = _account_nos(1)[0]
    outages, accounts = await asyncio.gather(
        asyncio.gather(*(reads.outages(True) for _ in range(100))),
        asyncio.gather(*(reads.accounts([number]) for _ in range(100))),
    )
    assert _requests(clean_sims, "gis", "query:4") == 1
    assert _requests(clean_sims, "billing", "GetAccounts") == 1
    assert len({id(o.value) for o in outages}) == 1  # one answer, shared
    assert {a[number].value.account_no for a in accounts} == {number}


async def test_a_batch_fetches_only_what_it_misses(clean_sims: Simulators, backends: Backends) -> None:
    reads, _ = _reads(backends, FakeClock(NOW))
    first, more = _account_nos(3)[:2], _account_nos(3)
    await reads.accounts(first)
    found = await reads.accounts(more)
    assert sorted(found) == sorted(more)
    assert _requests(clean_sims, "billing", "GetAccounts") == 2  # the second asked for the third only
    assert [found[n].stale for n in more] == [False, False, False]
    assert await reads.accounts(["0000000000"]) == {}  # unknown: absent, and nothing cached for it


async def test_stale_until_the_stale_limit_then_backend_unavailable(
    clean_sims: Simulators, backends: Backends
) -> None:
    clock = FakeClock(NOW)
    reads, _ = _reads(backends, clock)
    fresh = await reads.outages(True)
    assert not fresh.stale
    set_faults(clean_sims["gis"].url, error_rate=1.0)  # every GIS call now fails with a 5xx
    clock.now += 30 + 30 + 1  # past ttl and stale-while-revalidate: a fetch is due, and fails
    served = await reads.outages(True)
    assert (served.value, served.stale, served.age_s) == (fresh.value, True, 61)
    clock.now += 329 - 61  # a second inside ttl + stale-if-error (330)
    assert (await reads.outages(True)).stale
    clock.now += 1  # exactly ttl + stale-if-error: too old to stand in any more
    with pytest.raises(BackendUnavailable):
        await reads.outages(True)
    assert _requests(clean_sims, "gis", "query:4") == 4


async def test_stale_while_revalidate_answers_at_once_and_refreshes_once(
    clean_sims: Simulators, backends: Backends
) -> None:
    clock = FakeClock(NOW)
    reads, cache = _reads(backends, clock)
    await reads.outages(None)
    clock.now += 45  # past ttl (30), within ttl + swr (60)
    answers = await asyncio.gather(*(reads.outages(None) for _ in range(20)))
    assert all(a.stale and a.age_s == 45 for a in answers)
    await cache.drain()
    assert _requests(clean_sims, "gis", "query:4") == 2
    assert not (await reads.outages(None)).stale


async def test_a_late_answer_past_the_deadline_serves_stale_and_still_fills_the_cache(
    clean_sims: Simulators, backends: Backends
) -> None:
    clock = FakeClock(NOW)
    reads, cache = _reads(backends, clock)
    number = _account_nos(1)[0]
    await reads.accounts([number])
    clock.now += 120  # past ttl (60, no swr): a fetch is due
    set_faults(clean_sims["billing"].url, ops={"GetAccounts": {"latency_ms": 400}})
    with deadline(0.05):
        served = (await reads.accounts([number]))[number]
    assert served.stale and served.age_s == 120
    await cache.drain()  # the fetch ran on, detached from the caller's deadline
    assert not (await reads.accounts([number]))[number].stale
    assert _requests(clean_sims, "billing", "GetAccounts") == 2


async def test_a_cold_key_past_the_deadline_is_a_timeout(clean_sims: Simulators, backends: Backends) -> None:
    reads, cache = _reads(backends, FakeClock(NOW))
    set_faults(clean_sims["billing"].url, ops={"GetAccounts": {"latency_ms": 400}})
    with deadline(0.05), pytest.raises(BackendTimeout):
        await reads.accounts(_account_nos(1))
    await cache.drain()


async def test_a_failing_batch_without_stale_data_fails(clean_sims: Simulators, backends: Backends) -> None:
    reads, _ = _reads(backends, FakeClock(NOW))
    set_faults(clean_sims["billing"].url, error_rate=1.0)
    with pytest.raises(BackendServerError):
        await reads.accounts(_account_nos(2))


async def test_cached_pii_is_sealed_in_redis(
    clean_sims: Simulators, backends: Backends, redis_server: RedisProcess
) -> None:
    redis = Redis.from_url(redis_server.url)
    try:
        await redis.flushdb()
        reads, _ = _reads(backends, FakeClock(NOW), RedisStore(redis))
        numbers = _account_nos(20)
        got = await reads.accounts(numbers)
        secrets = [
            s
            for a in got.values()
            for s in (a.value.mobile, a.value.holder_name, a.value.address, a.value.id_card)
            if s
        ]
        assert len(secrets) > 20  # the records the caller gets are whole (masking is the API's job)
        keys = await redis.keys("*billing:account*")
        values = [await redis.get(k) for k in keys]
        raw = b"".join(v for v in values if isinstance(v, bytes))
        assert len(keys) == len(got) and b'"v1:' in raw  # stored, as sealed blobs
        leaked = [s for s in secrets if s.encode() in raw]
        assert leaked == []
        again, _ = _reads(backends, FakeClock(NOW), RedisStore(redis))  # another key cannot open them: misses
        assert sorted(await again.accounts(numbers)) == sorted(got)
        assert _requests(clean_sims, "billing", "GetAccounts") == 2
    finally:
        await redis.aclose()
