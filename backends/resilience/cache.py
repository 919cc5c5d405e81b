"""A cache for semi-static backend data (tariffs, code tables, network layers) with RFC 5861 semantics
and single-flight fetches.

For an entry of age `a` under `CachePolicy(ttl_s, stale_while_revalidate_s, stale_if_error_s)`:

    a < ttl                          fresh: served, no fetch
    a < ttl + stale_while_revalidate served at once with stale=True; one background refresh per key
    otherwise (or no entry)          fetched; the caller waits
    fetch raises BackendUnavailable  the entry is served with stale=True while a < ttl + stale_if_error,
                                     else the error propagates (the resolver answers BACKEND_UNAVAILABLE)
    fetch raises BackendRejected     propagates, is never cached, and drops the entry: the system of
                                     record said "no" (NotFound), so nothing older may answer for it

Single-flight: concurrent gets for one key in one process share one fetch (one task, awaited behind
`asyncio.shield` so a cancelled caller does not cancel the others' fetch). Across processes sharing a
`RedisStore`, the fetcher holds `SET <key>:lock NX PX`; the others poll the store for a fresh value for
up to `lock_wait_s`, take the lock themselves if it is freed or expires, and fetch without it if the
holder stays silent past the wait.

The cache never makes a request fail on its own account: a store that is down reads as a miss (every
get fetches), an entry `load` cannot read is a miss, a value `dump` cannot write is served uncached.

PII: this module stores exactly what `dump` gives it, in the clear, in process memory or in Redis.
Callers cache only masked or non-PII projections, or encrypt in `dump`/`load`. Keys outlive deploys in
Redis: put a shape version in them (`"tariffs:v2:..."`) when the dumped shape changes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from backends.errors import BackendRejected, BackendUnavailable
from backends.resilience.cache_store import CacheStore, Entry

logger = logging.getLogger("tidegate.cache")

T = TypeVar("T")
Fetch = Callable[[], Awaitable[T]]
Dump = Callable[[T], object]  # to a JSON-able value (anything orjson serializes)
Load = Callable[[Any], T]  # from that value, as read back


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """How long a kind of data is fresh, and how long past that it may still answer (seconds)."""

    ttl_s: float
    stale_while_revalidate_s: float = 0.0
    stale_if_error_s: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.ttl_s) and self.ttl_s > 0):
            raise ValueError(f"ttl_s must be positive and finite, not {self.ttl_s}")
        for name in ("stale_while_revalidate_s", "stale_if_error_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be non-negative and finite, not {value}")

    @property
    def keep_s(self) -> float:
        """How long a store must keep an entry for it to serve any of its purposes."""
        return self.ttl_s + max(self.stale_while_revalidate_s, self.stale_if_error_s)


@dataclass(frozen=True, slots=True)
class Cached(Generic[T]):
    """A value and how old it is, so the GraphQL layer can mark stale paths and say "as of ..."."""

    value: T
    age_s: float
    stale: bool


@dataclass(frozen=True, slots=True)
class _Hit(Generic[T]):
    stored_at: float
    value: T


class Cache:
    """Gets through a `CacheStore`; `clock` is wall-clock seconds (entries are stamped with it)."""

    def __init__(
        self,
        store: CacheStore,
        clock: Callable[[], float] = time.time,
        *,
        lock_ttl_s: float = 10.0,
        lock_wait_s: float = 3.0,
        poll_interval_s: float = 0.05,
    ) -> None:
        self._store = store
        self._clock = clock
        self._lock_ttl_s = lock_ttl_s
        self._lock_wait_s = lock_wait_s
        self._poll_interval_s = poll_interval_s
        self._inflight: dict[str, asyncio.Task[Cached[Any]]] = {}

    async def get(
        self, key: str, policy: CachePolicy, fetch: Fetch[T], dump: Dump[T], load: Load[T]
    ) -> Cached[T]:
        hit = await self._read(key, load)
        if hit is not None:
            age = self._age(hit)
            if age < policy.ttl_s:
                return Cached(hit.value, age, stale=False)
            if age < policy.ttl_s + policy.stale_while_revalidate_s:
                self._start(key, policy, fetch, dump, load, hit, background=True)
                return Cached(hit.value, age, stale=True)
        task = self._start(key, policy, fetch, dump, load, hit, background=False)
        return cast("Cached[T]", await asyncio.shield(task))

    async def drain(self) -> None:
        """Wait for every fetch in flight, background refreshes included (tests, graceful shutdown)."""
        while self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    def _start(
        self,
        key: str,
        policy: CachePolicy,
        fetch: Fetch[T],
        dump: Dump[T],
        load: Load[T],
        seen: _Hit[T] | None,
        *,
        background: bool,
    ) -> asyncio.Task[Cached[Any]]:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._fill(key, policy, fetch, dump, load, seen))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._finished(key, done, background))
        return task

    def _finished(self, key: str, task: asyncio.Task[Cached[Any]], background: bool) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if task.cancelled():
            return
        exc = task.exception()  # retrieved here too, so a refresh nobody awaits does not warn at exit
        if exc is not None and background:
            logger.warning("Background refresh of %s failed (%s: %s)", key, type(exc).__name__, exc)

    async def _fill(
        self,
        key: str,
        policy: CachePolicy,
        fetch: Fetch[T],
        dump: Dump[T],
        load: Load[T],
        seen: _Hit[T] | None,
    ) -> Cached[T]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lock_wait_s
        token = await self._store.acquire_lock(key, self._lock_ttl_s)
        while True:
            # Another process may have filled the key since we looked: before we took the lock, or while
            # we waited for its holder.
            hit = await self._read(key, load)
            if hit is not None:
                seen = hit
                if self._age(hit) < policy.ttl_s:
                    if token is not None:
                        await self._store.release_lock(key, token)
                    return Cached(hit.value, self._age(hit), stale=False)
            if token is not None:
                break
            if loop.time() >= deadline:
                logger.warning(
                    "Cache lock holder for %s gave no value in %.1f s: fetching", key, self._lock_wait_s
                )
                break
            await asyncio.sleep(self._poll_interval_s)
            token = await self._store.acquire_lock(key, self._lock_ttl_s)
        try:
            return await self._fetch(key, policy, fetch, dump, seen)
        finally:
            if token is not None:
                await self._store.release_lock(key, token)

    async def _fetch(
        self, key: str, policy: CachePolicy, fetch: Fetch[T], dump: Dump[T], seen: _Hit[T] | None
    ) -> Cached[T]:
        try:
            value = await fetch()
        except BackendUnavailable as exc:
            if seen is not None and (age := self._age(seen)) < policy.ttl_s + policy.stale_if_error_s:
                logger.info("Serving %s %.0f s old: %s", key, age, exc)
                return Cached(seen.value, age, stale=True)
            raise
        except BackendRejected:
            await self._store.delete(key)
            raise
        try:
            await self._store.set(key, Entry(self._clock(), dump(value)), policy.keep_s)
        except Exception:  # the caller's dump, or a value orjson cannot write: serve it uncached
            logger.exception("Cannot cache %s: served uncached", key)
        return Cached(value, 0.0, stale=False)

    async def _read(self, key: str, load: Load[T]) -> _Hit[T] | None:
        entry = await self._store.get(key)
        if entry is None:
            return None
        try:
            return _Hit(entry.stored_at, load(entry.payload))
        except Exception:  # a shape from an older deploy, say: a miss, and the fetch overwrites it
            logger.warning("Cannot load cached %s: treated as a miss", key, exc_info=True)
            return None

    def _age(self, hit: _Hit[Any]) -> float:
        return max(0.0, self._clock() - hit.stored_at)  # clamped: another replica's clock may run ahead
