"""The semi-static reads, through the cache: account arrears status, service connections, mains, outages.

What is cached and for how long is policy, set per kind of data (`CachePolicies`, from settings):
arrears are not real time in the billing system either (it settles nightly), so a minute-old account
is an honest answer marked with its age; the network changes with construction work, not by the
minute; outage notices change by the quarter hour. Everything here comes back as `Cached[...]`, so the
GraphQL layer can mark what is stale and say "as of 10:02".

Accounts and service connections hold PII (names, mobiles, ID numbers, where someone lives): they are
sealed (AES-GCM, `Sealer`) before they reach any store. Mains and outages are public works data.

Without a cache (`cache=None`: protection off, narrow tests) every read goes straight to the backend
and is reported fresh as of now.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from domain.ports import Backends
from domain.records import Account, Outage, PipeSegment, ServiceConnection
from infra import codec
from infra.cache.cache import Cache, Cached, CachePolicy
from infra.sealed import Sealer
from infra.telemetry import NO_TELEMETRY, BackendTelemetry

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class CachePolicies:
    """Per kind of data: fresh for `ttl_s`, then served while revalidating, then only if the backend fails."""

    accounts: CachePolicy = field(default_factory=lambda: CachePolicy(60, 600, 3_600))
    outages: CachePolicy = field(default_factory=lambda: CachePolicy(30, 60, 3_600))
    network: CachePolicy = field(default_factory=lambda: CachePolicy(3_600, 3_600, 86_400))


@dataclass(frozen=True, slots=True)
class _Kind:
    """One kind of cached record: its key prefix (with a shape version) and how it is stored."""

    prefix: str
    record: Any  # the type codec.decode rebuilds, e.g. Account or list[Outage]
    sealed: bool
    family: str  # the metrics' `cache` label: accounts | service_connections | segments | outages


ACCOUNT = _Kind("billing:account:v1:", Account, sealed=True, family="accounts")
CONNECTION = _Kind("gis:connection:v1:", ServiceConnection, sealed=True, family="service_connections")
SEGMENT_BY_ID = _Kind("gis:segment:v1:id:", PipeSegment, sealed=False, family="segments")
SEGMENT_BY_OBJECT = _Kind("gis:segment:v1:oid:", PipeSegment, sealed=False, family="segments")
OUTAGES = _Kind("gis:outages:v1:", list[Outage], sealed=False, family="outages")

logger = logging.getLogger("tidegate.services.cached_reads")


class CachedReads:
    def __init__(
        self,
        backends: Backends,
        cache: Cache | None,
        policies: CachePolicies | None = None,
        sealer: Sealer | None = None,
        clock: Callable[[], float] = time.time,
        *,
        telemetry: BackendTelemetry = NO_TELEMETRY,
    ) -> None:
        """`telemetry` hears every key's `hit`, `miss` or `stale`, by kind of data."""
        self._b = backends
        self._telemetry = telemetry
        self._cache = cache
        self._policies = policies or CachePolicies()
        self._sealer = sealer if sealer is not None or cache is None else Sealer()
        self._clock = clock

    async def accounts(self, account_nos: Sequence[str]) -> dict[str, Cached[Account]]:
        """GetAccounts for the ones not cached (one call, at most 50 keys: the loader's batch)."""
        return await self._many(
            ACCOUNT, self._policies.accounts, account_nos, self._b.billing.accounts, "billing"
        )

    async def service_connections(self, account_nos: Sequence[str]) -> dict[str, Cached[ServiceConnection]]:
        return await self._many(
            CONNECTION, self._policies.network, account_nos, self._b.gis.service_connections, "gis"
        )

    async def segments(self, segment_ids: Sequence[str]) -> dict[str, Cached[PipeSegment]]:
        return await self._many(
            SEGMENT_BY_ID, self._policies.network, segment_ids, self._b.gis.segments, "gis"
        )

    async def segments_by_object_id(self, object_ids: Sequence[int]) -> dict[int, Cached[PipeSegment]]:
        return await self._many(
            SEGMENT_BY_OBJECT, self._policies.network, object_ids, self._b.gis.segments_by_object_id, "gis"
        )

    async def outages(self, active: bool | None) -> Cached[list[Outage]]:
        """Outage notices, active ones or all; one cached list per question."""

        async def fetch() -> list[Outage]:
            return await self._b.gis.outages(active)

        if self._cache is None:
            return self._now(await fetch())
        key = f"{OUTAGES.prefix}{'all' if active is None else str(active).lower()}"
        return await self._cache.get(
            key,
            self._policies.outages,
            fetch,
            lambda value: self._dump(OUTAGES, value),
            lambda payload: self._load(OUTAGES, payload),
            backend="gis",
            on_result=functools.partial(self._telemetry.cache_result, OUTAGES.family),
        )

    async def forget_outages(self) -> None:
        """After an outage was declared or restored here: every replica reads the notices afresh
        (the cache store is shared). A failing store is logged, never the write's failure."""
        if self._cache is None:
            return
        for key in ("all", "true", "false"):
            try:
                await self._cache.forget(f"{OUTAGES.prefix}{key}")
            except Exception:
                logger.warning("could not drop a cached outage list", extra={"key": key}, exc_info=True)

    async def _many(
        self,
        kind: _Kind,
        policy: CachePolicy,
        keys: Sequence[K],
        fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
        backend: str,
    ) -> dict[K, Cached[V]]:
        if self._cache is None:
            return {k: self._now(v) for k, v in (await fetch(list(keys))).items()}
        by_cache_key = {f"{kind.prefix}{k}": k for k in keys}

        async def fetch_many(cache_keys: list[str]) -> dict[str, V]:
            found = await fetch([by_cache_key[c] for c in cache_keys])
            return {c: found[by_cache_key[c]] for c in cache_keys if by_cache_key[c] in found}

        got = await self._cache.get_many(
            list(by_cache_key),
            policy,
            fetch_many,
            lambda value: self._dump(kind, value),
            lambda payload: self._load(kind, payload),
            backend=backend,
            on_result=functools.partial(self._telemetry.cache_result, kind.family),
        )
        return {by_cache_key[c]: cached for c, cached in got.items()}

    def _dump(self, kind: _Kind, value: Any) -> object:
        payload = codec.encode(value)
        if not kind.sealed:
            return payload
        assert self._sealer is not None  # made whenever there is a cache
        return self._sealer.seal(kind.prefix, payload)

    def _load(self, kind: _Kind, payload: Any) -> Any:
        if kind.sealed:
            assert self._sealer is not None
            payload = self._sealer.open(kind.prefix, payload)
        return codec.decode(kind.record, payload)

    def _now(self, value: V) -> Cached[V]:
        return Cached(value, 0.0, stale=False, stored_at=self._clock())
