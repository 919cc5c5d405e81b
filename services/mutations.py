"""Writes: filing a repair ticket, idempotently, for the right grid's field worker.

`create_ticket` checks the input, then who may file it, then the key (`services.idempotency`); only
a new key goes on to locate the fault and create the order. Least privilege: an agent files for the
customer or account on their current call, or with neither, for what anyone may report (a burst
main in the street), which reveals no customer's data. Supervisors file for anyone.

Where the fault is: the given lat/lon; else the account's service connection (GIS); else, for a
customer with a single account, that account's. An address alone is not geocoded (the GIS has no
address layer): the order is filed undispatched (受理) for the work-order system's dispatchers.

A supply complaint (no water, low pressure, a burst or a leak) from a customer on a main that an
outage declared through Tidegate left dry, or a street report inside its notice, is not filed again:
the answer is the outage's master order (`services.outages.attached_order`), and the key keeps it.

Safe without our idempotency records too (Redis away): the key's reference goes with the order, the
work-order system keeps one order per reference, and the fingerprint stored beside it catches a key
reused for another input (`services.idempotency`, `unique_reference`).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace

from domain.drafts import TicketDraft
from domain.enums import TicketCategory, TicketPriority
from domain.geo import GeoPoint
from domain.records import Ticket
from infra.deadline import deadline
from services import network, outages
from services.accounts import normalize_account_no
from services.authorize import require_account, require_customer
from services.context import RequestContext
from services.errors import ErrorCode, guarded, public_error
from services.idempotency import Idempotency, fingerprint, scoped_key, side_effect

MUTATION = "createTicket"
DESCRIPTION_MAX = 2_000  # the work-order system's own limit
_CUSTOMER_NO = re.compile(r"KH\d{8}")
# How urgent a category is unless someone says otherwise: a burst main floods a street.
PRIORITY = {
    TicketCategory.BURST_MAIN: TicketPriority.CRITICAL,
    TicketCategory.LEAK: TicketPriority.URGENT,
    TicketCategory.NO_WATER: TicketPriority.URGENT,
}


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """What the caller asked for, normalised: the canonical input the key's fingerprint is taken of."""

    category: TicketCategory
    description: str
    customer_no: str | None = None
    account_no: str | None = None
    address: str | None = None
    location: GeoPoint | None = None


