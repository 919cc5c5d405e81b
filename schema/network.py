"""PipeSegment and Outage: the network under the street and who it leaves without water."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import geo, records
from domain.enums import OutageKind, OutageStatus, PipeMaterial, PipeStatus
from schema.directives import NETWORK_DATA, TICKET_DATA, key
from schema.info import Info
from schema.scalars import GeoPoint
from services import entities, network

if TYPE_CHECKING:
    from schema.ticket import RedactedTicket, Ticket


def _point(p: geo.GeoPoint) -> GeoPoint:
    return GeoPoint(lon=p.lon, lat=p.lat)


@strawberry.type(
    description="A water main between two junctions (管段).", directives=[NETWORK_DATA, key("id")]
)
class PipeSegment:
    record: strawberry.Private[records.PipeSegment]

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> PipeSegment:
        """A router's `_entities`: batched into one GIS query with the other segments."""
        return cls(record=await entities.pipe_segment(info.context, str(id), info.path))

    @strawberry.field(description="Asset number, e.g. GS-000205.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.segment_id)

    @strawberry.field
    def road_name(self) -> str | None:
        return self.record.road_name

    @strawberry.field
    def material(self) -> PipeMaterial:
        return self.record.material

    @strawberry.field
    def diameter_mm(self) -> int | None:
        return self.record.diameter_mm

    @strawberry.field
    def installed_on(self) -> date | None:
        return self.record.installed_on

    @strawberry.field
    def pressure_zone(self) -> str | None:
        return self.record.pressure_zone

    @strawberry.field
    def dma(self) -> str | None:
        return self.record.dma

    @strawberry.field
    def status(self) -> PipeStatus:
        return self.record.status

    @strawberry.field
    def length_m(self) -> float | None:
        return self.record.length_m

    @strawberry.field
    def path(self) -> list[GeoPoint]:
        return [_point(p) for p in self.record.path]

    @strawberry.field(description="Outages (any status) that isolate this main.")
    async def outages(self, info: Info) -> list[Outage] | None:
        return [Outage(record=o) for o in await network.outages_on(info.context, self.record, info.path)]

    @strawberry.field(
        description="Open tickets on this main (within 60 m; at most 50) that you may read: an agent, "
        "only their caller's; the others are in `withheldOpenTickets`.",
        directives=[TICKET_DATA],
    )
    async def open_tickets(
        self, info: Info
    ) -> list[Annotated[Ticket, strawberry.lazy("schema.ticket")]] | None:
        from schema.ticket import Ticket

        seen = await network.open_tickets_on(info.context, self.record)
        return [Ticket(record=t) for t in seen.shown]

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
    async def withheld_open_tickets(
        self, info: Info
    ) -> list[Annotated[RedactedTicket, strawberry.lazy("schema.ticket")]] | None:
        from schema.ticket import RedactedTicket

        seen = await network.open_tickets_on(info.context, self.record)
        return [RedactedTicket.of(t) for t in seen.withheld]


@strawberry.type(
    description="A water outage (停水): planned works or an emergency repair.", directives=[NETWORK_DATA]
)
class Outage:
    record: strawberry.Private[records.Outage]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.outage_id)

    @strawberry.field
    def kind(self) -> OutageKind:
        return self.record.kind

    @strawberry.field
    def status(self) -> OutageStatus:
        return self.record.status

    @strawberry.field
    def reason(self) -> str | None:
        return self.record.reason

    @strawberry.field
    def starts_at(self) -> datetime | None:
        return self.record.starts_at

    @strawberry.field
    def estimated_restore_at(self) -> datetime | None:
        return self.record.estimated_restore_at

    @strawberry.field
    def affected_accounts(self) -> int | None:
        return self.record.affected_accounts

    @strawberry.field(description="The outage area's rings.")
    def area(self) -> list[list[GeoPoint]]:
        return [[_point(p) for p in ring] for ring in self.record.area]

    @strawberry.field(description="The mains the outage isolates.")
    async def pipe_segments(self, info: Info) -> list[PipeSegment] | None:
        found = await network.segments_by_object_id(
            info.context, list(self.record.main_object_ids), info.path
        )
        return [PipeSegment(record=s) for s in found]
