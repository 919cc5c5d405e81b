"""The cache's first tier (L1, `infra.cache.local`): decoded values kept in process for a few seconds.

What it must show: one AES-GCM open per store hit and none per L1 hit (counted with the real `Sealer`
over a real redis-server), nothing kept past the entry's freshness or the tier's own bound, and every
drop (forget, NotFound) dropping the local copy too. Counts, never timings.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio import Redis

from infra.cache.cache import Cache, CachePolicy
from infra.cache.local import LocalTier
from infra.cache.store import MemoryStore, RedisStore
from infra.errors import NotFound
from infra.sealed import Sealer
from tests.support.clocks import FakeClock

KEY = "billing:account:v1:00100001"
POLICY = CachePolicy(ttl_s=60, stale_while_revalidate_s=30, stale_if_error_s=600)


@dataclass(frozen=True)
class Arrears:
    account_no: str
    fen: int


class Sealed:
    """Dump and load the way `services.cached_reads` does for PII (AES-GCM), counting the opens."""

    def __init__(self, sealer: Sealer) -> None:
        self.sealer = sealer
        self.opens = 0

    def dump(self, value: Arrears) -> object:
        return self.sealer.seal(KEY, {"account_no": value.account_no, "fen": value.fen})

    def load(self, payload: Any) -> Arrears:
        self.opens += 1
        opened = self.sealer.open(KEY, payload)
        assert isinstance(opened, dict)
        return Arrears(opened["account_no"], opened["fen"])


class Billing:
    def __init__(self) -> None:
        self.calls = 0
        self.missing: set[str] = set()

    async def fetch(self) -> Arrears:
        self.calls += 1
        await asyncio.sleep(0)
        return Arrears("00100001", 100 * self.calls)

    async def fetch_many(self, keys: list[str]) -> dict[str, Arrears]:
        self.calls += 1
        await asyncio.sleep(0)
        return {k: Arrears(k, 100 * self.calls) for k in keys if k not in self.missing}


# --- the tier alone ----------------------------------------------------------------------------------


def test_a_value_is_kept_for_the_shorter_of_its_freshness_and_the_tiers_bound(clock: FakeClock) -> None:
    tier = LocalTier(ttl_s=2.0, clock=clock)
    tier.put("long", "a", fresh_for_s=60)
    tier.put("short", "b", fresh_for_s=0.5)
    tier.put("spent", "c", fresh_for_s=0)
    assert (tier.get("long"), tier.get("short"), tier.get("spent")) == ("a", "b", None)
    clock.advance(1)
    assert (tier.get("long"), tier.get("short")) == ("a", None)
    clock.advance(1)
    assert tier.get("long") is None and len(tier) == 0
    assert tier.hits == 3


def test_the_least_recently_used_go_first(clock: FakeClock) -> None:
    tier = LocalTier(max_entries=2, ttl_s=10, clock=clock)
    tier.put("a", 1, 10)
    tier.put("b", 2, 10)
    assert tier.get("a") == 1  # a is now the most recent
    tier.put("c", 3, 10)
    assert (tier.get("a"), tier.get("b"), tier.get("c")) == (1, None, 3)
    tier.discard("a")
    assert tier.get("a") is None


@pytest.mark.parametrize(("entries", "ttl"), [(0, 1.0), (1, 0.0), (1, -1.0)])
def test_nonsense_bounds_are_refused(entries: int, ttl: float) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        LocalTier(entries, ttl)


# --- in front of the store ---------------------------------------------------------------------------


async def test_one_aes_gcm_open_per_store_hit_and_none_per_local_hit(redis: Redis, clock: FakeClock) -> None:
    """Two replicas on one Redis: the one that did not fetch opens the sealed entry once, then never
    again while its copy is fresh; without the tier every read opens it."""
    sealer, billing = Sealer(), Billing()
    fetcher, reader, plain = Sealed(sealer), Sealed(sealer), Sealed(sealer)
    one = Cache(RedisStore(redis), clock, local=LocalTier(ttl_s=2.0, clock=clock))
    two = Cache(RedisStore(redis), clock, local=LocalTier(ttl_s=2.0, clock=clock))
    untiered = Cache(RedisStore(redis), clock)
    await one.get(KEY, POLICY, billing.fetch, fetcher.dump, fetcher.load)
    for _ in range(10):
        read = await two.get(KEY, POLICY, billing.fetch, reader.dump, reader.load)
        await untiered.get(KEY, POLICY, billing.fetch, plain.dump, plain.load)
        assert (read.value.fen, read.stale) == (100, False)
    assert (billing.calls, fetcher.opens, reader.opens, plain.opens) == (1, 0, 1, 10)
    clock.advance(2)  # the tier's bound: the next read goes to Redis once more
    await two.get(KEY, POLICY, billing.fetch, reader.dump, reader.load)
    assert (billing.calls, reader.opens) == (1, 2)


async def test_batches_read_the_store_only_for_keys_not_kept(clock: FakeClock) -> None:
    sealer, billing = Sealer(), Billing()
    codec = Sealed(sealer)
    store = MemoryStore(clock=clock)
    cache = Cache(store, clock, local=LocalTier(ttl_s=5.0, clock=clock))
    first = await cache.get_many(["a", "b"], POLICY, billing.fetch_many, codec.dump, codec.load)
    again = await cache.get_many(["a", "b", "c"], POLICY, billing.fetch_many, codec.dump, codec.load)
    assert {k: v.value.fen for k, v in first.items()} == {"a": 100, "b": 100}
    assert {k: v.value.fen for k, v in again.items()} == {"a": 100, "b": 100, "c": 200}
    assert (billing.calls, codec.opens) == (2, 0)  # c fetched alone; nothing opened: all kept


async def test_nothing_is_served_from_the_tier_past_the_entrys_freshness(clock: FakeClock) -> None:
    """An entry read from the store 59 s old is kept 1 s, not the tier's 5: stale entries always go
    through the store, where stale-while-revalidate decides."""
    billing = Billing()
    codec = Sealed(Sealer())
    store = MemoryStore(clock=clock)
    writer = Cache(store, clock)
    await writer.get(KEY, POLICY, billing.fetch, codec.dump, codec.load)
    clock.advance(59)
    tiered = Cache(store, clock, local=LocalTier(ttl_s=5.0, clock=clock))
    assert not (await tiered.get(KEY, POLICY, billing.fetch, codec.dump, codec.load)).stale
    clock.advance(1.5)
    late = await tiered.get(KEY, POLICY, billing.fetch, codec.dump, codec.load)
    assert late.stale and late.value.fen == 100  # served stale from the store, a refresh started
    await tiered.drain()
    assert billing.calls == 2


async def test_forget_and_not_found_drop_the_local_copy(clock: FakeClock) -> None:
    billing = Billing()
    codec = Sealed(Sealer())
    cache = Cache(MemoryStore(clock=clock), clock, local=LocalTier(ttl_s=5.0, clock=clock))
    await cache.get(KEY, POLICY, billing.fetch, codec.dump, codec.load)
    await cache.forget(KEY)
    assert (await cache.get(KEY, POLICY, billing.fetch, codec.dump, codec.load)).value.fen == 200

    await cache.get_many(["gone"], POLICY, billing.fetch_many, codec.dump, codec.load)
    billing.missing.add("gone")
    clock.advance(61)  # past freshness: served stale while a refresh asks billing, which knows it no more
    await cache.get_many(["gone"], POLICY, billing.fetch_many, codec.dump, codec.load)
    await cache.drain()
    assert await cache.get_many(["gone"], POLICY, billing.fetch_many, codec.dump, codec.load) == {}

    async def refused() -> Arrears:
        raise NotFound("billing", "no such account")

    clock.advance(61)
    with pytest.raises(NotFound):
        await cache.get(KEY, POLICY, refused, codec.dump, codec.load)
    assert (await cache.get(KEY, POLICY, billing.fetch, codec.dump, codec.load)).value.fen > 200


async def test_another_replicas_write_is_seen_within_the_tiers_bound(redis: Redis, clock: FakeClock) -> None:
    """Replica two forgets the key after a write; replica one answers from its copy for at most the
    tier's bound (documented in infra/cache/local.py), then fetches the new value."""
    billing = Billing()
    codec = Sealed(Sealer())
    one = Cache(RedisStore(redis), clock, local=LocalTier(ttl_s=2.0, clock=clock))
    two = Cache(RedisStore(redis), clock, local=LocalTier(ttl_s=2.0, clock=clock))
    await one.get(KEY, POLICY, billing.fetch, codec.dump, codec.load)
    await two.forget(KEY)
    assert (await one.get(KEY, POLICY, billing.fetch, codec.dump, codec.load)).value.fen == 100
    clock.advance(2)
    assert (await one.get(KEY, POLICY, billing.fetch, codec.dump, codec.load)).value.fen == 200
