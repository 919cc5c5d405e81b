"""Repair tickets from the work-order system."""

from __future__ import annotations

from domain.enums import TicketStatus
from domain.records import Ticket, TicketStatusChange
from infra.errors import NotFound
from services.authorize import require_ticket, require_unrestricted
from services.context import RequestContext
from services.errors import ErrorCode, bounded, guarded, public_error
from services.loaders import KeyedLoader
from services.ticket_state_store import TicketStateStore

LIVE_STATUS_BATCH = 100


@guarded
async def ticket(ctx: RequestContext, ticket_id: str) -> Ticket:
    if ctx.access.unrestricted:  # a supervisor's NOT_FOUND is a real answer
        return require_ticket(ctx, ticket_id, await ctx.loaders.ticket_by_id.load(ticket_id))
    try:
        found = await ctx.loaders.ticket_by_id.load(ticket_id)
    except NotFound:
        found = None  # an agent learns nothing about tickets that are not theirs, real or not
    return require_ticket(ctx, ticket_id, found)


@guarded
async def tickets(ctx: RequestContext, status: list[TicketStatus] | None, first: int) -> list[Ticket]:
    """District-wide, newest first; `status` defaults to the open ones."""
    bounded("first", first)
    require_unrestricted(ctx, "tickets")
    wanted = frozenset(status) if status else frozenset(s for s in TicketStatus if s.is_open)
    if TicketStatus.UNKNOWN in wanted:
        raise public_error("UNKNOWN is not a status tickets can be searched by", ErrorCode.BAD_USER_INPUT)
    return await ctx.backends.workorders.tickets(wanted, first)


@guarded
async def live_status(ctx: RequestContext, ticket_id: str) -> TicketStatusChange | None:
    """The newest change the work-order system pushed for the ticket (webhooks), from the shared store:
    one store read per request for every ticket the query shows. None when none is kept."""
    loader = ctx.extras.get("live_status_by_ticket")
    if loader is None:
        store: TicketStateStore | None = getattr(getattr(ctx.request, "state", None), "ticket_states", None)
        if store is None:  # a context with no app behind it (in-process tests)
            return None
        loader = ctx.extras["live_status_by_ticket"] = KeyedLoader[str, TicketStatusChange](
            store.get_many, LIVE_STATUS_BATCH
        )
    found: TicketStatusChange | None = await loader.load(ticket_id)
    return found
