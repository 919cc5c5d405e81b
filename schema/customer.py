"""Customer and Interaction: who is calling and what they called about before."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.enums import (
    CustomerKind,
    InteractionChannel,
    InteractionOutcome,
    InteractionType,
    TicketStatus,
)
from domain.records import Interaction as InteractionRecord
from schema.directives import CUSTOMER_DATA, NETWORK_DATA, TICKET_DATA, MaskKind, key, mask
from schema.info import Info
from services import customers, entities
from services.customers import CustomerRef

if TYPE_CHECKING:
    from schema.account import Account
    from schema.network import Outage
    from schema.ticket import Ticket


@strawberry.type(
    description="A contact in the CRM, with what the other systems know about them.",
    directives=[CUSTOMER_DATA, key("id")],
)
class Customer:
    ref: strawberry.Private[CustomerRef]

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Customer:
        """A router's `_entities`: the same access check and loader as `customer(id)`."""
        return cls(ref=await entities.customer(info.context, str(id)))

    async def owner_customer_no(self, info: Info) -> str | None:
        return self.ref.customer_no

    @strawberry.field(description="The utility's customer number, e.g. KH00000001.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.ref.customer_no)

    @strawberry.field(directives=[mask(MaskKind.NAME)])
    async def name(self, info: Info) -> str:
        return (await customers.profile(info.context, self.ref)).name

    @strawberry.field
    async def kind(self, info: Info) -> CustomerKind:
        return (await customers.profile(info.context, self.ref)).kind

    @strawberry.field(description="The first mobile number on record.", directives=[mask(MaskKind.MOBILE)])
    async def mobile(self, info: Info) -> str | None:
        found = (await customers.profile(info.context, self.ref)).mobiles
        return found[0] if found else None

    @strawberry.field(
        description="The first landline on record, with its area code.", directives=[mask(MaskKind.LANDLINE)]
    )
    async def landline(self, info: Info) -> str | None:
        found = (await customers.profile(info.context, self.ref)).landlines
        return found[0] if found else None

    @strawberry.field(
        description="Every phone number on record, national format.", directives=[mask(MaskKind.PHONE)]
    )
    async def phones(self, info: Info) -> list[str]:
        customer = await customers.profile(info.context, self.ref)
        return [*customer.mobiles, *customer.landlines]

    @strawberry.field(
        description="ID card number, as billing holds it on the customer's accounts.",
        directives=[mask(MaskKind.ID_CARD)],
    )
    async def id_card(self, info: Info) -> str | None:
        owned = await customers.accounts(info.context, self.ref)
        return next((a.id_card for a in owned if a.id_card), None)

    @strawberry.field
    async def vip(self, info: Info) -> bool:
        return (await customers.profile(info.context, self.ref)).vip

    @strawberry.field
    async def tags(self, info: Info) -> list[str]:
        return list((await customers.profile(info.context, self.ref)).tags)

    @strawberry.field(description="Customer since.")
    async def since(self, info: Info) -> datetime | None:
        return (await customers.profile(info.context, self.ref)).since

    @strawberry.field
    async def accounts(
        self, info: Info
    ) -> list[Annotated[Account, strawberry.lazy("schema.account")]] | None:
        from schema.account import Account

        # Refs, not records: each account's fields (and its meter, bills) load concurrently.
        customer = await customers.profile(info.context, self.ref)
        return [Account(account_no=n) for n in customer.account_nos]

    @strawberry.field(description="The latest contacts with the utility, newest first (at most 50).")
    async def interactions(self, info: Info, last: int = 5) -> list[Interaction] | None:
        found = await customers.interactions(info.context, self.ref, last)
        return [Interaction.of(i, self.ref.customer_no) for i in found]

    @strawberry.field(description="Repair tickets, newest first (at most 50).", directives=[TICKET_DATA])
    async def tickets(
        self, info: Info, first: int = 10, status: list[TicketStatus] | None = None, open_only: bool = False
    ) -> list[Annotated[Ticket, strawberry.lazy("schema.ticket")]] | None:
        from schema.ticket import Ticket

        found = await customers.tickets(info.context, self.ref, first, status, open_only)
        return [Ticket(record=t) for t in found]

    @strawberry.field(
        description="Active outages whose area holds one of the customer's service connections.",
        directives=[NETWORK_DATA],
    )
    async def active_outages(
        self, info: Info
    ) -> list[Annotated[Outage, strawberry.lazy("schema.network")]] | None:
        from schema.network import Outage

        return [Outage(record=o) for o in await customers.active_outages(info.context, self.ref, info.path)]


@strawberry.type(description="One contact with the utility: a call, a chat, a counter visit, a note.")
class Interaction:
    record: strawberry.Private[InteractionRecord]
    customer_no: strawberry.Private[str]

    @classmethod
    def of(cls, record: InteractionRecord, customer_no: str) -> Interaction:
        """`customer_no`: whose contact history it is (the CRM's record does not say)."""
        return cls(record=record, customer_no=customer_no)

    async def owner_customer_no(self, info: Info) -> str | None:
        return self.customer_no

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.interaction_id)

    @strawberry.field
    def at(self) -> datetime:
        return self.record.at

    @strawberry.field
    def channel(self) -> InteractionChannel:
        return self.record.channel

    @strawberry.field
    def type(self) -> InteractionType:
        return self.record.kind

    @strawberry.field
    def outcome(self) -> InteractionOutcome:
        return self.record.outcome

    @strawberry.field
    def agent_id(self) -> str | None:
        return self.record.agent_id

    @strawberry.field(
        description="What was said, as written; phone, ID and card numbers in it masked.",
        directives=[mask(MaskKind.FREE_TEXT)],
    )
    def summary(self) -> str:
        return self.record.summary

    @strawberry.field
    def duration_seconds(self) -> int:
        return self.record.duration_s

    @strawberry.field
    def account_no(self) -> str | None:
        return self.record.account_no
