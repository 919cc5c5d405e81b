"""The pipe network: segments, outages, and the tickets and crews on them."""

from __future__ import annotations

from domain.geo import GeoPoint, metres_to_path
from domain.records import Outage, PipeSegment
from services.authorize import TicketsSeen, visible_tickets
from services.context import RequestContext
from services.errors import ErrorCode, bounded, guarded, public_error
from services.freshness import ResponsePath

NEAR_TICKET_M = 60  # a ticket this close to a main is taken to be about it
NEAREST_MAIN_M = 100


@guarded
async def segment(ctx: RequestContext, segment_id: str, at: ResponsePath | None = None) -> PipeSegment:
    found = await ctx.loaders.segment_by_id.load(segment_id)
    if found is None:
        raise public_error(f"no pipe segment {segment_id}", ErrorCode.NOT_FOUND)
    return ctx.freshness.saw(at, found)


@guarded
async def segments_by_object_id(
    ctx: RequestContext, object_ids: list[int], at: ResponsePath | None = None
) -> list[PipeSegment]:
    found = await ctx.loaders.segment_by_object_id.load_many(object_ids)
    return [ctx.freshness.saw(at, s) for s in found if s is not None]


@guarded
async def segments_near(ctx: RequestContext, lat: float, lon: float, radius_m: int) -> list[PipeSegment]:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise public_error("lat/lon out of range", ErrorCode.BAD_USER_INPUT)
    bounded("radiusM", radius_m, 1, 2_000)
    found = await ctx.loaders.segments_near.load((GeoPoint(lon, lat), radius_m))
    return found[:50]


@guarded
async def nearest_segment(ctx: RequestContext, point: GeoPoint) -> PipeSegment | None:
    found = await ctx.loaders.segments_near.load((point, NEAREST_MAIN_M))
    return found[0] if found else None


@guarded
async def outages(ctx: RequestContext, active: bool | None, at: ResponsePath | None = None) -> list[Outage]:
    """`active` omitted (None): any status, as the active list and the rest, because a dataloader
    takes no None key (it raised TypeError: an internal error for a plain `outages` query)."""
    keys = [active] if active is not None else [True, False]
    found = await ctx.loaders.outages.load_many(keys)
    return [o for cached in found for o in ctx.freshness.saw(at, cached)]


@guarded
async def outages_on(
    ctx: RequestContext, segment: PipeSegment, at: ResponsePath | None = None
) -> list[Outage]:
    """Any status: the active ones and the rest, the two lists `outages(active:)` caches anyway."""
    found = await ctx.loaders.outages.load_many([True, False])
    return [
        o for cached in found for o in ctx.freshness.saw(at, cached) if segment.object_id in o.main_object_ids
    ]


@guarded
async def open_tickets_on(ctx: RequestContext, segment: PipeSegment) -> TicketsSeen:
    """Open tickets near the main (at most 50), split by what the caller may read: an agent gets
    their caller's in full and only stubs of everybody else's."""
    tickets = await ctx.loaders.open_tickets.load("all")
    near = [
        t
        for t in tickets
        if t.location is not None and metres_to_path(t.location, segment.path) <= NEAR_TICKET_M
    ][:50]
    return visible_tickets(ctx, near)
