"""Entities by key, for a federation router's `_entities`: one more entry point, the same checks.

A router turns `{__typename: "Customer", id: "KH00000001"}` into our objects. Each lookup here
runs exactly what the matching root field runs (least privilege, NOT_FOUND, the request's
loaders), so a representation reaches nothing `customer(id)` or `account(accountNo)` would not.
Every representation of one `_entities` call resolves in the same tick, so the loaders batch
them: one CRM call for the customers, one billing `GetAccounts` per 50 accounts, one GIS query
for the segments (tickets: one call each, the work-order system has no batch read by number).
"""

from __future__ import annotations

from domain.records import PipeSegment, Ticket
from services import accounts, customers, network, tickets
from services.context import RequestContext
from services.customers import CustomerRef
from services.freshness import ResponsePath


async def customer(ctx: RequestContext, customer_no: str) -> CustomerRef:
    """FORBIDDEN unless the caller may read this customer; NOT_FOUND if the CRM has none."""
    ref = customers.customer_ref(customer_no)
    await customers.profile(ctx, ref)
    return ref


async def account(ctx: RequestContext, account_no: str) -> str:
    """The normalised 户号, once the caller may read it and billing knows it."""
    number = accounts.normalize_account_no(account_no)
    await accounts.record(ctx, number)
    return number


async def ticket(ctx: RequestContext, ticket_id: str) -> Ticket:
    return await tickets.ticket(ctx, ticket_id)


async def pipe_segment(ctx: RequestContext, segment_id: str, at: ResponsePath | None = None) -> PipeSegment:
    return await network.segment(ctx, segment_id, at)
