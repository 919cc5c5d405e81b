"""Repair tickets from the work-order system."""

from __future__ import annotations

from backends.domain.enums import TicketStatus
from backends.domain.records import Ticket
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, bounded, guarded, public_error


@guarded
async def ticket(ctx: RequestContext, ticket_id: str) -> Ticket:
    return await ctx.loaders.ticket_by_id.load(ticket_id)


@guarded
async def tickets(ctx: RequestContext, status: list[TicketStatus] | None, first: int) -> list[Ticket]:
    """District-wide, newest first; `status` defaults to the open ones."""
    bounded("first", first)
    wanted = frozenset(status) if status else frozenset(s for s in TicketStatus if s.is_open)
    if TicketStatus.UNKNOWN in wanted:
        raise public_error("UNKNOWN is not a status tickets can be searched by", ErrorCode.BAD_USER_INPUT)
    return await ctx.backends.workorders.tickets(wanted, first)
