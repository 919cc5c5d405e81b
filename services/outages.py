"""Declaring and restoring an outage: the trace becomes one master repair order with the valve
closures as its child tasks, a 停水 notice on the GIS, and a text to every affected customer.

Every step is idempotent on a natural key, so a declaration can be retried from any point, by anyone,
on any replica, and never files anything twice:

- the outage's id is `TG-<main>-<n>`, the n-th outage Tidegate declared on that main (counted on the
  GIS's own layer): while one is active, declaring the main again answers with it, whatever the key;
- the master order is filed under the outage id as its `client_ref`, each closure task under
  `<outage id>/<valve>` (the work-order system keeps one order per reference and names the first);
- the notice is published under its OUTAGE_ID (unique on the layer: a second add names the first);
- each SMS goes out under `<outage id>/D/<customer>` (all-clear: `/R/`), one per reference at the CRM.

Over that, the client's `idempotencyKey` (`services.idempotency`) replays the first answer byte for
byte and catches a key reused for another input. The master order is filed before the notice is
published, so anyone who sees the notice finds its order (`attached_order`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from weakref import WeakKeyDictionary

from domain.drafts import OutageDraft, TicketDraft
from domain.enums import OutageKind, OutageStatus, TicketCategory, TicketPriority
from domain.geo import GeoPoint, buffered_hull
from domain.records import Outage, PipeSegment, Ticket
from domain.timestamps import SHANGHAI as _CST
from infra.deadline import deadline
from services import isolation, outage_notices
from services.authorize import require_unrestricted
from services.context import RequestContext
from services.errors import ErrorCode, guarded, public_error
from services.fleet_lease import fleet_lease
from services.idempotency import Idempotency, fingerprint, scoped_key, side_effect
from services.outage_notices import NoticeRun, notify

logger = logging.getLogger("tidegate.services.outages")

DECLARE = "declareOutage"
RESTORE = "restoreOutage"
PREFIX = "TG-"  # outages Tidegate declared; the rest are drawn by hand in the GIS
REASON_MAX = 200  # the layer's REASON field
BUFFER_M = 30.0  # how far the notice's area reaches beyond the dry mains
SEGMENT_BATCH = 100  # GisPort.MAX_BATCH
_OUTAGE_ID = re.compile(r"TG-[A-Z0-9-]{1,14}-(\d{1,3})")
# A supply complaint from a customer on a dry main is this outage, not a new fault.
ATTACHES = frozenset(
    {TicketCategory.NO_WATER, TicketCategory.LOW_PRESSURE, TicketCategory.BURST_MAIN, TicketCategory.LEAK}
)


@dataclass(frozen=True, slots=True)
class OutageRequest:
    """The declaration asked for, normalised: the canonical input the key's fingerprint is taken of."""

    main_id: str
    kind: OutageKind
    estimated_restore: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Declaration:
    """What a declaration made (or found): the notice, the master order, its closure tasks, the SMS run."""

    outage: Outage
    master: Ticket
    tasks: tuple[Ticket, ...]
    notices: NoticeRun


@dataclass(frozen=True, slots=True)
class Restoration:
    outage: Outage
    master: Ticket
    notices: NoticeRun


def outage_request(main_id: str, kind: OutageKind, estimated_restore: datetime, reason: str) -> OutageRequest:
    """The input checked (BAD_USER_INPUT otherwise), before anything is looked up."""
    main = main_id.strip().upper()
    if not main or len(main) > 20:
        raise _bad(f"a main is an asset number like GS-000205, got {main_id!r}")
    if kind is OutageKind.UNKNOWN:
        raise _bad("kind UNKNOWN cannot be declared: PLANNED or EMERGENCY")
    text = reason.strip()
    if not text or len(text) > REASON_MAX:
        raise _bad(f"reason is required, at most {REASON_MAX} characters")
    if estimated_restore.tzinfo is None:
        raise _bad("estimatedRestore needs a time zone offset")
    if estimated_restore <= now_utc():
        raise _bad("estimatedRestore must lie in the future")
    return OutageRequest(main, kind, estimated_restore.astimezone(UTC), text)


