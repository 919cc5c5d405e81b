"""Ticket and FieldWorker: repair work and who is doing it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import records
from domain.enums import TicketCategory, TicketPriority, TicketStatus
from schema.directives import CUSTOMER_DATA, NETWORK_DATA, TICKET_DATA, MaskKind, key, mask
from schema.info import Info
from schema.scalars import GeoPoint
from services import authorize, entities, network, tickets
from services.customers import CustomerRef

if TYPE_CHECKING:
    from schema.account import Account
    from schema.customer import Customer
    from schema.network import PipeSegment


@strawberry.type(description="A field worker (网格员) responsible for one grid.")
class FieldWorker:
    id: strawberry.ID
    name: str
    mobile: str | None = strawberry.field(
        description="Their work mobile: masked unless the caller holds staff:contact.",
        directives=[mask(MaskKind.STAFF_MOBILE)],
    )
    grid_code: str | None

    @classmethod
    def of(cls, w: records.FieldWorker) -> FieldWorker:
        return cls(id=strawberry.ID(w.worker_id), name=w.name, mobile=w.mobile, grid_code=w.grid_code)


@strawberry.type
class TicketEvent:
    status: TicketStatus
    at: datetime
    operator: str | None
    remark: str | None = strawberry.field(
        description="The operator's words; phone, ID and card numbers in them masked.",
        directives=[mask(MaskKind.FREE_TEXT)],
    )
    owner: strawberry.Private[str | None] = None

    async def owner_customer_no(self, info: Info) -> str | None:
        return self.owner


@strawberry.type(
    description="The newest status the work-order system pushed for a ticket (webhook), as Tidegate keeps it."
)
class TicketLiveStatus:
    status: TicketStatus
    changed_at: datetime = strawberry.field(description="When the work-order system made the change.")
    sequence: int = strawberry.field(description="The change's number in the ticket's history, from 1.")


@strawberry.type(
    description="A ticket you may know exists and nothing more: no id, customer, account, description, "
    "address, location or assignee."
)
class RedactedTicket:
    category: TicketCategory
    priority: TicketPriority
    status: TicketStatus
    created_at: datetime

    @classmethod
    def of(cls, stub: authorize.RedactedTicket) -> RedactedTicket:
        return cls(
            category=stub.category, priority=stub.priority, status=stub.status, created_at=stub.created_at
        )


@strawberry.type(
    description="A repair ticket (工单) in the work-order system.", directives=[TICKET_DATA, key("id")]
)
class Ticket:
    record: strawberry.Private[records.Ticket]

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Ticket:
        """A router's `_entities`: an agent gets only their caller's tickets, as with `ticket(id)`."""
        return cls(record=await entities.ticket(info.context, str(id)))

    async def owner_customer_no(self, info: Info) -> str | None:
        return self.record.customer_no

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.ticket_id)

    @strawberry.field
    def category(self) -> TicketCategory:
        return self.record.category

    @strawberry.field
    def priority(self) -> TicketPriority:
        return self.record.priority

    @strawberry.field
    def status(self) -> TicketStatus:
        return self.record.status

    @strawberry.field(
        description="What is wrong, as reported; phone, ID and card numbers in it masked.",
        directives=[mask(MaskKind.FREE_TEXT)],
    )
    def description(self) -> str:
        return self.record.description

    @strawberry.field(directives=[mask(MaskKind.ADDRESS)])
    def address(self) -> str | None:
        return self.record.address

    @strawberry.field
    def location(self) -> GeoPoint | None:
        loc = self.record.location
        return GeoPoint(lon=loc.lon, lat=loc.lat) if loc else None

    @strawberry.field
    def grid_code(self) -> str | None:
        return self.record.grid_code

    @strawberry.field
    def client_ref(self) -> str | None:
        return self.record.client_ref

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.record.updated_at

    @strawberry.field(description="Status changes, oldest first.")
    def history(self) -> list[TicketEvent]:
        return [
            TicketEvent(
                status=e.status, at=e.at, operator=e.operator, remark=e.remark, owner=self.record.customer_no
            )
            for e in self.record.history
        ]

    @strawberry.field(
        description="The newest status change the work-order system pushed (null: none kept), from "
        "Tidegate's own store: no call to the work-order system; it trails `status` by the delivery delay."
    )
    async def live_status(self, info: Info) -> TicketLiveStatus | None:
        found = await tickets.live_status(info.context, self.record.ticket_id)
        if found is None:
            return None
        return TicketLiveStatus(status=found.status, changed_at=found.changed_at, sequence=found.sequence)

    @strawberry.field
    def assignee(self) -> FieldWorker | None:
        return FieldWorker.of(self.record.assignee) if self.record.assignee else None

    @strawberry.field(directives=[CUSTOMER_DATA])
    def customer(self) -> Annotated[Customer, strawberry.lazy("schema.customer")] | None:
        from schema.customer import Customer

        return Customer(ref=CustomerRef(self.record.customer_no)) if self.record.customer_no else None

    @strawberry.field(directives=[CUSTOMER_DATA])
    def account(self) -> Annotated[Account, strawberry.lazy("schema.account")] | None:
        from schema.account import Account

        return Account(account_no=self.record.account_no) if self.record.account_no else None

    @strawberry.field(
        description="The main nearest the ticket's location (within 100 m).", directives=[NETWORK_DATA]
    )
    async def pipe_segment(
        self, info: Info
    ) -> Annotated[PipeSegment, strawberry.lazy("schema.network")] | None:
        from schema.network import PipeSegment

        if self.record.location is None:
            return None
        found = await network.nearest_segment(info.context, self.record.location)
        return PipeSegment(record=found) if found else None