def ticket_request(
    category: TicketCategory,
    description: str,
    customer_id: str | None = None,
    account_no: str | None = None,
    address: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> TicketRequest:
    """The input checked and normalised (BAD_USER_INPUT otherwise), before anything is looked up."""
    if category is TicketCategory.UNKNOWN:
        raise _bad("category UNKNOWN cannot be filed: use OTHER")
    text = description.strip()
    if not text or len(text) > DESCRIPTION_MAX:
        raise _bad(f"description is required, at most {DESCRIPTION_MAX} characters")
    customer = customer_id.strip().upper() if customer_id and customer_id.strip() else None
    if customer is not None and not _CUSTOMER_NO.fullmatch(customer):
        raise _bad(f"a customer id looks like KH00000001, got {customer_id!r}")
    if (lat is None) != (lon is None):
        raise _bad("lat and lon go together")
    point = None
    if lat is not None and lon is not None:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise _bad("lat/lon out of range")
        point = GeoPoint(lon, lat)
    account = normalize_account_no(account_no) if account_no and account_no.strip() else None
    place = address.strip() if address and address.strip() else None
    if point is None and account is None and customer is None and place is None:
        raise _bad("say where: lat/lon, an account, a customer or an address")
    return TicketRequest(category, text, customer, account, place, point)


@guarded
async def create_ticket(ctx: RequestContext, request: TicketRequest, idempotency_key: str) -> Ticket:
    authorize(ctx, request)
    principal, idempotency = ctx.access.principal, idempotency_of(ctx)
    assert principal is not None  # @requiresScopes let nobody else in
    key = scoped_key(principal.client_id, MUTATION, idempotency_key)
    # The caller is part of the fingerprint: another user of the same client who reuses a key gets
    # IDEMPOTENCY_KEY_REUSED, never someone else's ticket.
    print_ = fingerprint(MUTATION, principal.subject, principal.agent_id, request)
    # Filing is not a screen pop: its lookups get each backend's own timeout, not what is left of the
    # critical class's 300 ms (billing alone takes ~200 ms; cut short, a filing would fail every retry).
    with deadline(None):
        ticket = await idempotency.run(
            key,
            print_,
            Ticket,
            find=lambda: _found(ctx, key.reference, print_),
            perform=lambda: _file(ctx, request, key.reference, print_),
            unique_reference=True,  # the work-order system keeps one order per client_ref
        )
    if ctx.access.call is not None:
        ctx.access.call.tickets.add(ticket.ticket_id)  # the agent may read it for the rest of the call
    return ticket


def authorize(ctx: RequestContext, request: TicketRequest) -> None:
    """Before the key is even looked at: a replay is an answer too, and answers need permission."""
    if request.customer_no is not None:
        require_customer(ctx, request.customer_no)
    if request.account_no is not None:
        require_account(ctx, request.account_no)


async def _found(ctx: RequestContext, reference: str, print_: str) -> Ticket | None:
    """The order filed under the key's reference, if any, and only if it was filed for this input."""
    found = await ctx.backends.workorders.ticket_by_client_ref(reference)
    return _same_input(found, print_) if found is not None else None


def _same_input(ticket: Ticket, print_: str) -> Ticket:
    """Our records catch a key reused for another input; without them (Redis away, or a record that
    expired) the fingerprint stored with the order does. An order filed before fingerprints were
    stored carries none, and is taken as it is."""
    if ticket.client_fingerprint is not None and ticket.client_fingerprint != print_:
        raise public_error(
            "this idempotencyKey was already used with a different input", ErrorCode.IDEMPOTENCY_KEY_REUSED
        )
    return ticket


async def _file(ctx: RequestContext, request: TicketRequest, reference: str, print_: str) -> Ticket:
    """Locate, pick the grid's field worker, then the one write (answered with the order already
    filed under `reference`, should a racing or earlier attempt have made it)."""
    request, (point, main_id) = await asyncio.gather(_identified(ctx, request), _located(ctx, request))
    master = await outages.attached_order(ctx, request.category, main_id, point)
    if master is not None:  # a declared outage's customer: their report is that repair, not a new one
        return master
    grid_code, worker, address = None, None, request.address
    if point is not None:
        grid, workers, main = await asyncio.gather(
            ctx.backends.gis.grid_at(point),
            ctx.backends.workorders.grid_workers(),
            network.nearest_segment(ctx, point) if address is None else _nothing(),
        )
        if grid is None:
            raise _bad("the location is outside the service area")
        # Who gets it is the work-order system's own roster for the grid: whom it will dispatch to.
        grid_code, worker = grid.code, workers.get(grid.code)
        if address is None and main is not None:  # a street report: name the road and the main
            address = f"{main.road_name or ''}（管段 {main.segment_id} 附近）"
    call = ctx.access.call
    draft = TicketDraft(
        category=request.category,
        priority=PRIORITY.get(request.category, TicketPriority.NORMAL),
        description=request.description,
        client_ref=reference,
        customer_no=request.customer_no,
        account_no=request.account_no,
        address=address,
        location=point,
        grid_code=grid_code if worker is not None else None,
        worker_id=worker.worker_id if worker is not None else None,
        reporter_phone=call.caller if call is not None else None,
        client_fingerprint=print_,
    )
    return _same_input(await side_effect(ctx.backends.workorders.create_ticket(draft)), print_)


async def _identified(ctx: RequestContext, request: TicketRequest) -> TicketRequest:
    """The account's customer (the order is filed under them), checked against the one given."""
    if request.account_no is None:
        return request
    found = (await ctx.backends.billing.accounts([request.account_no])).get(request.account_no)
    if found is None:
        raise public_error(f"no account {request.account_no}", ErrorCode.NOT_FOUND)
    if request.customer_no is not None and found.customer_no != request.customer_no:
        raise _bad(f"account {request.account_no} is not {request.customer_no}'s")
    return replace(request, customer_no=found.customer_no, address=request.address or found.address)


async def _located(ctx: RequestContext, request: TicketRequest) -> tuple[GeoPoint | None, int | None]:
    """The given point; else the account's (or single-account customer's) service connection, with
    the main it taps (how an outage's customer is told from the rest)."""
    if request.location is not None:
        return request.location, None
    account_no = request.account_no
    if account_no is None and request.customer_no is not None:
        customer = await ctx.loaders.customer_by_no.load(request.customer_no)
        if customer is None:
            raise public_error(f"no customer {request.customer_no}", ErrorCode.NOT_FOUND)
        if len(customer.account_nos) > 1 and request.address is None:
            raise _bad("this customer has several accounts: give accountNo, lat/lon or an address")
        account_no = customer.account_nos[0] if len(customer.account_nos) == 1 else None
    if account_no is None:
        return None, None
    connection = (await ctx.backends.gis.service_connections([account_no])).get(account_no)
    return (connection.location, connection.main_object_id) if connection is not None else (None, None)


async def _nothing() -> None:
    return None


def idempotency_of(ctx: RequestContext) -> Idempotency:
    """The process's records, which every mutation needs (a context built without them cannot write)."""
    if ctx.idempotency is None:
        raise RuntimeError("no idempotency store in the request context: the app's lifespan opens it")
    return ctx.idempotency


def _bad(message: str) -> Exception:
    return public_error(message, ErrorCode.BAD_USER_INPUT)
