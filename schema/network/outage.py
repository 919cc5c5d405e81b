"""Outage: who the network leaves without water, filled from the GIS record by field name."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import records
from domain.enums import OutageKind, OutageStatus
from schema import refs
from schema.directives import NETWORK_DATA
from schema.from_record import from_record, record_field
from schema.info import Info
from schema.scalars import GeoPoint
from services import network

if TYPE_CHECKING:
    from schema.network.pipe_segment import PipeSegment


@strawberry.type(
    description="A water outage (停水): planned works or an emergency repair.", directives=[NETWORK_DATA]
)
class Outage:
    record: strawberry.Private[records.Outage]
    id: strawberry.ID = record_field(source="outage_id")
    kind: OutageKind
    status: OutageStatus
    reason: str | None
    starts_at: datetime | None
    estimated_restore_at: datetime | None
    affected_accounts: int | None
    area: list[list[GeoPoint]] = strawberry.field(description="The outage area's rings.")

    @classmethod
    def of(cls, record: records.Outage) -> Outage:
        return from_record(cls, record, record=record)

    @strawberry.field(description="The mains the outage isolates.")
    async def pipe_segments(
        self, info: Info
    ) -> list[Annotated[PipeSegment, strawberry.lazy("schema.network.pipe_segment")]] | None:
        found = await network.segments_by_object_id(
            info.context, list(self.record.main_object_ids), info.path
        )
        return [refs.pipe_segment(s) for s in found]


refs.outage.register(Outage.of)
