"""Customer: who is calling, and what the other systems know about them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import records
from domain.enums import CustomerKind, TicketStatus
from schema import refs
from schema.customers.interaction import Interaction
from schema.directives import CUSTOMER_DATA, NETWORK_DATA, TICKET_DATA, MaskKind, key, mask
from schema.from_record import loaded_field
from schema.info import Info
from services import customers, entities
from services.customers import CustomerRef

if TYPE_CHECKING:
    from schema.accounts.account import Account
    from schema.network.outage import Outage
    from schema.network.outage_impact import OutageImpact
    from schema.tickets.ticket import Ticket


def _first_mobile(customer: records.Customer) -> str | None:
    return customer.mobiles[0] if customer.mobiles else None


def _first_landline(customer: records.Customer) -> str | None:
    return customer.landlines[0] if customer.landlines else None


def _every_phone(customer: records.Customer) -> list[str]:
    return [*customer.mobiles, *customer.landlines]


@strawberry.type(
    description="A contact in the CRM, with what the other systems know about them.",
    directives=[CUSTOMER_DATA, key("id")],
)
class Customer:
    ref: strawberry.Private[CustomerRef]
    # The profile, once this object (made for one request, after its access check) has loaded it.
    _record: strawberry.Private[records.Customer | None] = None

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Customer:
        """A router's `_entities`: the same access check and loader as `customer(id)`."""
        return cls(ref=await entities.customer(info.context, str(id)))

    def owner_customer_no(self, info: Info) -> str | None:
        return self.ref.customer_no

    async def load_record(self, info: Info) -> records.Customer:
        record = self._record
        if record is None:
            record = self._record = await customers.profile(info.context, self.ref)
        return record

    def _id(self) -> strawberry.ID:
        return strawberry.ID(self.ref.customer_no)

    async def _id_card(self, info: Info) -> str | None:
        owned = await customers.accounts(info.context, self.ref)
        return next((a.id_card for a in owned if a.id_card), None)

    # Declared in the schema's field order: resolvers given here, not decorated methods (Strawberry
    # would put those after every declared field).
    id: strawberry.ID = strawberry.field(
        resolver=_id, description="The utility's customer number, e.g. KH00000001."
    )
    name: str | None = loaded_field(directives=[mask(MaskKind.NAME)])
    kind: CustomerKind | None = loaded_field()
    mobile: str | None = loaded_field(
        compute=_first_mobile,
        description="The first mobile number on record.",
        directives=[mask(MaskKind.MOBILE)],
    )
    landline: str | None = loaded_field(
        compute=_first_landline,
        description="The first landline on record, with its area code.",
        directives=[mask(MaskKind.LANDLINE)],
    )
    phones: list[str] | None = loaded_field(
        compute=_every_phone,
        description="Every phone number on record, national format.",
        directives=[mask(MaskKind.PHONE)],
    )
    id_card: str | None = strawberry.field(
        resolver=_id_card,
        description="ID card number, as billing holds it on the customer's accounts.",
        directives=[mask(MaskKind.ID_CARD)],
    )
    vip: bool | None = loaded_field()
    tags: list[str] | None = loaded_field()
    since: datetime | None = loaded_field(description="Customer since.")

    @strawberry.field
    async def accounts(
        self, info: Info
    ) -> list[Annotated[Account, strawberry.lazy("schema.accounts.account")] | None] | None:
        # Refs, not records: each account's fields (and its meter, bills) load concurrently.
        customer = await self.load_record(info)
        return refs.readable_accounts(info, customer.account_nos)

    @strawberry.field(description="The latest contacts with the utility, newest first (at most 50).")
    async def interactions(self, info: Info, last: int = 5) -> list[Interaction] | None:
        found = await customers.interactions(info.context, self.ref, last)
        return [Interaction.of(i, self.ref.customer_no) for i in found]

    @strawberry.field(description="Repair tickets, newest first (at most 50).", directives=[TICKET_DATA])
    async def tickets(
        self, info: Info, first: int = 10, status: list[TicketStatus] | None = None, open_only: bool = False
    ) -> list[Annotated[Ticket, strawberry.lazy("schema.tickets.ticket")]] | None:
        found = await customers.tickets(info.context, self.ref, first, status, open_only)
        return [refs.ticket(t) for t in found]

    @strawberry.field(
        description="Active outages whose area holds one of the customer's service connections.",
        directives=[NETWORK_DATA],
    )
    async def active_outages(
        self, info: Info
    ) -> list[Annotated[Outage, strawberry.lazy("schema.network.outage")]] | None:
        return [refs.outage(o) for o in await customers.active_outages(info.context, self.ref, info.path)]

    @strawberry.field(
        description="The active outages leaving this customer's water off, each with why: the main, "
        "shut or downstream of the closure, and the valves closed (the trace; `activeOutages` lists "
        "the same outages).",
        directives=[NETWORK_DATA],
    )
    async def outage_impacts(
        self, info: Info
    ) -> list[Annotated[OutageImpact, strawberry.lazy("schema.network.outage_impact")]] | None:
        return [
            refs.outage_impact(o) for o in await customers.outage_impacts(info.context, self.ref, info.path)
        ]


refs.customer.register(lambda ref: Customer(ref=ref))
