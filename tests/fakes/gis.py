"""An in-memory GIS behind `GisPort`: the geometry questions answered with `domain.geo`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.enums import OutageStatus
from domain.geo import GeoPoint, in_rings, metres_to_path
from domain.records import Grid, Outage, PipeSegment, ServiceConnection
from tests.fakes.calls import CallLog, check_batch

Rings = tuple[tuple[GeoPoint, ...], ...]


@dataclass
class InMemoryGis:
    """Connections keyed by account number, mains, outage notices, and each grid with its area."""

    connections: dict[str, ServiceConnection] = field(default_factory=dict)
    mains: list[PipeSegment] = field(default_factory=list)
    notices: list[Outage] = field(default_factory=list)
    grid_areas: list[tuple[Grid, Rings]] = field(default_factory=list)
    log: CallLog = field(default_factory=CallLog)
    MAX_BATCH: int = 100

    async def service_connections(self, account_nos: Sequence[str]) -> dict[str, ServiceConnection]:
        self.log.record("service_connections")
        check_batch(account_nos, self.MAX_BATCH, "service_connections")
        return {n: self.connections[n] for n in account_nos if n in self.connections}

    async def segments_by_object_id(self, object_ids: Sequence[int]) -> dict[int, PipeSegment]:
        self.log.record("segments_by_object_id")
        check_batch(object_ids, self.MAX_BATCH, "segments_by_object_id")
        return {s.object_id: s for s in self.mains if s.object_id in set(object_ids)}

    async def segments(self, segment_ids: Sequence[str]) -> dict[str, PipeSegment]:
        self.log.record("segments")
        check_batch(segment_ids, self.MAX_BATCH, "segments")
        return {s.segment_id: s for s in self.mains if s.segment_id in set(segment_ids)}

    async def segments_near(self, point: GeoPoint, radius_m: int) -> list[PipeSegment]:
        self.log.record("segments_near")
        if isinstance(radius_m, bool) or not isinstance(radius_m, int) or radius_m < 0:
            raise ValueError(f"radius_m must be a non-negative int, got {radius_m!r}")
        near = [s for s in self.mains if metres_to_path(point, s.path) <= radius_m]
        return sorted(near, key=lambda s: (metres_to_path(point, s.path), s.object_id))

    async def outages(self, active: bool | None = None) -> list[Outage]:
        self.log.record("outages")
        return [o for o in self.notices if active is None or (o.status is OutageStatus.ACTIVE) == active]

    async def grid_at(self, point: GeoPoint) -> Grid | None:
        self.log.record("grid_at")
        return next((grid for grid, area in self.grid_areas if in_rings(point, area)), None)
