"""The seven layers, rendered from the seeded world the GIS way, with the indexes a query needs.

GIS keys differ from billing's: `ACCT_NO` is stored as text without the leading zeros
("10000042" for billing's "0010000042"), as it was once loaded through a numeric column.
Dates are epoch milliseconds UTC; date-only values are local (China Standard Time) midnights.
Polygon rings are clockwise, the esriJSON convention for exterior rings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import pairwise
from typing import Any

from simulators.gis import geometry
from simulators.gis.geometry import BBox, GridIndex, LonLat, Shape
from simulators.gis.schema import (
    DATA_TZ,
    GRIDS,
    OUTAGES,
    PRESSURE_ZONES,
    SERVICE_CONNECTIONS,
    SOURCES,
    VALVES,
    WATER_MAINS,
    LayerSchema,
)
from simulators.world import World


@dataclass(slots=True)
class Feature:
    oid: int
    attrs: dict[str, Any]
    shape: Shape
    geometry: dict[str, Any]  # esriJSON in the layer's own SR


class Layer:
    def __init__(self, schema: LayerSchema, features: list[Feature]) -> None:
        self.schema = schema
        self.features = {f.oid: f for f in features}
        self.oids = sorted(self.features)
        self.spatial = GridIndex([(f.oid, f.shape.bbox) for f in features])
        self._by_value: dict[str, dict[Any, list[int]]] = {}
        boxes = [f.shape.bbox for f in features] or [(0.0, 0.0, 0.0, 0.0)]
        self.extent: BBox = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )

    def reindex(self) -> None:
        """After an edit (`edits.py`): object-id order, the spatial index and the keyed lookups anew."""
        self.oids = sorted(self.features)
        self.spatial = GridIndex([(f.oid, f.shape.bbox) for f in self.features.values()])
        self._by_value.clear()

    def keyed(self, field: str, values: Iterable[Any]) -> set[int]:
        """Object ids whose `field` equals one of `values`; the per-field index is built on first use."""
        index = self._by_value.get(field)
        if index is None:
            built: dict[Any, list[int]] = defaultdict(list)
            for oid in self.oids:
                built[self.features[oid].attrs[field]].append(oid)
            index = self._by_value[field] = dict(built)
        return {oid for v in values for oid in index.get(v, ())}


def local_midnight_ms(day: date) -> int:
    return int(datetime.combine(day, time(), DATA_TZ).timestamp() * 1000)


def clockwise(ring: tuple[LonLat, ...]) -> list[LonLat]:
    area2 = sum(a[0] * b[1] - b[0] * a[1] for a, b in pairwise(ring))
    return list(reversed(ring)) if area2 > 0 else list(ring)


def _xy(p: LonLat) -> list[float]:
    return [p[0], p[1]]


def _point(oid: int, attrs: dict[str, Any], p: LonLat) -> Feature:
    return Feature(oid, attrs, geometry.point(p), {"x": p[0], "y": p[1]})


def _polygon(oid: int, attrs: dict[str, Any], ring: tuple[LonLat, ...]) -> Feature:
    cw = clockwise(ring)
    return Feature(oid, attrs, geometry.polygon([cw]), {"rings": [[_xy(p) for p in cw]]})


def water_mains(world: World) -> Layer:
    out = []
    for m in world.network.mains:
        attrs = {
            "OBJECTID": m.main_id,
            "ASSET_NO": m.asset_no,
            "ROAD_NAME": m.road.name,
            "MATERIAL": m.material,
            "DIAMETER": m.diameter_mm,
            "INSTALL_DATE": local_midnight_ms(m.install_date),
            "PRESSURE_ZONE": m.pressure_zone,
            "DMA": m.dma,
            "STATUS": m.status,
            "LENGTH_M": m.length_m,
            "FROM_NODE": m.from_node,
            "TO_NODE": m.to_node,
            "MAIN_TYPE": m.main_type,
        }
        path = list(m.path)
        out.append(Feature(m.main_id, attrs, geometry.polyline([path]), {"paths": [[_xy(p) for p in path]]}))
    return Layer(WATER_MAINS, out)


def valves(world: World) -> Layer:
    dn = {m.main_id: m.diameter_mm for m in world.network.mains}
    out = []
    for v in world.network.valves:
        attrs = {
            "OBJECTID": v.valve_id,
            "ASSET_NO": v.asset_no,
            "VALVE_TYPE": v.valve_type,
            "DIAMETER": dn[v.main_id],
            "MAIN_ID": v.main_id,
            "NORMAL_POS": int(v.normally_open),
            "CURRENT_POS": int(v.currently_open),
            "OPERABLE": int(v.operable),
            "PROT_NODE": v.node,
            "BOUNDARY": v.boundary,
        }
        out.append(_point(v.valve_id, attrs, v.location))
    return Layer(VALVES, out)


def service_connections(world: World) -> Layer:
    out = []
    for oid, a in enumerate(world.accounts, start=1):
        attrs = {
            "OBJECTID": oid,
            "ACCT_NO": a.account_no.lstrip("0") or "0",
            "MAIN_ID": a.main_id,
            "GRID_CODE": a.grid_code,
            "DN": a.meter_size_mm,
            "INSTALL_DATE": local_midnight_ms(a.opened),
        }
        out.append(_point(oid, attrs, a.service_point))
    return Layer(SERVICE_CONNECTIONS, out)


def grids(world: World) -> Layer:
    out = []
    for oid, g in enumerate(world.grids, start=1):
        attrs = {
            "OBJECTID": oid,
            "GRID_CODE": g.code,
            "GRID_NAME": g.name,
            "WORKER_ID": g.worker.worker_id,
            "WORKER_NAME": g.worker.name,
            "WORKER_MOBILE": g.worker.mobile,
        }
        out.append(_polygon(oid, attrs, g.ring))
    return Layer(GRIDS, out)


def outages(world: World) -> Layer:
    out = []
    for oid, o in enumerate(world.outages, start=1):
        attrs = {
            "OBJECTID": oid,
            "OUTAGE_ID": o.outage_id,
            "OUTAGE_TYPE": o.kind,
            "STATUS": o.status,
            "REASON": o.reason,
            "START_TIME": o.start * 1000,
            "EST_RESTORE": o.est_restore * 1000,
            "MAIN_IDS": ",".join(str(i) for i in o.main_ids),
            "AFFECTED_CNT": o.affected_accounts,
            "VALVE_IDS": ",".join(str(i) for i in o.valve_ids),
        }
        out.append(_polygon(oid, attrs, o.ring))
    return Layer(OUTAGES, out)


def sources(world: World) -> Layer:
    out = []
    for s in world.network.sources:
        attrs = {
            "OBJECTID": s.source_id,
            "ASSET_NO": s.asset_no,
            "NAME": s.name,
            "SOURCE_TYPE": s.kind,
            "NODE_ID": s.node,
            "MAIN_IDS": ",".join(str(i) for i in s.main_ids),
            "PRESSURE_ZONE": s.pressure_zone,
            "CAPACITY": s.capacity_m3d,
        }
        out.append(_point(s.source_id, attrs, s.location))
    return Layer(SOURCES, out)


def pressure_zones(world: World) -> Layer:
    out = []
    for oid, z in enumerate(world.network.zones, start=1):
        attrs = {
            "OBJECTID": oid,
            "ZONE_CODE": z.code,
            "ZONE_NAME": z.name,
            "SOURCE_IDS": ",".join(str(i) for i in z.source_ids),
        }
        out.append(_polygon(oid, attrs, z.ring))
    return Layer(PRESSURE_ZONES, out)


def build_layers(world: World) -> dict[int, Layer]:
    built = [
        water_mains(world),
        valves(world),
        service_connections(world),
        grids(world),
        outages(world),
        sources(world),
        pressure_zones(world),
    ]
    for layer in built:  # warm the keyed lookups a BFF batches on
        for name in ("OBJECTID", "ACCT_NO", "MAIN_ID", "GRID_CODE", "OUTAGE_ID", "STATUS"):
            if layer.schema.field(name) is not None:
                layer.keyed(name, ())
    return {layer.schema.id: layer for layer in built}
