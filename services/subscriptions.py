"""`ticketUpdated` and `screenPop`: subscriptions over the event bus, with least privilege per event.

A subscription outlives the request that opened it, so before each event the connection's context is
renewed: fresh loaders (the event shows the world as it is now) and the caller's access read again
from the call registry (it shows only what they may see now). An agent's ticket stream therefore ends
with FORBIDDEN at its first event after their call has ended.

Authorization runs when the subscription is opened (an `error` message, nothing delivered) and again
for every event. Each stream is subscribed to the bus before it is handed back, and leaves the bus
however it ends, even when it is closed before its first event.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Generic, TypeVar

from graphql import GraphQLError

from domain.enums import TicketStatus
from domain.records import Ticket
from infra.pubsub import Message, Subscription
from services import caller_match, customers, tickets
from services.access import Access
from services.authorize import require_customer
from services.call_feed import CHANNEL as CALL_CHANNEL
from services.call_machine import CallState
from services.calls import CallChange, ChangeKind
from services.context import RequestContext
from services.customers import CustomerRef
from services.errors import ErrorCode, public_error
from services.freshness import Freshness
from services.live import Live, customer_channel, screen_pop_channel, ticket_channel
from services.loaders import Loaders
from services.pop_store import StoredPop

logger = logging.getLogger("tidegate.subscriptions")

T = TypeVar("T")
U = TypeVar("U")


class LiveStream(Generic[T]):
    """Bus messages turned into values by `step` (None skips a message), after the `first` values."""

    def __init__(
        self,
        subscription: Subscription,
        messages: AsyncIterator[Message],
        step: Callable[[Message], Awaitable[T | None]],
        first: list[T] | None = None,
    ) -> None:
        self._subscription = subscription
        self._messages = messages
        self._step = step
        self._first = list(first or [])
        self._closed = False

    def __aiter__(self) -> LiveStream[T]:
        return self

    async def __anext__(self) -> T:
        if self._first:
            return self._first.pop(0)
        while True:
            value = await self._step(await anext(self._messages))
            if value is not None:
                return value

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._subscription.__aexit__(None, None, None)

    def map(self, convert: Callable[[T], U]) -> MappedStream[T, U]:
        return MappedStream(self, convert)


class MappedStream(Generic[T, U]):
    """A `LiveStream` seen through `convert` (domain records to schema types), closing it when closed."""

    def __init__(self, source: LiveStream[T], convert: Callable[[T], U]) -> None:
        self._source, self._convert = source, convert

    def __aiter__(self) -> MappedStream[T, U]:
        return self

    async def __anext__(self) -> U:
        return self._convert(await anext(self._source))

    async def aclose(self) -> None:
        await self._source.aclose()


@dataclasses.dataclass(frozen=True)
class PopEvent:
    """A screen pop pushed to an agent; `customer_nos` None: the ring-time pop did not run, look up."""

    agent_id: str
    call_id: str
    caller: str | None
    ringing_at: float
    customer_nos: tuple[str, ...] | None
    matched_by: str | None = None  # `StoredPop.matched_by`: a late phone match, an identification
    searching: bool = False  # `StoredPop.searching`: billing's phone search ran on when it was kept

    @property
    def prefetched(self) -> bool:
        return self.customer_nos is not None


async def ticket_updates(
    ctx: RequestContext, ticket_id: str | None, customer_id: str | None
) -> LiveStream[Ticket]:
    """The ticket as it is now, then each change; or each change to any ticket of the customer."""
    live = _live(ctx)
    renew(ctx)  # the connection may be older than the caller's current call
    if (ticket_id is None) == (customer_id is None):
        raise public_error("give exactly one of ticketId and customerId", ErrorCode.BAD_USER_INPUT)
    customer_no = customer_id.strip().upper() if customer_id is not None else None
    if customer_no is not None:
        require_customer(ctx, customer_no)
    channel = ticket_channel(ticket_id) if ticket_id is not None else customer_channel(str(customer_no))
    subscription, messages = await _enter(live, channel)
    try:  # subscribed first, then read: a change in between arrives as an event, never falls in a gap
        first = [await tickets.ticket(ctx, ticket_id)] if ticket_id is not None else []
    except BaseException:
        await subscription.__aexit__(None, None, None)
        raise
    last: dict[str, Ticket] = {t.ticket_id: t for t in first}

    async def step(message: Message) -> Ticket | None:
        renew(ctx)
        if customer_no is not None:
            require_customer(ctx, customer_no)  # FORBIDDEN ends the stream: the call is over
        found = await _fresh_ticket(ctx, message, last)
        if found is None or _version(last.get(found.ticket_id)) == _version(found):
            return None  # a change we cannot show, or one already shown (a duplicate delivery)
        last[found.ticket_id] = found
        return found

    return LiveStream(subscription, messages, step, first)


async def _fresh_ticket(ctx: RequestContext, message: Message, last: dict[str, Ticket]) -> Ticket | None:
    """The ticket read afresh (with `ticket(id)`'s least privilege); if the work-order system cannot
    answer, the last one seen with the message's status, else nothing."""
    ticket_id = message.get("ticketId")
    if not isinstance(ticket_id, str) or not ticket_id:
        logger.warning("dropped a ticket message without a ticketId")
        return None
    try:
        return await tickets.ticket(ctx, ticket_id)
    except GraphQLError as exc:
        if (exc.extensions or {}).get("code") == ErrorCode.FORBIDDEN:
            raise
        seen, change = last.get(ticket_id), _status_change(message)
        if seen is None or change is None:
            logger.warning("ticket %s changed but cannot be read: event dropped", ticket_id)
            return None
        return dataclasses.replace(seen, status=change[0], updated_at=change[1])


def _version(ticket: Ticket | None) -> tuple[TicketStatus, datetime] | None:
    return (ticket.status, ticket.updated_at) if ticket is not None else None


def _status_change(message: Message) -> tuple[TicketStatus, datetime] | None:
    try:
        status, at = TicketStatus(message["status"]), datetime.fromisoformat(str(message["at"]))
    except (KeyError, ValueError):
        return None
    return (status, at) if at.tzinfo is not None else None


async def screen_pops(ctx: RequestContext, agent_id: str) -> LiveStream[PopEvent]:
    """The agent's screen pops: the current call's if it rang before they subscribed, then each new one.
    Only the agent themselves, or a supervisor (`customer:read:any`), may watch an agent's pops."""
    live = _live(ctx)
    renew(ctx)
    principal = ctx.access.principal
    if not ctx.access.unrestricted and (principal is None or principal.agent_id != agent_id):
        ctx.audit.refused("screenPop", agent_id, "another agent's screen pops")
        raise public_error("not allowed: only your own screen pops", ErrorCode.FORBIDDEN)
    subscription, messages = await _enter(live, screen_pop_channel(agent_id))
    first: list[PopEvent] = []
    try:
        call = live.calls.current(agent_id)
        stored = await live.pops.get(agent_id, call.call_id) if call is not None else None
        if stored is not None and (event := _pop_event(ctx, live, stored)) is not None:
            first.append(event)
    except BaseException:
        await subscription.__aexit__(None, None, None)
        raise

    async def step(message: Message) -> PopEvent | None:
        pop = live.pops.open(message)
        return _pop_event(ctx, live, pop) if pop is not None else None

    return LiveStream(subscription, messages, step, first)


def _pop_event(ctx: RequestContext, live: Live, pop: StoredPop) -> PopEvent | None:
    # The pop's customers are the call's: bound here too, since this message may overtake the `cti` one.
    bound = CallChange(ChangeKind.BOUND, pop.agent_id, pop.call_id, pop.caller, tuple(pop.customer_nos))
    accounts = tuple(pop.snapshot.account_nos) if pop.snapshot is not None else ()
    live.calls.apply(dataclasses.replace(bound, accounts=accounts))
    current = live.calls.current(pop.agent_id)
    if current is None or current.call_id != pop.call_id:
        return None  # the call ended before its pop arrived
    renew(ctx)
    if pop.snapshot is not None:
        pop.snapshot.prime(ctx.loaders, time.time())
    nos = tuple(pop.customer_nos) if pop.snapshot is not None else None
    return PopEvent(pop.agent_id, pop.call_id, pop.caller, pop.ringing_at, nos, pop.matched_by, pop.searching)


@dataclasses.dataclass(frozen=True, slots=True)
class CallStateEvent:
    """A call at an agent's phone moved: what the softphone bar shows (no caller, no customers)."""

    agent_id: str
    call_id: str
    state: CallState


async def call_states(ctx: RequestContext, agent_id: str) -> LiveStream[CallStateEvent]:
    """The agent's call changing state (RINGING, ANSWERED, ENDED), as every process's registry reports
    it on the `cti` channel: the current call's state first, if there is one. Only the agent themselves,
    or a supervisor, may watch."""
    live = _live(ctx)
    principal = ctx.access.principal
    if not ctx.access.unrestricted and (principal is None or principal.agent_id != agent_id):
        ctx.audit.refused("callUpdated", agent_id, "another agent's calls")
        raise public_error("not allowed: only your own calls", ErrorCode.FORBIDDEN)
    subscription, messages = await _enter(live, CALL_CHANNEL)
    call = live.calls.current(agent_id)
    first = [CallStateEvent(agent_id, call.call_id, call.state)] if call is not None else []
    states = {str(state) for state in CallState}
    last: list[CallStateEvent | None] = [first[0] if first else None]

    async def step(message: Message) -> CallStateEvent | None:
        kind = message.get("kind")
        if message.get("agentId") != agent_id or kind not in states:
            return None  # another agent's, or a binding (which changes no state)
        event = CallStateEvent(agent_id, str(message.get("callId")), CallState(str(kind)))
        if event == last[0]:
            return None  # the change the first event already showed, published a moment later
        last[0] = event
        return event

    return LiveStream(subscription, messages, step, first)


async def pop_customers(ctx: RequestContext, event: PopEvent) -> list[CustomerRef]:
    """The pop's customers: from the ring-time pop, or looked up now (which binds them to the call);
    a withheld number has none of its own, but its call may have some (identified, transferred)."""
    if event.customer_nos is not None:
        return [CustomerRef(no) for no in event.customer_nos]
    if event.caller:
        return await customers.by_phone(ctx, event.caller)
    call = ctx.access.call
    if call is None or call.call_id != event.call_id:
        return []
    return [CustomerRef(no) for no in sorted(call.customers)]


def pop_match(ctx: RequestContext, event: PopEvent) -> caller_match.CallerMatch:
    """Whether the pop knows the caller: from the pop's own customers, or (a pop that looks its
    customers up) from the call as the registry has it."""
    call = ctx.access.call
    if event.customer_nos is None and call is not None and call.call_id == event.call_id:
        return caller_match.of_call(ctx, call)
    nos = event.customer_nos or ()
    return caller_match.judge(
        ctx, event.call_id, event.caller, nos, None, event.matched_by, searching=event.searching
    )


def renew(ctx: RequestContext) -> None:
    """Before an event: fresh loaders (and per-request extras), and the caller's access as the call
    registry has it now."""
    live = _live(ctx)
    principal = ctx.access.principal
    call = live.calls.current(principal.agent_id) if principal is not None else None
    ctx.loaders = Loaders(ctx.backends, live.reads)
    ctx.extras = {}
    ctx.access = Access(principal, call)
    ctx.audit.access = ctx.access
    ctx.freshness = Freshness()


async def _enter(live: Live, channel: str) -> tuple[Subscription, AsyncIterator[Message]]:
    subscription = live.bus.subscribe(channel)
    return subscription, await subscription.__aenter__()


def _live(ctx: RequestContext) -> Live:
    if ctx.live is None:  # a context built without the app's bus (a test's, a script's)
        raise public_error("live updates are not available here", ErrorCode.BAD_USER_INPUT)
    return ctx.live
