"""Per-request dataloaders: one batched backend call per tick for every key the query touches.

Created inside the request's running event loop (aiodataloader binds to it) and thrown away
with the request, so nothing cached here outlives the caller's view of the world.

Each batch is a resolver source's span when tracing is on (`infra.tracing`), named
`<system>.<loader> batch` with its size: the backend calls it makes are that span's children.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from typing import Any, Generic, TypeVar, overload

from aiodataloader import DataLoader, Loader, dispatch_queue

from domain.geo import GeoPoint
from domain.ports import Backends, BatchTracing, Untraced
from domain.records import (
    Account,
    Bill,
    Customer,
    DirectDebit,
    Interaction,
    Meter,
    Outage,
    Payment,
    PipeSegment,
    ServiceConnection,
    Ticket,
)
from infra.cache.cache import Cached
from services.cached_reads import CachedReads

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BatchingLoader(DataLoader[K, V], Generic[K, V]):
    """aiodataloader's `DataLoader`, its queue dispatched with two plain callbacks.

    aiodataloader schedules a dispatch as `call_soon(ensure_future, dispatch())`: a coroutine, and a
    task made for it on the next tick that only, on the tick after, starts the batch's own task. Two
    chained `call_soon`s dispatch on that same tick, in the same context (the first key's), so the
    same keys make the same batches (`tests/services/test_loaders.py` runs both side by side), without
    the extra coroutine and task: five of each per screen pop."""

    def __init__(
        self,
        batch_load_fn: Callable[[list[K]], Coroutine[Any, Any, list[V]]] | None = None,
        batch: bool | None = None,
        max_batch_size: int | None = None,
    ) -> None:
        """aiodataloader's `__init__`, for what these loaders use (no cache options: a request's loader
        always caches, by the key itself). Its own also asserts that `batch_load_fn` is a coroutine
        function (five Python frames through `inspect` per loader, for what
        `tests/services/test_loaders.py` checks of each class once) and makes a lambda per loader for
        the identity cache key (`load` below needs none): six loaders a screen pop."""
        self.loop = asyncio.get_event_loop()
        if batch_load_fn is not None:
            self.batch_load_fn = batch_load_fn
        if batch is not None:
            self.batch = batch
        if max_batch_size is not None:
            self.max_batch_size = max_batch_size
        self._cache = {}
        self._queue = []

    @staticmethod
    def get_cache_key(key: K) -> K:
        """The key is its own cache key (what `prime` and `clear` ask)."""
        return key

    def load(self, key: K) -> asyncio.Future[V]:
        """aiodataloader's, the key its own cache key without a call to ask for it."""
        if key is None:
            raise TypeError("The loader.load() function must be called with a value, but got: None.")
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        future: asyncio.Future[V] = self.loop.create_future()
        self._cache[key] = future
        self.do_resolve_reject(key, future)
        return future

    def do_resolve_reject(self, key: K, future: asyncio.Future[V]) -> None:
        queue = self._queue
        queue.append(Loader(key=key, future=future))
        if len(queue) == 1:
            if self.batch:
                self.loop.call_soon(self.loop.call_soon, dispatch_queue, self)  # aiodataloader's own
            else:
                dispatch_queue(self)

    def load_many(self, keys: Iterable[K]) -> asyncio.Future[list[V]]:
        """aiodataloader's, less its `isinstance(keys, typing.Iterable)` (three Python frames through
        typing's generic alias on every call, for what the type checker already holds): a key list
        that is not iterable still fails here, with Python's own TypeError."""
        return asyncio.gather(*[self.load(key) for key in keys])


class KeyedLoader(BatchingLoader[K, V | None], Generic[K, V]):
    """Batches keys into one call of `fetch(keys) -> {key: value}`; absent keys load as None."""

    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[dict[K, V]]],
        max_batch: int,
        source: str = "",
        tracing: BatchTracing | None = None,
    ) -> None:
        super().__init__(max_batch_size=max_batch)
        self._fetch = fetch
        self._source, self._tracing = source, tracing or Untraced()

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V | None]:
        async with self._tracing.batch(self._source, len(keys)):
            found = await self._fetch(list(keys))
        return [found.get(k) for k in keys]


