"""Who is calling: customers by phone or number, and what hangs off them."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from domain.enums import CustomerKind, TicketStatus
from domain.phones import national
from domain.records import Account, Customer, Interaction, Outage, Ticket
from infra.cache.cache import Cached
from infra.deadline import time_left
from infra.errors import BackendUnavailable
from services import outage_impact
from services.authorize import require_customer, require_phone_search
from services.calls import Call
from services.context import RequestContext
from services.errors import ErrorCode, bounded, guarded, public_error
from services.freshness import ResponsePath

logger = logging.getLogger("tidegate.resolvers")

_CUSTOMER_NO = re.compile(r"KH[0-9]{8}")
# What a request keeps of its deadline when it stops waiting for billing's phone search: enough to
# answer "no match" in time.
NO_MATCH_RESERVE_S = 0.02


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
    fails or knows nobody, and only for as long as the request's deadline allows: a caller nobody
    knows is "no match" within the deadline, while billing's slower search goes on in the background
    for the call (`services.phone_search`) and updates the pop if it finds them later. On the agent's
    own call, the customers already bound to it (identified by the agent, found late, carried over a
    transfer) are the call's answer too."""
    number = national(phone)
    if number is None:
        raise public_error(f"not a phone number: {phone!r}", ErrorCode.BAD_USER_INPUT)
    require_phone_search(ctx, number)
    call = ctx.access.call
    on_call = call is not None and call.caller == number
    if on_call and call is not None and call.identified is not None:
        return [CustomerRef(call.identified)]  # verified by the agent: the number's matches do not count
    crm_failed: BackendUnavailable | None = None
    try:
        contacts = await ctx.backends.crm.contacts_by_phone(number)
    except BackendUnavailable as exc:
        logger.warning("crm phone lookup failed; falling back to billing", extra={"error": exc.message})
        contacts, crm_failed = [], exc
    # A call that knows its caller already (a late match, a transfer) need not ask billing again.
    known_on_call = on_call and call is not None and bool(call.customers)
    if not contacts and not known_on_call:
        found = await _billing_phone_search(ctx, number, call if on_call else None)
        if not found and crm_failed is not None:
            # Nobody found only because the contact master did not answer: that is the CRM's failure
            # (coded, at this field), not "no match" (billing's search goes on for the call).
            raise crm_failed
        now = time.time()
        for account in found:  # read in full just now: the account fields need not ask again
            ctx.loaders.account_by_no.prime(
                account.account_no, Cached(account, 0.0, stale=False, stored_at=now)
            )
        contacts = customers_from_billing(found)
    for contact in contacts:
        ctx.loaders.customer_by_no.prime(contact.customer_no, contact)
        if on_call and call is not None:
            call.bind(contact.customer_no, contact.account_nos)  # the screen pop opens these to the agent
    refs = [CustomerRef(c.customer_no) for c in contacts]
    if on_call and call is not None:
        refs += [CustomerRef(no) for no in sorted(call.customers - {c.customer_no for c in contacts})]
    return refs


async def _billing_phone_search(ctx: RequestContext, number: str, call: Call | None) -> list[Account]:
    """billing's accounts on the number if its search answers within this request's deadline; else
    [] (no match, for now), the search going on for the call. Without the app's live services (a
    script's context) billing is simply asked, within whatever deadline there is."""
    searches = ctx.live.searches if ctx.live is not None else None
    if searches is None:
        return await ctx.backends.billing.accounts_by_phone(number)
    known = searches.known(number)
    if known is not None:
        return known
    key = (call.agent_id, call.call_id) if call is not None else None
    task = searches.start(ctx.backends.billing, number, key)
    if task is None:
        return []
    left = time_left()
    patience = searches.wait_s if left is None else max(0.0, min(searches.wait_s, left - NO_MATCH_RESERVE_S))
    return await searches.wait(task, number, patience, key) or []


def customers_from_billing(accounts: list[Account]) -> list[Customer]:
    """Customers the CRM could not give us, pieced together from billing's accounts."""
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


async def _profile(ctx: RequestContext, ref: CustomerRef) -> Customer:
    """`profile` for the guarded functions below, which already turn a backend's error into a coded
    one: a second guard would be one more coroutine per call, four a screen pop, for nothing."""
    require_customer(ctx, ref.customer_no)
    found = await ctx.loaders.customer_by_no.load(ref.customer_no)
    if found is None:
        raise public_error(f"no customer {ref.customer_no}", ErrorCode.NOT_FOUND)
    return found


profile = guarded(_profile)


@guarded
async def accounts(ctx: RequestContext, ref: CustomerRef) -> list[Account]:
    customer = await _profile(ctx, ref)
    loaded = await ctx.loaders.account_by_no.load_many(list(customer.account_nos))
    return [a.value for a in loaded if a is not None]  # each Account object marks its own staleness


@guarded
async def interactions(ctx: RequestContext, ref: CustomerRef, last: int) -> list[Interaction]:
    bounded("last", last)
    customer = await _profile(ctx, ref)
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
    customer = await _profile(ctx, ref)
    return await outages_covering(ctx, list(customer.account_nos), at)


async def outages_covering(
    ctx: RequestContext, account_nos: list[str], at: ResponsePath | None = None
) -> list[Outage]:
    """Active outages that leave one of these accounts without water: by the valve-isolation trace
    from each outage's closed valves (`services.outage_impact`), not by the polygon drawn round it."""
    return [found.outage for found in await outage_impact.outages_for_accounts(ctx, account_nos, at)]


@guarded
async def outage_impacts(
    ctx: RequestContext, ref: CustomerRef, at: ResponsePath | None = None
) -> list[outage_impact.AccountOutage]:
    """The same outages with why: which account, which main, shut or downstream, which closures."""
    customer = await _profile(ctx, ref)
    return await outage_impact.outages_for_accounts(ctx, list(customer.account_nos), at)
