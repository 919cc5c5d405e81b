"""Ticket: a repair ticket, filled from the work-order record by field name, and what it points at."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import records
from domain.enums import TicketCategory, TicketPriority, TicketStatus
from schema import refs
from schema.directives import CUSTOMER_DATA, NETWORK_DATA, TICKET_DATA, MaskKind, key, mask
from schema.from_record import from_record, record_field
from schema.info import Info
from schema.scalars import GeoPoint
from schema.tickets.parts import FieldWorker, TicketEvent, TicketLiveStatus
from services import entities, network, tickets

if TYPE_CHECKING:
    from schema.accounts.account import Account
    from schema.customers.customer import Customer
    from schema.network.pipe_segment import PipeSegment


@strawberry.type(
    description="A repair ticket (工单) in the work-order system.", directives=[TICKET_DATA, key("id")]
)
class Ticket:
    record: strawberry.Private[records.Ticket]

    @classmethod
    def of(cls, record: records.Ticket) -> Ticket:
        # The events' free text is masked for the ticket's customer, so each event knows whose it is.
        history = [from_record(TicketEvent, e, owner=record.customer_no) for e in record.history]
        return from_record(cls, record, record=record, history=history)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Ticket:
        """A router's `_entities`: an agent gets only their caller's tickets, as with `ticket(id)`."""
        return cls.of(await entities.ticket(info.context, str(id)))

    def owner_customer_no(self, info: Info) -> str | None:
        return self.record.customer_no

    async def _live_status(self, info: Info) -> TicketLiveStatus | None:
        found = await tickets.live_status(info.context, self.record.ticket_id)
        return from_record(TicketLiveStatus, found) if found is not None else None

    id: strawberry.ID = record_field(source="ticket_id")
    category: TicketCategory
    priority: TicketPriority
    status: TicketStatus
    description: str = strawberry.field(
        description="What is wrong, as reported; phone, ID and card numbers in it masked.",
        directives=[mask(MaskKind.FREE_TEXT)],
    )
    address: str | None = strawberry.field(directives=[mask(MaskKind.ADDRESS)])
    location: GeoPoint | None
    grid_code: str | None
    client_ref: str | None
    parent_id: strawberry.ID | None = strawberry.field(
        description="The master order this is a child task of (an outage's valve closure), if any."
    )
    created_at: datetime
    updated_at: datetime
    history: list[TicketEvent] = strawberry.field(description="Status changes, oldest first.")
    # Declared in the schema's field order: a resolver given here, not a decorated method (Strawberry
    # would put that after every declared field).
    live_status: TicketLiveStatus | None = strawberry.field(
        resolver=_live_status,
        description="The newest status change the work-order system pushed (null: none kept), from "
        "Tidegate's own store: no call to the work-order system; it trails `status` by the delivery delay.",
    )
    assignee: FieldWorker | None

    @strawberry.field(directives=[CUSTOMER_DATA])
    def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("schema.customers.customer")] | None:
        no = self.record.customer_no
        return refs.readable_customer(info, no) if no else None

    @strawberry.field(directives=[CUSTOMER_DATA])
    def account(self, info: Info) -> Annotated[Account, strawberry.lazy("schema.accounts.account")] | None:
        no = self.record.account_no
        return refs.readable_account(info, no) if no else None

    @strawberry.field(
        description="The main nearest the ticket's location (within 100 m).", directives=[NETWORK_DATA]
    )
    async def pipe_segment(
        self, info: Info
    ) -> Annotated[PipeSegment, strawberry.lazy("schema.network.pipe_segment")] | None:
        if self.record.location is None:
            return None
        found = await network.nearest_segment(info.context, self.record.location)
        return refs.pipe_segment(found) if found else None


refs.ticket.register(Ticket.of)
