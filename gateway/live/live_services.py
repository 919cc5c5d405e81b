"""`LiveServices`: the bus, the call feed between replicas and the ring-time prefetch, opened together.

A shared Redis (`settings.redis.configured`) makes them span replicas (pub/sub for the bus, the
cache store for kept screen pops); without it they serve this process alone, as the demo needs. Started in the
app's lifespan, before the server takes traffic: the call feed is listening by the time the first
CTI event can arrive.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import DocumentNode
from opentelemetry.trace import Tracer

from domain.ports import Backends
from domain.records import Account
from gateway.live.ring_prefetch import RingPopObserver, RingPrefetch
from gateway.observability.audit import AuditSink
from gateway.settings import Settings
from infra.cache.store import CacheStore, MemoryStore, RedisStore
from infra.pubsub import EventBus, MemoryBus, RedisBus
from infra.redis_client import RedisClient
from infra.sealed import Sealer
from services import late_match
from services.cached_reads import CachedReads
from services.call_feed import CallFeed
from services.calls import CallRegistry
from services.identify_store import Identifications
from services.live import Live
from services.outage_impact import ImpactIndexer, indexer_of
from services.phone_search import CallKey, PhoneSearches
from services.pop_store import PopStore

logger = logging.getLogger("tidegate.live")

MAX_KEPT_POPS = 10_000  # in-process store only: one per agent


@dataclass
class LiveServices:
    bus: EventBus
    live: Live
    ring: RingPrefetch
    _feed: asyncio.Task[None]
    outage_index: ImpactIndexer | None = None

    @classmethod
    async def start(
        cls,
        settings: Settings,
        schema: strawberry.Schema,
        calls: CallRegistry,
        backends: Backends,
        reads: CachedReads | None,
        audit: AuditSink,
        redis: RedisClient | None,
        tracer: Tracer | None = None,
        screen_pop: DocumentNode | None = None,
        ring_pop_observer: RingPopObserver | None = None,
    ) -> LiveServices:
        if redis is not None and not settings.cache.cache_key:
            logger.warning(
                "TIDEGATE_CACHE_KEY is unset: replicas cannot open each other's calls and screen pops"
            )
        sealer = Sealer.from_setting(settings.cache.cache_key)
        bus: EventBus = RedisBus(redis) if redis is not None else MemoryBus()
        store: CacheStore = (
            RedisStore(redis, prefix="tidegate:prefetch:")
            if redis is not None
            else MemoryStore(MAX_KEPT_POPS)
        )
        searches = PhoneSearches(
            budget_s=settings.live.phone_search_budget_ms / 1000,
            wait_s=settings.live.phone_search_wait_ms / 1000,
            max_running=settings.live.phone_search_max_running,
        )
        pops = PopStore(store, sealer, settings.live.screen_pop_keep_s)
        attempts: CacheStore = (
            RedisStore(redis, prefix="tidegate:identify:")
            if redis is not None
            else MemoryStore(MAX_KEPT_POPS)
        )
        identifications = Identifications(attempts, settings.live.identify_max_attempts)
        live = Live(
            bus, calls, pops, reads, searches=searches, sealer=sealer, identifications=identifications
        )

        async def found_late(_number: str, accounts: list[Account], waiting: set[CallKey]) -> None:
            await late_match.deliver(live, backends, accounts, waiting)

        searches.on_found = found_late
        calls.on_release.append(searches.release)  # a call's end (or transfer away) stops its search
        ring = RingPrefetch(
            schema,
            backends,
            reads,
            live,
            audit,
            enabled=settings.live.screen_pop_prefetch,
            budget_s=settings.live.screen_pop_prefetch_budget_ms / 1000,
            max_running=settings.live.screen_pop_prefetch_max_running,
            tracer=tracer,
            document=screen_pop,
            observe=ring_pop_observer,
        )
        ready = asyncio.Event()
        feed = asyncio.create_task(CallFeed(calls, bus, sealer).run(ready), name="call-feed")
        with suppress(TimeoutError):
            async with asyncio.timeout(5):  # Redis down at start-up: serve anyway, the feed catches up
                await ready.wait()
        outage_index = indexer_of(backends)
        outage_index.interval_s = settings.live.outage_index_refresh_s
        if settings.live.outage_index:
            outage_index.ensure_running()  # the first refresh runs meanwhile: start-up does not wait
        return cls(bus, live, ring, feed, outage_index)

    def state(self) -> dict[str, Any]:
        """What requests reach as `request.state.*` (the bus itself is published as `bus`)."""
        return {"live": self.live, "ring_prefetch": self.ring}

    async def aclose(self) -> None:
        """Prefetches and the feed stop; the bus is the app's to close (after this)."""
        await self.ring.aclose()
        if self.outage_index is not None:
            await self.outage_index.aclose()
        if self.live.searches is not None:
            await self.live.searches.aclose()
        self._feed.cancel()
        with suppress(asyncio.CancelledError):
            await self._feed
