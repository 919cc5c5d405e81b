"""Who is calling: customers by phone or number, and what hangs off them."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass

from domain.enums import CustomerKind, TicketStatus
from domain.phones import national
from domain.records import Account, Customer, Interaction, Outage, Ticket
from infra.cache.cache import Cached
from infra.errors import BackendUnavailable
from services.authorize import require_customer, require_phone_search
from services.context import RequestContext
from services.errors import ErrorCode, bounded, guarded, public_error
from services.freshness import ResponsePath

logger = logging.getLogger("tidegate.resolvers")

_CUSTOMER_NO = re.compile(r"KH[0-9]{8}")


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """A customer the query will resolve lazily: fields load through the request's loaders."""

    customer_no: str


def customer_ref(raw: str) -> CustomerRef:
    """A customer number as a caller typed it (spaces, lower case) made canonical, or BAD_USER_INPUT:
    a malformed one must never reach a backend's mapping, whose ValueError would be an internal error."""
    cleaned = raw.strip().upper()
    if not _CUSTOMER_NO.fullmatch(cleaned):
        raise public_error(
            f"a customer number is KH and 8 digits (e.g. KH00000001), got {raw!r}", ErrorCode.BAD_USER_INPUT
        )
    return CustomerRef(cleaned)


@guarded
async def by_phone(ctx: RequestContext, phone: str) -> list[CustomerRef]:
    """The CRM is the contact master and answers in tens of ms; billing is asked only when the CRM
    fails or knows nobody, so the screen pop does not wait on billing twice."""
    number = national(phone)
    if number is None:
        raise public_error(f"not a phone number: {phone!r}", ErrorCode.BAD_USER_INPUT)
    require_phone_search(ctx, number)
    try:
        contacts = await ctx.backends.crm.contacts_by_phone(number)
    except BackendUnavailable as exc:
        logger.warning("crm phone lookup failed; falling back to billing", extra={"error": exc.message})
        contacts = []
    if not contacts:
        found = await ctx.backends.billing.accounts_by_phone(number)
        now = time.time()
        for account in found:  # read in full just now: the account fields need not ask again
            ctx.loaders.account_by_no.prime(
                account.account_no, Cached(account, 0.0, stale=False, stored_at=now)
            )
        contacts = _from_billing(ctx, found)
    call = ctx.access.call
    for contact in contacts:
        ctx.loaders.customer_by_no.prime(contact.customer_no, contact)
        if call is not None and call.caller == number:
            call.bind(contact.customer_no, contact.account_nos)  # the screen pop opens these to the agent
    return [CustomerRef(c.customer_no) for c in contacts]


def _from_billing(ctx: RequestContext, accounts: list[Account]) -> list[Customer]:
    """Customers the CRM could not give us, pieced together from billing's phone search."""
    grouped: dict[str, list[Account]] = {}
    for account in accounts:
        grouped.setdefault(account.customer_no, []).append(account)
    out: list[Customer] = []
    for customer_no, owned in grouped.items():
        first = owned[0]
        out.append(
            Customer(
                customer_no=customer_no,
                crm_id="",
                name=first.holder_name,
                kind=CustomerKind.UNKNOWN,
                mobiles=(first.mobile,) if first.mobile else (),
                landlines=(first.landline,) if first.landline else (),
                account_nos=tuple(a.account_no for a in owned),
                vip=False,
                tags=(),
                since=None,
            )
        )
    return out


@guarded
async def profile(ctx: RequestContext, ref: CustomerRef) -> Customer:
    require_customer(ctx, ref.customer_no)
    found = await ctx.loaders.customer_by_no.load(ref.customer_no)
    if found is None:
        raise public_error(f"no customer {ref.customer_no}", ErrorCode.NOT_FOUND)
    return found


@guarded
async def accounts(ctx: RequestContext, ref: CustomerRef) -> list[Account]:
    customer = await profile(ctx, ref)
    loaded = await ctx.loaders.account_by_no.load_many(list(customer.account_nos))
    return [a.value for a in loaded if a is not None]  # each Account object marks its own staleness


@guarded
async def interactions(ctx: RequestContext, ref: CustomerRef, last: int) -> list[Interaction]:
    bounded("last", last)
    customer = await profile(ctx, ref)
    if not customer.crm_id:
        raise public_error(
            "crm is unavailable: contact history cannot be read", ErrorCode.BACKEND_ERROR, backend="crm"
        )
    return await ctx.loaders.interactions_by_contact.load((customer.crm_id, last))


@guarded
async def tickets(
    ctx: RequestContext, ref: CustomerRef, first: int, status: list[TicketStatus] | None, open_only: bool
) -> list[Ticket]:
    bounded("first", first)
    require_customer(ctx, ref.customer_no)
    found = await ctx.loaders.tickets_by_customer.load(ref.customer_no) or []
    wanted = [t for t in found if (not status or t.status in status) and (not open_only or t.status.is_open)]
    return wanted[:first]


@guarded
async def active_outages(
    ctx: RequestContext, ref: CustomerRef, at: ResponsePath | None = None
) -> list[Outage]:
    customer = await profile(ctx, ref)
    return await outages_covering(ctx, list(customer.account_nos), at)


async def outages_covering(
    ctx: RequestContext, account_nos: list[str], at: ResponsePath | None = None
) -> list[Outage]:
    """Active outages whose area holds one of these accounts' service connections."""
    connections, outages = await asyncio.gather(
        ctx.loaders.connection_by_account.load_many(account_nos), ctx.loaders.outages.load(True)
    )
    points = [ctx.freshness.saw(at, c).location for c in connections if c is not None]
    return [o for o in ctx.freshness.saw(at, outages) if any(o.covers(p) for p in points)]
