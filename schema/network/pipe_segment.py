"""PipeSegment: a water main, filled from the GIS record by field name, and what lies on it."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import records
from domain.enums import PipeMaterial, PipeStatus
from schema import refs
from schema.directives import NETWORK_DATA, TICKET_DATA, key
from schema.from_record import from_record, record_field
from schema.info import Info
from schema.scalars import GeoPoint
from schema.tickets.redacted import RedactedTicket
from services import entities, network

if TYPE_CHECKING:
    from schema.network.outage import Outage
    from schema.tickets.ticket import Ticket


@strawberry.type(
    description="A water main between two junctions (管段).", directives=[NETWORK_DATA, key("id")]
)
class PipeSegment:
    record: strawberry.Private[records.PipeSegment]
    id: strawberry.ID = record_field(source="segment_id", description="Asset number, e.g. GS-000205.")
    road_name: str | None
    material: PipeMaterial
    diameter_mm: int | None
    installed_on: date | None
    pressure_zone: str | None
    dma: str | None
    status: PipeStatus
    length_m: float | None
    path: list[GeoPoint]

    @classmethod
    def of(cls, record: records.PipeSegment) -> PipeSegment:
        return from_record(cls, record, record=record)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> PipeSegment:
        """A router's `_entities`: batched into one GIS query with the other segments."""
        return cls.of(await entities.pipe_segment(info.context, str(id), info.path))

    @strawberry.field(description="Outages (any status) that isolate this main.")
    async def outages(
        self, info: Info
    ) -> list[Annotated[Outage, strawberry.lazy("schema.network.outage")]] | None:
        return [refs.outage(o) for o in await network.outages_on(info.context, self.record, info.path)]

    @strawberry.field(
        description="Open tickets on this main (within 60 m; at most 50) that you may read: an agent, "
        "only their caller's; the others are in `withheldOpenTickets`.",
        directives=[TICKET_DATA],
    )
    async def open_tickets(
        self, info: Info
    ) -> list[Annotated[Ticket, strawberry.lazy("schema.tickets.ticket")]] | None:
        seen = await network.open_tickets_on(info.context, self.record)
        return [refs.ticket(t) for t in seen.shown]

    @strawberry.field(
        description='How many open tickets lie on this main, yours or not: "3 open repairs on this main".',
        directives=[TICKET_DATA],
    )
    async def open_ticket_count(self, info: Info) -> int | None:
        return (await network.open_tickets_on(info.context, self.record)).total

    @strawberry.field(
        description="The open tickets on this main you may not read, as stubs: what kind of work and "
        "how far along, never whose, where or by whom.",
        directives=[TICKET_DATA],
    )
    async def withheld_open_tickets(self, info: Info) -> list[RedactedTicket] | None:
        seen = await network.open_tickets_on(info.context, self.record)
        return [RedactedTicket.of(t) for t in seen.withheld]


refs.pipe_segment.register(PipeSegment.of)
