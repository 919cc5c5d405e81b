"""Least privilege at the data: the one point every customer-linked read passes.

Each function here either refuses (FORBIDDEN, audited) or hands back only what the caller may see.
A refusal reads the same whether or not the customer, account or ticket exists, so an agent
cannot use the API to learn who else is a customer. Lists that mix the caller's records with
other people's (the open tickets on a main) keep the caller's and turn the rest into
`RedactedTicket`s: what kind of work, never whose, where or by whom. `tests/architecture/
test_access_point.py` fails when a resolver reads customer-linked records without passing here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from graphql import GraphQLError

from domain.enums import TicketCategory, TicketPriority, TicketStatus
from domain.records import Ticket
from services.access import CUSTOMER_READ
from services.calls import Call
from services.context import RequestContext
from services.errors import ErrorCode, public_error

NOT_YOURS = "not allowed: only the customers matched to your current call"
TICKETS_WITHHELD = "tickets not raised for a customer on the caller's current call: shown as counts only"


@dataclass(frozen=True, slots=True)
class RedactedTicket:
    """A ticket the caller may know exists and nothing more: no id, customer, account, description,
    address, location or assignee (an id would only invite a probe that is refused anyway)."""

    category: TicketCategory
    priority: TicketPriority
    status: TicketStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TicketsSeen:
    """A list of tickets split by what the caller may read."""

    shown: list[Ticket]
    withheld: list[RedactedTicket]

    @property
    def total(self) -> int:
        return len(self.shown) + len(self.withheld)


def _refuse(ctx: RequestContext, target: str, key: str | None, reason: str) -> GraphQLError:
    ctx.audit.refused(target, key, reason)
    return public_error(NOT_YOURS, ErrorCode.FORBIDDEN)


def require_customer(ctx: RequestContext, customer_no: str) -> None:
    refused = customer_refusal(ctx, customer_no)
    if refused is not None:
        raise refused


def customer_refusal(ctx: RequestContext, customer_no: str) -> GraphQLError | None:
    """The decision for one customer object, None when the caller may read it: the schema puts the
    refusal (audited) in the object's place, so it costs that customer and not its siblings."""
    if ctx.access.may_read(customer_no):
        return None
    return _refuse(ctx, "customer", customer_no, "customer not matched to the caller's current call")


def require_account(ctx: RequestContext, account_no: str) -> None:
    refused = account_refusal(ctx, account_no)
    if refused is not None:
        raise refused


def account_refusal(ctx: RequestContext, account_no: str) -> GraphQLError | None:
    """As `customer_refusal`, for one account object."""
    if ctx.access.may_read_account(account_no):
        return None
    return _refuse(ctx, "account", account_no, "account not matched to the caller's current call")


def require_phone_search(ctx: RequestContext, national_number: str) -> None:
    if not ctx.access.may_search_phone(national_number):
        raise _refuse(ctx, "phone", None, "number is not the caller on the agent's current call")


def bound_to_call(call: Call, customer_nos: Iterable[str]) -> list[str]:
    """Work the process does for a call with no request behind it (a late phone match): only the
    customers bound to that call, still the agent's, may be read for it."""
    return [no for no in customer_nos if no in call.customers]


def require_identification(ctx: RequestContext) -> Call:
    """Identifying a caller (searching by 户号, address or name, verifying, binding) is for an agent
    on a call whose caller is not identified yet: their current call, which they get back."""
    p, call = ctx.access.principal, ctx.access.call
    if p is None or CUSTOMER_READ not in p.scopes or call is None:
        raise _refuse(ctx, "identification", None, "identification only while on a call")
    if call.identified is not None:
        raise _refuse(ctx, "identification", None, "the caller on this call is identified already")
    return call


def require_unrestricted(ctx: RequestContext, target: str) -> None:
    """District-wide lists are for supervisors: agents never page through customers' data."""
    if not ctx.access.unrestricted:
        raise _refuse(ctx, target, None, "district-wide listing needs customer:read:any")


def counts_only(ctx: RequestContext, target: str) -> None:
    """A number over customer-linked records ("412 customers, 380 households lose water") names
    nobody, so any caller the field's scope admits may have it: the records read to count it never
    leave the service. Passing here keeps such reads visible to the access-point rule."""
    del ctx, target


def require_ticket(ctx: RequestContext, ticket_id: str, found: Ticket | None) -> Ticket:
    """The ticket, if the caller may read it; `found` None (no such ticket) reads as a refusal too."""
    if found is None or not ctx.access.may_read_ticket(ticket_id, found.customer_no):
        raise refused_ticket(ctx, ticket_id)
    return found


def refused_ticket(ctx: RequestContext, ticket_id: str) -> GraphQLError:
    return _refuse(ctx, "ticket", ticket_id, "ticket not raised for a customer on the caller's current call")


def visible_tickets(ctx: RequestContext, tickets: Iterable[Ticket]) -> TicketsSeen:
    """The tickets the caller may read in full, the rest as stubs; one audited refusal per request."""
    shown: list[Ticket] = []
    hidden: list[Ticket] = []
    for t in tickets:
        (shown if ctx.access.may_read_ticket(t.ticket_id, t.customer_no) else hidden).append(t)
    if hidden:
        ctx.audit.withheld("tickets", TICKETS_WITHHELD, (t.ticket_id for t in hidden))
    return TicketsSeen(
        shown, [RedactedTicket(t.category, t.priority, t.status, t.created_at) for t in hidden]
    )
