"""The root Subscription (graphql-transport-ws on /graphql): live tickets and the ring-time screen pop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry

from schema.customers.call_update import CallUpdate
from schema.customers.screen_pop import ScreenPop
from schema.directives import CUSTOMER_DATA, TICKET_DATA
from schema.info import Info
from schema.tickets.ticket import Ticket
from services import subscriptions


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A ticket's changes (first: the ticket as it is now), or every change to one "
        "customer's tickets. Exactly one of `ticketId`, `customerId`. Agents: tickets of their "
        "current call's customers only; the stream ends (FORBIDDEN) at its first event after the call.",
        directives=[TICKET_DATA],
    )
    async def ticket_updated(
        self, info: Info, ticket_id: strawberry.ID | None = None, customer_id: strawberry.ID | None = None
    ) -> AsyncIterator[Ticket]:
        stream = await subscriptions.ticket_updates(
            info.context,
            str(ticket_id) if ticket_id is not None else None,
            str(customer_id) if customer_id is not None else None,
        )
        return stream.map(Ticket.of)

    @strawberry.subscription(
        description="The agent's screen pops, pushed when their phone rings (first: the current call's, "
        "if it is ringing). Agents may watch only their own; supervisors any agent's.",
        directives=[CUSTOMER_DATA],
    )
    async def screen_pop(self, info: Info, agent_id: strawberry.ID) -> AsyncIterator[ScreenPop]:
        stream = await subscriptions.screen_pops(info.context, str(agent_id))
        return stream.map(ScreenPop.of)

    @strawberry.subscription(
        description="The agent's calls changing state (first: the current call's, if any), as the CTI "
        "reports them to any replica: what a softphone bar shows. Agents may watch only their own; "
        "supervisors any agent's.",
        directives=[CUSTOMER_DATA],
    )
    async def call_updated(self, info: Info, agent_id: strawberry.ID) -> AsyncIterator[CallUpdate]:
        stream = await subscriptions.call_states(info.context, str(agent_id))
        return stream.map(CallUpdate.of)
