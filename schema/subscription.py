"""The root Subscription (graphql-transport-ws on /graphql): live tickets and the ring-time screen pop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import strawberry

from domain.timestamps import SHANGHAI
from schema.customer import Customer
from schema.directives import CUSTOMER_DATA, TICKET_DATA, MaskKind, mask
from schema.info import Info
from schema.ticket import Ticket
from services import subscriptions
from services.subscriptions import PopEvent


@strawberry.type(
    description="A call ringing at an agent's phone, and who is calling: pushed before they answer."
)
class ScreenPop:
    event: strawberry.Private[PopEvent]

    async def owner_customer_no(self, info: Info) -> str | None:
        """The caller's number is theirs only when it matched exactly one customer (else it stays masked)."""
        nos = self.event.customer_nos
        return nos[0] if nos is not None and len(nos) == 1 else None

    @strawberry.field
    def call_id(self) -> strawberry.ID:
        return strawberry.ID(self.event.call_id)

    @strawberry.field
    def agent_id(self) -> strawberry.ID:
        return strawberry.ID(self.event.agent_id)

    @strawberry.field(description="The calling number as the CTI gave it.", directives=[mask(MaskKind.PHONE)])
    def caller(self) -> str | None:
        return self.event.caller

    @strawberry.field(description="When the CTI reported the call ringing.")
    def ringing_at(self) -> datetime:
        return datetime.fromtimestamp(self.event.ringing_at, UTC).astimezone(SHANGHAI)

    @strawberry.field(
        description="True: served from the screen pop Tidegate ran when the phone rang (no back office "
        "asked now); false: looked up for this event."
    )
    def prefetched(self) -> bool:
        return self.event.prefetched

    @strawberry.field(
        description="The customers on the calling number, as `customerByPhone` returns them.",
        directives=[CUSTOMER_DATA],
    )
    async def customers(self, info: Info) -> list[Customer] | None:
        return [Customer(ref=r) for r in await subscriptions.pop_customers(info.context, self.event)]


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
        return stream.map(lambda record: Ticket(record=record))

    @strawberry.subscription(
        description="The agent's screen pops, pushed when their phone rings (first: the current call's, "
        "if it is ringing). Agents may watch only their own; supervisors any agent's.",
        directives=[CUSTOMER_DATA],
    )
    async def screen_pop(self, info: Info, agent_id: strawberry.ID) -> AsyncIterator[ScreenPop]:
        stream = await subscriptions.screen_pops(info.context, str(agent_id))
        return stream.map(lambda event: ScreenPop(event=event))