@guarded
async def declare_outage(ctx: RequestContext, request: OutageRequest, idempotency_key: str) -> Declaration:
    require_unrestricted(ctx, "declareOutage")
    principal = ctx.access.principal
    assert principal is not None  # @requiresScopes let nobody else in
    key = scoped_key(principal.client_id, DECLARE, idempotency_key)
    print_ = fingerprint(DECLARE, principal.subject, request)
    with deadline(None):  # a write of many steps: each back office's own timeout, not a screen pop's
        return await _idempotency(ctx).run(
            key,
            print_,
            Declaration,
            find=lambda: _find(ctx, request.main_id),
            perform=lambda: _declare_alone(ctx, request),
            unique_reference=True,  # every step is keyed at its back office
        )


@guarded
async def restore_outage(ctx: RequestContext, outage_id: str, idempotency_key: str) -> Restoration:
    require_unrestricted(ctx, "restoreOutage")
    principal = ctx.access.principal
    assert principal is not None
    wanted = _declared_id(outage_id)
    key = scoped_key(principal.client_id, RESTORE, idempotency_key)
    print_ = fingerprint(RESTORE, principal.subject, wanted)
    with deadline(None):
        return await _idempotency(ctx).run(
            key,
            print_,
            Restoration,
            find=lambda: _nothing(),  # every step is safe to do again: the retry completes it
            perform=lambda: _restore(ctx, wanted),
            unique_reference=True,
        )


async def _nothing() -> None:
    return None


# One declaration per main at a time in this process, per event loop (an asyncio.Lock belongs to one).
_DECLARING: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = WeakKeyDictionary()


async def _declare_alone(ctx: RequestContext, request: OutageRequest) -> Declaration:
    """`_declare`, never beside another declaration of the same main anywhere in the fleet: its "is
    one active?" look and its creation are one step, so supervisors declaring the same burst at once
    (with their own keys, on any replica) get one outage and one master order, the later ones finding
    the first's. In this process an asyncio lock orders them; across replicas a lease on the shared
    idempotency store (`services.fleet_lease`)."""
    locks = _DECLARING.setdefault(asyncio.get_running_loop(), {})
    lease = fleet_lease(_idempotency(ctx).store, f"declareOutage:{request.main_id}")
    async with locks.setdefault(request.main_id, asyncio.Lock()), lease:
        return await _declare(ctx, request)


async def _declare(ctx: RequestContext, request: OutageRequest) -> Declaration:
    plan = await isolation.isolation_plan(ctx, request.main_id)
    asset = plan.main.segment_id
    active = await _active_declaration(ctx, asset)
    if active is not None:
        return active
    gis, orders = ctx.backends.gis, ctx.backends.workorders
    outage_id = f"{PREFIX}{asset}-{await _next_number(ctx, asset)}"
    out_mains = plan.trace.out_main_ids
    segments = await _segments(ctx, [plan.mains[m].segment_id for m in out_mains])
    main = segments.get(asset)
    where = _midpoint(main) if main is not None else None
    grid = await gis.grid_at(where) if where is not None else None
    worker = (await orders.grid_workers()).get(grid.code) if grid is not None else None
    valves = plan.trace.valves_to_close
    emergency = request.kind is OutageKind.EMERGENCY
    priority = TicketPriority.CRITICAL if emergency else TicketPriority.NORMAL
    road = main.road_name if main is not None and main.road_name else ""
    restore_local = request.estimated_restore.astimezone(_CST)
    master = await side_effect(
        orders.create_ticket(
            TicketDraft(
                category=TicketCategory.BURST_MAIN if emergency else TicketCategory.OTHER,
                priority=priority,
                description=(
                    f"停水 {outage_id}: {request.reason}。{road}（管段 {asset}），关阀 {len(valves)} 个："
                    f"{'、'.join(v.asset_no for v in valves) or '无'}；影响 {len(plan.accounts)} 户；"
                    f"预计 {restore_local:%m-%d %H:%M} 恢复供水"
                ),
                client_ref=outage_id,
                address=f"{road}（管段 {asset}）",
                location=where,
                grid_code=grid.code if grid is not None and worker is not None else None,
                worker_id=worker.worker_id if worker is not None else None,
            )
        )
    )
    tasks = []
    on = {v.asset_no: plan.mains[v.main_object_id].segment_id for v in valves}
    for valve in valves:  # in order, so the tasks list as the crew will close them
        tasks.append(
            await side_effect(
                orders.create_ticket(
                    TicketDraft(
                        category=master.category,
                        priority=priority,
                        description=f"关阀 {valve.asset_no}（管段 {on[valve.asset_no]}），停水 {outage_id}",
                        client_ref=f"{outage_id}/{valve.asset_no}",
                        location=valve.location,
                        grid_code=master.grid_code if worker is not None else None,
                        worker_id=worker.worker_id if worker is not None else None,
                        parent_id=master.ticket_id,
                    )
                )
            )
        )
    area = buffered_hull([p for s in segments.values() for p in s.path], BUFFER_M)
    if not area:
        raise public_error(
            f"the GIS has no geometry for main {asset}", ErrorCode.BACKEND_ERROR, backend="gis"
        )
    outage = await side_effect(
        gis.publish_outage(
            OutageDraft(
                outage_id=outage_id,
                kind=request.kind,
                status=OutageStatus.ACTIVE,
                reason=request.reason,
                starts_at=now_utc(),
                estimated_restore_at=request.estimated_restore,
                main_object_ids=out_mains,
                valve_object_ids=tuple(v.object_id for v in valves),
                affected_accounts=len(plan.accounts),
                area=area,
            )
        )
    )
    await ctx.loaders.reads.forget_outages()
    logger.info(
        "outage declared",
        extra={
            "outage_id": outage_id,
            "master": master.ticket_id,
            "tasks": len(tasks),
            "accounts": len(plan.accounts),
        },
    )
    notices = await notify(ctx, outage, plan.accounts, _declared_text(outage, road), all_clear=False)
    return Declaration(outage, master, tuple(tasks), notices)