class EachLoader(BatchingLoader[K, V], Generic[K, V]):
    """For systems with no batch API: one call per distinct key, all at once, failures per key."""

    def __init__(
        self, fetch_one: Callable[[K], Awaitable[V]], source: str = "", tracing: BatchTracing | None = None
    ) -> None:
        super().__init__()
        self._fetch_one = fetch_one
        self._source, self._tracing = source, tracing or Untraced()

    async def batch_load_fn(self, keys: Sequence[K]) -> list[Any]:
        """Values, or the exception each key's call raised (aiodataloader rejects just that key).
        One key (most batches: a screen pop asks for one outage list) is awaited here, without a
        task to gather."""
        async with self._tracing.batch(self._source, len(keys)):
            if len(keys) == 1:
                try:
                    return [await self._fetch_one(keys[0])]
                except Exception as error:  # as `gather(return_exceptions=True)` returns it
                    return [error]
            return list(await asyncio.gather(*(self._fetch_one(k) for k in keys), return_exceptions=True))


L = TypeVar("L")


class _made_on_first_use(Generic[L]):  # a decorator, named as one
    """`functools.cached_property` without its lock: Python 3.11's takes a lock on every first read
    (3.12 dropped it), a first read three times as dear (0.9 against 0.3 µs, warm) six times a
    screen pop, to guard against threads a request's loaders never meet (one event loop makes and
    reads them). The same otherwise: the value is made by the decorated method, kept in the
    instance's `__dict__`, and read from there after."""

    def __init__(self, make: Callable[[Any], L]) -> None:
        self._make = make
        self._name = make.__name__
        self.__doc__ = make.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _made_on_first_use[L]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> L: ...

    def __get__(self, instance: object, owner: type | None = None) -> L | _made_on_first_use[L]:
        if instance is None:  # read on the class: the descriptor itself, as cached_property's
            return self
        value = self._make(instance)
        instance.__dict__[self._name] = value  # found before this descriptor from now on
        return value


