"""An in-memory GIS behind `GisPort`: the geometry questions answered with `domain.geo`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from domain.drafts import OutageDraft
from domain.enums import OutageStatus
from domain.geo import GeoPoint, in_rings, metres_to_path
from domain.network import PAGE_MAX, NetworkMain, Page, Valve, WaterSource
from domain.records import Grid, Outage, PipeSegment, ServiceConnection
from infra.errors import NotFound
from tests.fakes.calls import CallLog, check_batch

T = TypeVar("T")
Rings = tuple[tuple[GeoPoint, ...], ...]


@dataclass
class InMemoryGis:
    """Connections keyed by account number, mains, outage notices, and each grid with its area."""

    connections: dict[str, ServiceConnection] = field(default_factory=dict)
    mains: list[PipeSegment] = field(default_factory=list)
    notices: list[Outage] = field(default_factory=list)
    grid_areas: list[tuple[Grid, Rings]] = field(default_factory=list)
    network: list[NetworkMain] = field(default_factory=list)
    valve_list: list[Valve] = field(default_factory=list)
    sources: list[WaterSource] = field(default_factory=list)
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

    async def outage(self, outage_id: str) -> Outage | None:
        self.log.record("outage")
        return next((o for o in self.notices if o.outage_id == outage_id), None)

    async def publish_outage(self, draft: OutageDraft) -> Outage:
        self.log.record("publish_outage")
        found = next((o for o in self.notices if o.outage_id == draft.outage_id), None)
        if found is not None:
            return found
        ring = draft.area if draft.area[0] == draft.area[-1] else (*draft.area, draft.area[0])
        notice = Outage(
            outage_id=draft.outage_id,
            kind=draft.kind,
            status=draft.status,
            reason=draft.reason,
            starts_at=draft.starts_at,
            estimated_restore_at=draft.estimated_restore_at,
            main_object_ids=draft.main_object_ids,
            area=(ring,),
            affected_accounts=draft.affected_accounts,
            valve_object_ids=draft.valve_object_ids,
        )
        self.notices.append(notice)
        return notice

    async def set_outage_status(self, outage_id: str, status: OutageStatus) -> Outage:
        self.log.record("set_outage_status")
        for i, o in enumerate(self.notices):
            if o.outage_id == outage_id:
                self.notices[i] = replace(o, status=status)
                return self.notices[i]
        raise NotFound("gis", f"no outage {outage_id!r}")

    async def network_mains(self, offset: int, limit: int) -> Page[NetworkMain]:
        self.log.record("network_mains")
        return _page(sorted(self.network, key=lambda m: m.object_id), offset, limit)

    async def valves(self, offset: int, limit: int) -> Page[Valve]:
        self.log.record("valves")
        return _page(sorted(self.valve_list, key=lambda v: v.object_id), offset, limit)

    async def service_connection_page(self, offset: int, limit: int) -> Page[ServiceConnection]:
        self.log.record("service_connection_page")
        return _page(sorted(self.connections.values(), key=lambda c: c.account_no), offset, limit)

    async def water_sources(self) -> list[WaterSource]:
        self.log.record("water_sources")
        return sorted(self.sources, key=lambda s: s.object_id)


def _page(items: list[T], offset: int, limit: int) -> Page[T]:
    for name, value, low, high in (("offset", offset, 0, 10**9), ("limit", limit, 1, PAGE_MAX)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an int from {low} to {high}, got {value!r}")
    chunk = items[offset : offset + limit]
    return Page(tuple(chunk), offset + limit if offset + limit < len(items) else None)