async def _find(ctx: RequestContext, main_id: str) -> Declaration | None:
    plan = await isolation.isolation_plan(ctx, main_id)
    return await _active_declaration(ctx, plan.main.segment_id)


async def _active_declaration(ctx: RequestContext, main_id: str) -> Declaration | None:
    """The outage Tidegate declared on this main that is still in progress, with its orders; the
    notices are sent again (the CRM sends only the ones not yet sent: a retry finishes a run)."""
    outage = next((o for o in await _declared_on(ctx, main_id) if o.status is OutageStatus.ACTIVE), None)
    if outage is None:
        return None
    master = await ctx.backends.workorders.ticket_by_client_ref(outage.outage_id)
    if master is None:
        return None  # a notice without its order: not ours to trust (never made in this order)
    tasks = tuple(await ctx.backends.workorders.children(master.ticket_id))
    graph = await isolation.network_graph(ctx)
    accounts = graph.accounts_on(outage.main_object_ids)
    segments = await _segments(ctx, [main_id])
    road = next((s.road_name or "" for s in segments.values()), "")
    notices = await notify(ctx, outage, accounts, _declared_text(outage, road), all_clear=False)
    return Declaration(outage, master, tasks, notices)


async def _restore(ctx: RequestContext, outage_id: str) -> Restoration:
    gis, orders = ctx.backends.gis, ctx.backends.workorders
    outage = await gis.outage(outage_id)
    if outage is None:
        raise public_error(f"no outage {outage_id}", ErrorCode.NOT_FOUND)
    if outage.status in (OutageStatus.SCHEDULED, OutageStatus.CANCELLED, OutageStatus.UNKNOWN):
        raise public_error(
            f"outage {outage_id} is {outage.status.value}: only an active one is restored",
            ErrorCode.OUTAGE_NOT_ACTIVE,
        )
    master = await orders.ticket_by_client_ref(outage_id)
    if master is None:
        raise public_error(f"outage {outage_id} has no master order", ErrorCode.OUTAGE_NOT_DECLARED)
    if outage.status is OutageStatus.ACTIVE:
        outage = await side_effect(gis.set_outage_status(outage_id, OutageStatus.RESTORED))
        await ctx.loaders.reads.forget_outages()
    for task in await orders.children(master.ticket_id):
        await side_effect(orders.complete_ticket(task.ticket_id, f"已恢复供水 {outage_id}"))
    master = await side_effect(orders.complete_ticket(master.ticket_id, f"已恢复供水 {outage_id}"))
    graph = await isolation.network_graph(ctx)
    accounts = graph.accounts_on(outage.main_object_ids)
    text = f"【江城水务】您所在区域已恢复供水（{outage_id}），感谢您的耐心等待。"
    notices = await notify(ctx, outage, accounts, text, all_clear=True)
    logger.info("outage restored", extra={"outage_id": outage_id, "master": master.ticket_id})
    return Restoration(outage, master, notices)