class Loaders:
    """Named `<Thing>By<Key>`, the way the schema asks for them. Each is made on first use: most
    requests ask one or two of them (the IVR look-up none), and seventeen `DataLoader`s built per
    request cost more than the look-up itself. Built as `KeyedLoader(...)`, never
    `KeyedLoader[str, Account](...)`: subscripting a generic class at run time goes through typing's
    cache and sets `__orig_class__` on every request's loader, for types only mypy reads."""

    def __init__(self, backends: Backends, reads: CachedReads | None = None) -> None:
        self._backends = backends
        # Semi-static data comes through the cache, as `Cached[...]`: the resolver marks stale paths.
        self.reads = reads or CachedReads(backends, cache=None)  # also for a write that outdates them

    @_made_on_first_use
    def account_by_no(self) -> KeyedLoader[str, Cached[Account]]:
        b, t, r = self._backends, self._backends.tracing, self.reads
        return KeyedLoader(r.accounts, b.billing.MAX_BATCH, "billing.account_by_no", t)

    @_made_on_first_use
    def bills_by_account(self) -> EachLoader[tuple[str, int], list[Bill]]:
        b, t = self._backends, self._backends.tracing
        return EachLoader(lambda k: b.billing.bills(*k), "billing.bills_by_account", t)

    @_made_on_first_use
    def payments_by_account(self) -> EachLoader[tuple[str, int], list[Payment]]:
        b, t = self._backends, self._backends.tracing
        return EachLoader(lambda k: b.billing.payments(*k), "billing.payments_by_account", t)

    @_made_on_first_use
    def meter_by_account(self) -> EachLoader[tuple[str, int], Meter]:
        b, t = self._backends, self._backends.tracing
        return EachLoader(lambda k: b.billing.meter(*k), "billing.meter_by_account", t)

    @_made_on_first_use
    def direct_debit_by_account(self) -> EachLoader[str, DirectDebit | None]:
        b, t = self._backends, self._backends.tracing
        return EachLoader(b.billing.direct_debit, "billing.direct_debit_by_account", t)

    @_made_on_first_use
    def customer_by_no(self) -> KeyedLoader[str, Customer]:
        b, t = self._backends, self._backends.tracing
        return KeyedLoader(b.crm.contacts_by_customer_no, b.crm.MAX_BATCH, "crm.customer_by_no", t)

    @_made_on_first_use
    def interactions_by_contact(self) -> _InteractionsLoader:
        b = self._backends
        return _InteractionsLoader(b)

    @_made_on_first_use
    def tickets_by_customer(self) -> KeyedLoader[str, list[Ticket]]:
        b, t = self._backends, self._backends.tracing
        return KeyedLoader(
            b.workorders.tickets_by_customers, b.workorders.MAX_BATCH, "workorders.tickets_by_customer", t
        )

    @_made_on_first_use
    def ticket_by_id(self) -> EachLoader[str, Ticket]:
        b, t = self._backends, self._backends.tracing
        return EachLoader(b.workorders.ticket, "workorders.ticket_by_id", t)

    @_made_on_first_use
    def open_tickets(self) -> EachLoader[str, list[Ticket]]:
        b, t = self._backends, self._backends.tracing
        return EachLoader(lambda _: b.workorders.open_tickets(), "workorders.open_tickets", t)

    @_made_on_first_use
    def connection_by_account(self) -> KeyedLoader[str, Cached[ServiceConnection]]:
        b, t, r = self._backends, self._backends.tracing, self.reads
        return KeyedLoader(r.service_connections, b.gis.MAX_BATCH, "gis.connection_by_account", t)

    @_made_on_first_use
    def segment_by_object_id(self) -> KeyedLoader[int, Cached[PipeSegment]]:
        b, t, r = self._backends, self._backends.tracing, self.reads
        return KeyedLoader(r.segments_by_object_id, b.gis.MAX_BATCH, "gis.segment_by_object_id", t)

    @_made_on_first_use
    def segment_by_id(self) -> KeyedLoader[str, Cached[PipeSegment]]:
        b, t, r = self._backends, self._backends.tracing, self.reads
        return KeyedLoader(r.segments, b.gis.MAX_BATCH, "gis.segment_by_id", t)

    @_made_on_first_use
    def segments_near(self) -> EachLoader[tuple[GeoPoint, int], list[PipeSegment]]:
        b, t = self._backends, self._backends.tracing
        return EachLoader(lambda k: b.gis.segments_near(*k), "gis.segments_near", t)

    @_made_on_first_use
    def outages(self) -> EachLoader[bool | None, Cached[list[Outage]]]:
        t, r = self._backends.tracing, self.reads
        return EachLoader(r.outages, "gis.outages", t)

    def release(self) -> None:
        """Drop every loaded value once the answer is written. No reference cycle holds the loaders
        today (graphql-core's executor made one until `PolicedExecution` reached it weakly:
        tests/schema/test_execution.py), so they die with the request; this frees their records
        (outage areas included) as soon as the answer is built all the same, and keeps a cycle that
        comes back from holding them until the cyclic GC runs, whose pauses stall the event loop
        under a surge."""
        for loader in vars(self).values():
            if isinstance(loader, DataLoader):
                loader.clear_all()


class _InteractionsLoader(BatchingLoader[tuple[str, int], list[Interaction]]):
    """Keys are (CRM contact id, how many); one CRM call per distinct `how many` in the batch."""

    def __init__(self, backends: Backends) -> None:
        super().__init__(max_batch_size=backends.crm.MAX_BATCH)
        self._crm = backends.crm
        self._tracing = backends.tracing

    async def batch_load_fn(self, keys: Sequence[tuple[str, int]]) -> list[list[Interaction]]:
        by_limit: dict[int, list[str]] = {}
        for contact, last in keys:
            by_limit.setdefault(last, []).append(contact)
        async with self._tracing.batch("crm.interactions_by_contact", len(keys)):
            if len(by_limit) == 1:  # the usual batch: one call, awaited here without a task
                ((last, ids),) = by_limit.items()
                results = [await self._crm.interactions(ids, last)]
            else:
                results = await asyncio.gather(
                    *(self._crm.interactions(ids, last) for last, ids in by_limit.items())
                )
        merged = {
            (cid, last): rows
            for last, found in zip(by_limit, results, strict=True)
            for cid, rows in found.items()
        }
        return [merged.get(k, []) for k in keys]
