"""Ticket and FieldWorker: repair work and who is doing it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from backends.domain import records
from backends.domain.enums import TicketCategory, TicketPriority, TicketStatus
from resolvers import network
from resolvers.customers import CustomerRef
from schema.directives import CUSTOMER_DATA, NETWORK_DATA, TICKET_DATA, MaskKind, mask
from schema.info import Info
from schema.scalars import GeoPoint

if TYPE_CHECKING:
    from schema.account import Account
    from schema.customer import Customer
    from schema.network import PipeSegment


@strawberry.type(description="A field worker (网格员) responsible for one grid.")
class FieldWorker:
    id: strawberry.ID
    name: str
    mobile: str | None
    grid_code: str | None

    @classmethod
    def of(cls, w: records.FieldWorker) -> FieldWorker:
        return cls(id=strawberry.ID(w.worker_id), name=w.name, mobile=w.mobile, grid_code=w.grid_code)


@strawberry.type
class TicketEvent:
    status: TicketStatus
    at: datetime
    operator: str | None
    remark: str | None


@strawberry.type(description="A repair ticket (工单) in the work-order system.", directives=[TICKET_DATA])
class Ticket:
    record: strawberry.Private[records.Ticket]

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

    @strawberry.field
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
            TicketEvent(status=e.status, at=e.at, operator=e.operator, remark=e.remark)
            for e in self.record.history
        ]

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