async def _declared_on(ctx: RequestContext, main_id: str) -> list[Outage]:
    """Every outage Tidegate declared on the main, any status (read fresh: the cache may lag)."""
    prefix = f"{PREFIX}{main_id}-"
    return [o for o in await ctx.backends.gis.outages(None) if o.outage_id.startswith(prefix)]


async def _next_number(ctx: RequestContext, main_id: str) -> int:
    numbers = [
        int(m.group(1)) for o in await _declared_on(ctx, main_id) if (m := _OUTAGE_ID.fullmatch(o.outage_id))
    ]
    return max(numbers, default=0) + 1


async def _segments(ctx: RequestContext, asset_nos: list[str]) -> dict[str, PipeSegment]:
    chunks = [asset_nos[i : i + SEGMENT_BATCH] for i in range(0, len(asset_nos), SEGMENT_BATCH)]
    found: dict[str, PipeSegment] = {}
    for part in await asyncio.gather(*(ctx.backends.gis.segments(c) for c in chunks)):
        found |= part
    return found


def _midpoint(segment: PipeSegment) -> GeoPoint | None:
    if not segment.path:
        return None
    return segment.path[len(segment.path) // 2]


def _declared_text(outage: Outage, road: str) -> str:
    restore = outage.estimated_restore_at.astimezone(_CST) if outage.estimated_restore_at else None
    when = f"预计{restore:%m月%d日%H:%M}恢复供水" if restore is not None else "恢复时间另行通知"
    place = f"{road}一带" if road else "您所在区域"
    return f"【江城水务】因{outage.reason or '管道抢修'}，{place}停水（{outage.outage_id}），{when}。"


@dataclass(frozen=True, slots=True)
class NoticeCounts:
    outage_id: str
    declared: int
    all_clear: int


@guarded
async def notice_counts(ctx: RequestContext, outage_id: str) -> NoticeCounts:
    """What the CRM's outbox holds for the outage: how far a background run has got."""
    require_unrestricted(ctx, "outageNotices")
    wanted = _declared_id(outage_id)
    declared, cleared = await asyncio.gather(
        outage_notices.sent(ctx, wanted, all_clear=False), outage_notices.sent(ctx, wanted, all_clear=True)
    )
    return NoticeCounts(wanted, declared, cleared)


def _declared_id(outage_id: str) -> str:
    wanted = outage_id.strip().upper()
    if not _OUTAGE_ID.fullmatch(wanted):
        raise public_error(
            f"{outage_id!r} was not declared through Tidegate (ids look like TG-GS-000055-1)",
            ErrorCode.OUTAGE_NOT_DECLARED,
        )
    return wanted


# -- attaching a ticket to a declared outage --------------------------------------------------------


async def attached_order(
    ctx: RequestContext,
    category: TicketCategory,
    main_object_id: int | None,
    point: GeoPoint | None,
) -> Ticket | None:
    """The master order of an active outage Tidegate declared that this report is part of: a supply
    complaint (`ATTACHES`) from an account whose connection taps a main the outage left dry, or a
    street report (a point, no account) inside the notice's area. None: file a ticket as usual.

    Read fresh from the GIS (one query), not through the outage cache: a report filed a second after
    the notice went up must find it."""
    if category not in ATTACHES or (main_object_id is None and point is None):
        return None
    declared = [o for o in await ctx.backends.gis.outages(True) if o.outage_id.startswith(PREFIX)]
    for outage in declared:
        hit = (
            main_object_id in outage.main_object_ids
            if main_object_id is not None
            else point is not None and outage.covers(point)
        )
        if hit:
            master = await ctx.backends.workorders.ticket_by_client_ref(outage.outage_id)
            if master is not None:
                logger.info("ticket attached to an outage", extra={"outage_id": outage.outage_id})
                return master
    return None


def now_utc() -> datetime:
    return datetime.now(UTC)


def _idempotency(ctx: RequestContext) -> Idempotency:
    if ctx.idempotency is None:
        raise RuntimeError("no idempotency store in the request context: the app's lifespan opens it")
    return ctx.idempotency


def _bad(message: str) -> Exception:
    return public_error(message, ErrorCode.BAD_USER_INPUT)
