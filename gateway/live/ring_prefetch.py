"""`RingPrefetch`: the caller's screen pop, started the moment the CTI says the agent's phone rings.

The agent picks up a few seconds later; by then the pop has run, its records are kept for the call
and pushed to the agent's `screenPop` subscribers, and the shared cache is warm
(`services.prefetch`). It runs `gql/screen_pop.graphql` through the schema like any request, with
the ringing agent's access and no more (read scopes only, the call's caller only), as critical work
with its own time budget; a failure or a full house costs the agent nothing but the head start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress

import strawberry
from graphql import DocumentNode
from opentelemetry.trace import Tracer

from domain.ports import Backends
from gateway.observability.audit import AuditSink
from gateway.observability.tracing import ring_time_span
from gateway.persisted.prepared_document import handing_over
from gql import GQL_DIR
from infra.deadline import deadline
from infra.resilience.priority import operation_class
from schema.compiled import served_by
from services.access import CUSTOMER_READ, NETWORK_READ, TICKET_READ, Access, Principal
from services.cached_reads import CachedReads
from services.calls import Call
from services.context import RequestContext, build_context
from services.live import Live
from services.prefetch import keep_and_push

logger = logging.getLogger("tidegate.prefetch")

SCREEN_POP = (GQL_DIR / "screen_pop.graphql").read_text(encoding="utf-8")
PREFETCH_CLIENT = "tidegate-ring-prefetch"
# What the screen pop reads, and nothing else: no unmasking, no writes.
PREFETCH_SCOPES = frozenset({CUSTOMER_READ, TICKET_READ, NETWORK_READ})

# How a ring-time pop ended, as `observe` hears it with the seconds from ring to push (the metric
# `tidegate_ring_pop_duration_seconds`): every field loaded, some missed the budget, the pop raised
# (subscribers then look the caller up), or it never ran (no number, or prefetch off).
COMPLETE, PARTIAL, FAILED, SKIPPED = "complete", "partial", "failed", "skipped"
RingPopObserver = Callable[[str, float], None]


class RingPrefetch:
    def __init__(
        self,
        schema: strawberry.Schema,
        backends: Backends,
        reads: CachedReads | None,
        live: Live,
        audit: AuditSink,
        *,
        enabled: bool = True,
        budget_s: float = 1.5,
        max_running: int = 32,
        clock: Callable[[], float] = time.time,
        tracer: Tracer | None = None,
        document: DocumentNode | None = None,
        observe: RingPopObserver | None = None,
    ) -> None:
        self._schema = schema
        self._observe = observe  # each pushed pop's outcome and seconds from ring to push
        # The manifest's ScreenPop, parsed, validated and planned at start-up (`schema.compiled`): the
        # ring-time pop then runs the plan, as the answered call's query does; None: parsed as text.
        self._document = document
        self.executors: Counter[str] = Counter()  # ring-time pops by what walked them (tests, a debugger)
        self._tracer = tracer
        self._backends = backends
        self._reads = reads
        self._live = live
        self._audit = audit
        self.enabled = enabled
        self.budget_s = budget_s
        self.max_running = max_running
        self._clock = clock
        self._running: set[asyncio.Task[None]] = set()

    def ringing(self, call: Call) -> None:
        """Start the pop and return at once: the CTI's request is answered without waiting for it."""
        if len(self._running) >= self.max_running:
            logger.warning("ring-time screen pops at capacity: %s answers without one", call.agent_id)
            return
        run = self._run(call, self._clock(), time.perf_counter())
        task = asyncio.create_task(run, name=f"ring-prefetch-{call.call_id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, call: Call, ringing_at: float, rang: float) -> None:
        ran, outcome = await self._pop(call) if self.enabled and call.caller else (None, SKIPPED)
        try:
            if self._live.calls.current(call.agent_id) is not call:
                return  # answered elsewhere and ended, or another call already rings: nobody wants it
            await keep_and_push(self._live, call, ringing_at, ran, self._clock)
            if self._observe is not None:
                self._observe(outcome, time.perf_counter() - rang)
        except Exception:
            logger.exception("ring-time screen pop for %s could not be kept", call.agent_id)
        finally:
            if ran is not None:
                ran.loaders.release()

    async def _pop(self, call: Call) -> tuple[RequestContext | None, str]:
        """The pop run as the ringing agent: its context (the loaders hold what it read; None if it
        raised) and how it ended (`COMPLETE`, `PARTIAL` or `FAILED`)."""
        agent = Principal(
            subject=f"cti:{call.agent_id}",
            client_id=PREFETCH_CLIENT,
            role="agent",
            scopes=PREFETCH_SCOPES,
            agent_id=call.agent_id,
        )
        ctx = build_context(self._backends, access=Access(agent, call), reads=self._reads, live=self._live)
        try:
            with (
                ring_time_span(self._tracer, "ScreenPop"),
                deadline(self.budget_s),
                operation_class("critical"),
                handing_over(self._document),
            ):
                result = await self._schema.execute(
                    SCREEN_POP, {"phone": call.caller}, context_value=ctx, operation_name="ScreenPop"
                )
                self.executors[served_by.get() or "not executed"] += 1
        except Exception:
            logger.exception("ring-time screen pop for %s failed", call.agent_id)
            return None, FAILED
        if result.errors:  # partial: what did load is still kept; the rest loads when asked
            codes = sorted({str((e.extensions or {}).get("code")) for e in result.errors})
            logger.info("ring-time screen pop partial", extra={"agent_id": call.agent_id, "codes": codes})
        ctx.audit.operation = "ScreenPop (ring-time)"
        with suppress(Exception):
            await self._audit.write(ctx.audit.records())
        return ctx, PARTIAL if result.errors else COMPLETE

    async def aclose(self) -> None:
        for task in list(self._running):
            task.cancel()
        for task in list(self._running):
            with suppress(asyncio.CancelledError, Exception):
                await task
