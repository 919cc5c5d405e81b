"""A cache for semi-static backend data (tariffs, code tables, network layers) with RFC 5861 semantics
and single-flight fetches.

For an entry of age `a` under `CachePolicy(ttl_s, stale_while_revalidate_s, stale_if_error_s)`:

    a < ttl                          fresh: served, no fetch
    a < ttl + stale_while_revalidate served at once with stale=True; one background refresh per key
    otherwise (or no entry)          fetched; the caller waits
    fetch raises BackendUnavailable  the entry is served with stale=True while a < ttl + stale_if_error,
    or BackendShed (at capacity)     else the error propagates (the resolver answers BACKEND_UNAVAILABLE,
                                     or RATE_LIMITED)
    fetch raises BackendRejected     propagates, is never cached, and drops the entry: the system of
                                     record said "no" (NotFound), so nothing older may answer for it

Batches: `get_many` reads every key in one store round trip (MGET) and fetches all the keys that need
it with one `fetch_many` call; a key already being fetched in this process is awaited, not fetched
again. Batched fetches coalesce within a process only (no per-key Redis locks: a batch of 50 locks
would cost more than the duplicate it saves).

Deadlines: a caller waits for a fetch no longer than its operation's time left (`infra.deadline`);
past that it gets the entry it saw, stale, if that is within stale-if-error, else `BackendTimeout`.
The fetch itself runs detached from the caller's deadline, with the backend's own timeout, so a late
answer still fills the cache for the next caller (the back office does the work either way).

Single-flight: concurrent gets for one key in one process share one fetch (one task, awaited behind
`asyncio.shield` so a cancelled caller does not cancel the others' fetch). A fetch runs as the class
of work that started it (`infra.resilience.priority`), and the billing guards may shed a sheddable
one, so a caller joins a fetch only of its own class or a more critical one: a screen pop that meets
a customer-history fetch of the same account in flight starts its own at critical rank rather than
share the history's shedding (one more backend call, only while the two overlap). Across processes sharing a
`RedisStore`, the fetcher holds `SET <key>:lock NX PX`; the others poll the store for a fresh value for
up to `lock_wait_s`, take the lock themselves if it is freed or expires, and fetch without it if the
holder stays silent past the wait.

Two tiers: with a `LocalTier`, a fresh entry's decoded value is also kept in process for a few seconds
(`infra.cache.local` says why and for how long), so a repeated read costs neither a store round trip
nor an AES-GCM open; only fresh entries are kept there, and every drop here (`forget`, a rejection)
drops it there too.

The cache never makes a request fail on its own account: a store that is down reads as a miss (every
get fetches), an entry `load` cannot read is a miss, a value `dump` cannot write is served uncached.

PII: this module stores exactly what `dump` gives it, in the clear, in process memory or in Redis.
Callers cache only masked or non-PII projections, or encrypt in `dump`/`load`. Keys outlive deploys in
Redis: put a shape version in them (`"tariffs:v2:..."`) when the dumped shape changes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from infra.cache.local import LocalTier
from infra.cache.store import CacheStore, Entry
from infra.deadline import detached_context, time_left
from infra.errors import BackendRejected, BackendTimeout, BackendUnavailable
from infra.resilience.bulkhead import BackendShed
from infra.resilience.priority import rank
from infra.telemetry import HIT, MISS, STALE

logger = logging.getLogger("tidegate.cache")

T = TypeVar("T")
Fetch = Callable[[], Awaitable[T]]
FetchMany = Callable[[list[str]], Awaitable[Mapping[str, T]]]  # cache key -> value; absent: none such
Dump = Callable[[T], object]  # to a JSON-able value (anything orjson serializes)
Load = Callable[[Any], T]  # from that value, as read back
OnResult = Callable[[str], None]  # told `hit`, `miss` or `stale` per key read (metrics)


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
    stored_at: float = 0.0  # epoch seconds when the system of record gave this value ("as of")


@dataclass(frozen=True, slots=True)
class _Hit(Generic[T]):
    stored_at: float
    value: T


F = TypeVar("F", bound=asyncio.Future[Any])


@dataclass(frozen=True, slots=True)
class _Flight(Generic[F]):
    """A fetch in flight for a key (a task, or a future of a batch) and the rank of the class of work
    it runs as (`priority.rank`: 0 critical, 2 sheddable): what the backend's guards will treat it as."""

    fetch: F
    rank: int


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
        local: LocalTier | None = None,
    ) -> None:
        self._store = store
        self._local = local
        self._clock = clock
        self._lock_ttl_s = lock_ttl_s
        self._lock_wait_s = lock_wait_s
        self._poll_interval_s = poll_interval_s
        self._inflight: dict[str, _Flight[asyncio.Task[Cached[Any]]]] = {}
        self._pending: dict[str, _Flight[asyncio.Future[Cached[Any] | None]]] = {}  # keys in a batch
        self._batches: set[asyncio.Task[None]] = set()

    async def get(
        self,
        key: str,
        policy: CachePolicy,
        fetch: Fetch[T],
        dump: Dump[T],
        load: Load[T],
        *,
        backend: str = "cache",
        on_result: OnResult | None = None,
    ) -> Cached[T]:
        """`on_result` hears `hit`, `miss` (fetched, or failed) or `stale` (served past freshness)."""
        report = on_result or _ignore
        kept = self._kept(key)
        if kept is not None:
            report(HIT)
            return self._cached(kept, stale=False)
        hit = await self._read(key, load)
        if hit is not None:
            age = self._age(hit)
            if age < policy.ttl_s:
                self._keep(key, hit, policy, age)
                report(HIT)
                return self._cached(hit, stale=False)
            if age < policy.ttl_s + policy.stale_while_revalidate_s:
                self._start(key, policy, fetch, dump, load, hit, background=True)
                report(STALE)
                return self._cached(hit, stale=True)
        task = self._start(key, policy, fetch, dump, load, hit, background=False)
        try:
            found = await self._wait(task, key, hit, policy, backend)
        except Exception:
            report(MISS)
            raise
        assert found is not None  # a single get's fetch returns a value or raises
        report(STALE if found.stale else MISS)
        return found

    async def get_many(
        self,
        keys: Sequence[str],
        policy: CachePolicy,
        fetch_many: FetchMany[T],
        dump: Dump[T],
        load: Load[T],
        *,
        backend: str = "cache",
        on_result: OnResult | None = None,
    ) -> dict[str, Cached[T]]:
        """Each key's value; a key the backend does not know is absent. A failure that stale data
        cannot cover raises for the whole batch (the loader fails each key of it). `on_result` hears
        of each distinct key as `get` reports it."""
        report = on_result or _ignore
        out: dict[str, Cached[T]] = {}
        wanted: list[str] = []
        for key in dict.fromkeys(keys):
            kept = self._kept(key)
            if kept is None:
                wanted.append(key)
            else:
                out[key] = self._cached(kept, stale=False)
                report(HIT)
        hits = await self._read_many(wanted, load) if wanted else []
        refresh: dict[str, _Hit[T] | None] = {}
        need: dict[str, _Hit[T] | None] = {}
        for key, hit in zip(wanted, hits, strict=True):
            if hit is not None:
                age = self._age(hit)
                if age < policy.ttl_s:
                    self._keep(key, hit, policy, age)
                    out[key] = self._cached(hit, stale=False)
                    report(HIT)
                    continue
                if age < policy.ttl_s + policy.stale_while_revalidate_s:
                    out[key] = self._cached(hit, stale=True)
                    refresh[key] = hit
                    report(STALE)
                    continue
            need[key] = hit
        if refresh:
            self._start_many(refresh, policy, fetch_many, dump, background=True)
        if need:
            futures = self._start_many(need, policy, fetch_many, dump, background=False)
            results = await asyncio.gather(
                *(self._wait(futures[k], k, need[k], policy, backend) for k in need), return_exceptions=True
            )
            for result in results:
                report(STALE if isinstance(result, Cached) and result.stale else MISS)
            for key, result in zip(need, results, strict=True):
                if isinstance(result, BaseException):
                    raise result
                if result is not None:
                    out[key] = result
        return out

    async def forget(self, key: str) -> None:
        """Drop a key: the next get fetches (a write this process made has outdated it)."""
        self._drop_kept(key)
        await self._store.delete(key)

    async def drain(self) -> None:
        """Wait for every fetch in flight, background refreshes included (tests, graceful shutdown)."""
        while self._inflight or self._batches:
            tasks = [flight.fetch for flight in self._inflight.values()]
            await asyncio.gather(*tasks, *self._batches, return_exceptions=True)

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
        flight, mine = self._inflight.get(key), rank()
        if flight is not None and flight.rank <= mine:
            return flight.fetch
        fill = self._fill(key, policy, fetch, dump, load, seen)
        task = asyncio.create_task(fill, context=detached_context())
        self._inflight[key] = _Flight(task, mine)  # later callers of this rank join this one
        task.add_done_callback(lambda done: self._finished(key, done, background))
        return task

    def _finished(self, key: str, task: asyncio.Task[Cached[Any]], background: bool) -> None:
        flight = self._inflight.get(key)
        if flight is not None and flight.fetch is task:
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
                if (age := self._age(hit)) < policy.ttl_s:
                    self._keep(key, hit, policy, age)
                    if token is not None:
                        await self._store.release_lock(key, token)
                    return self._cached(hit, stale=False)
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
        except (BackendUnavailable, BackendShed) as exc:
            if seen is not None and (age := self._age(seen)) < policy.ttl_s + policy.stale_if_error_s:
                logger.info("Serving %s %.0f s old: %s", key, age, exc)
                return self._cached(seen, stale=True)
            raise
        except BackendRejected:
            self._drop_kept(key)
            await self._store.delete(key)
            raise
        now = self._clock()
        try:
            await self._store.set(key, Entry(now, dump(value)), policy.keep_s)
        except Exception:  # the caller's dump, or a value orjson cannot write: serve it uncached
            logger.exception("Cannot cache %s: served uncached", key)
        else:
            self._keep(key, _Hit(now, value), policy, 0.0)
        return Cached(value, 0.0, stale=False, stored_at=now)

    async def _read(self, key: str, load: Load[T]) -> _Hit[T] | None:
        entry = await self._store.get(key)
        if entry is None:
            return None
        try:
            return _Hit(entry.stored_at, load(entry.payload))
        except Exception:  # a shape from an older deploy, say: a miss, and the fetch overwrites it
            logger.warning("Cannot load cached %s: treated as a miss", key, exc_info=True)
            return None

    async def _read_many(self, keys: list[str], load: Load[T]) -> list[_Hit[T] | None]:
        out: list[_Hit[T] | None] = []
        for key, entry in zip(keys, await self._store.get_many(keys), strict=True):
            try:
                out.append(None if entry is None else _Hit(entry.stored_at, load(entry.payload)))
            except Exception:
                logger.warning("Cannot load cached %s: treated as a miss", key, exc_info=True)
                out.append(None)
        return out

    def _start_many(
        self,
        keys: dict[str, _Hit[T] | None],
        policy: CachePolicy,
        fetch_many: FetchMany[T],
        dump: Dump[T],
        *,
        background: bool,
    ) -> dict[str, asyncio.Future[Cached[Any] | None]]:
        """A future per key: one already pending in this process at this caller's rank or a more
        critical one, or one of a new batch fetch (which later callers of its rank then join)."""
        loop = asyncio.get_running_loop()
        here = rank()
        flights = {k: flight for k in keys if (flight := self._pending.get(k)) is not None}
        futures = {k: flight.fetch for k, flight in flights.items() if flight.rank <= here}
        fresh = {k: seen for k, seen in keys.items() if k not in futures}
        if fresh:
            mine = {k: loop.create_future() for k in fresh}
            for key, future in mine.items():
                self._pending[key] = _Flight(future, here)
                future.add_done_callback(functools.partial(self._settled, key))
            batch = self._fill_many(fresh, mine, policy, fetch_many, dump, background)
            task = asyncio.create_task(batch, context=detached_context())
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)
            futures.update(mine)
        return futures

    def _settled(self, key: str, future: asyncio.Future[Cached[Any] | None]) -> None:
        flight = self._pending.get(key)
        if flight is not None and flight.fetch is future:
            del self._pending[key]
        if not future.cancelled():
            future.exception()  # retrieved, so a failed refresh nobody awaits does not warn at exit

    async def _fill_many(
        self,
        seen: dict[str, _Hit[T] | None],
        futures: dict[str, asyncio.Future[Cached[Any] | None]],
        policy: CachePolicy,
        fetch_many: FetchMany[T],
        dump: Dump[T],
        background: bool,
    ) -> None:
        keys = list(seen)
        try:
            found = await fetch_many(keys)
        except (BackendUnavailable, BackendShed) as exc:
            if background:
                logger.warning(
                    "Background refresh of %d keys failed (%s: %s)", len(keys), type(exc).__name__, exc
                )
            for key, hit in seen.items():
                if hit is not None and self._age(hit) < policy.ttl_s + policy.stale_if_error_s:
                    _resolve(futures[key], self._cached(hit, stale=True))
                else:
                    _fail(futures[key], exc)
            return
        except BaseException as exc:  # BackendRejected, or a bug: every waiter hears of it
            if isinstance(exc, BackendRejected):
                for key in keys:
                    self._drop_kept(key)
                    await self._store.delete(key)
            for future in futures.values():
                _fail(future, exc)
            if not isinstance(exc, Exception):
                raise
            return
        now = self._clock()
        rows: list[tuple[str, Entry]] = []
        for key in keys:
            if key in found:
                try:
                    rows.append((key, Entry(now, dump(found[key]))))
                except Exception:
                    logger.exception("Cannot cache %s: served uncached", key)
                else:
                    self._keep(key, _Hit(now, found[key]), policy, 0.0)
                _resolve(futures[key], Cached(found[key], 0.0, stale=False, stored_at=now))
            else:  # the system of record knows no such key: nothing older may answer for it
                self._drop_kept(key)
                await self._store.delete(key)
                _resolve(futures[key], None)
        await self._store.set_many(rows, policy.keep_s)

    async def _wait(
        self,
        waitable: Awaitable[Cached[Any] | None],
        key: str,
        seen: _Hit[Any] | None,
        policy: CachePolicy,
        backend: str,
    ) -> Cached[Any] | None:
        """The fetch's result, waited for no longer than the caller's deadline."""
        left = time_left()
        try:
            async with asyncio.timeout(None if left is None else max(left, 0.0)):
                return await asyncio.shield(waitable)
        except TimeoutError:
            if seen is not None and self._age(seen) < policy.ttl_s + policy.stale_if_error_s:
                logger.info("Serving %s %.0f s old: no fresh answer within the budget", key, self._age(seen))
                return self._cached(seen, stale=True)
            raise BackendTimeout(
                backend, "no cached value, and no answer within the operation's budget"
            ) from None

    def _kept(self, key: str) -> _Hit[Any] | None:
        """The first tier's copy (fresh by construction), if there is one."""
        return None if self._local is None else self._local.get(key)

    def _keep(self, key: str, hit: _Hit[Any], policy: CachePolicy, age: float) -> None:
        if self._local is not None:
            self._local.put(key, hit, policy.ttl_s - age)

    def _drop_kept(self, key: str) -> None:
        if self._local is not None:
            self._local.discard(key)

    def _cached(self, hit: _Hit[T], *, stale: bool) -> Cached[T]:
        return Cached(hit.value, self._age(hit), stale=stale, stored_at=hit.stored_at)

    def _age(self, hit: _Hit[Any]) -> float:
        return max(0.0, self._clock() - hit.stored_at)  # clamped: another replica's clock may run ahead


def _resolve(future: asyncio.Future[Cached[Any] | None], value: Cached[Any] | None) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[Cached[Any] | None], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _ignore(_result: str) -> None:
    pass
