"""The `/query` operation: read the parameters the ArcGIS way, then filter, order, page and render.

Everything is validated before any feature is touched, so a bad parameter is an esriJSON
error and never a partial answer. Paging walks a stable order (OBJECTID, or
`orderByFields` with OBJECTID breaking ties); `returnIdsOnly` and `returnCountOnly`
ignore `maxRecordCount`, as on a real server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulators.gis import geometry
from simulators.gis.errors import GisError, bad_param
from simulators.gis.geometry import Shape
from simulators.gis.layers import Layer
from simulators.gis.predicates import Where
from simulators.gis.schema import Field
from simulators.gis.spatial import MERCATOR, buffer_metres, parse_geometry, parse_sr, to_mercator
from simulators.gis.where import compile_where

Params = Mapping[str, str]
# Parameters a real server would act on but this layer does not serve (its layer info says so):
# refusing them beats silently answering features to a caller that asked for statistics.
UNSERVED = (
    "outstatistics",
    "groupbyfieldsforstatistics",
    "having",
    "returndistinctvalues",
    "returnextentonly",
    "quantizationparameters",
    "returnz",
    "returnm",
)


@dataclass(frozen=True)
class QueryPlan:
    layer: Layer
    where: Where
    object_ids: frozenset[int] | None
    shape: Shape | None
    relation: str
    buffer_m: float
    out_fields: list[Field]
    return_geometry: bool
    out_sr: int
    order_by: list[tuple[str, bool]]  # (field, descending)
    ids_only: bool
    count_only: bool
    offset: int
    limit: int

    @property
    def batch(self) -> int:
        """How many keys one request asks for: what a BFF's batching shows up as."""
        return max(len(self.object_ids or ()), self.where.width, 1)


def response_format(params: Params) -> bool:
    """`f=json` or `f=pjson` (pretty); this service renders no HTML, and ArcGIS defaults to HTML."""
    fmt = params.get("f", "").strip().lower()
    if fmt not in ("json", "pjson"):
        raise GisError(
            [f"'f' parameter is invalid: {fmt or 'html'!r} (use f=json or f=pjson)"],
            message="Invalid or missing input parameters.",
        )
    return fmt == "pjson"


def _flag(params: Params, key: str, default: bool) -> bool:
    raw = params.get(key, "").strip().lower()
    return default if not raw else raw == "true"


def _count(params: Params, key: str, name: str) -> int | None:
    raw = params.get(key, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_param(name, f"not an integer: {raw[:40]!r}") from exc
    if value < 0:
        raise bad_param(name, "must not be negative")
    return value


def _out_fields(layer: Layer, raw: str) -> list[Field]:
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names:
        return [layer.schema.fields[0]]  # no outFields: only the object id, as ArcGIS answers
    if "*" in names:
        return list(layer.schema.fields)
    out: list[Field] = []
    for name in names:
        found = layer.schema.field(name)
        if found is None:
            raise bad_param("outFields", f"unknown field {name!r} in layer {layer.schema.name}")
        if found not in out:
            out.append(found)
    return out


def _order_by(layer: Layer, raw: str) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for item in (i.strip() for i in raw.split(",")):
        if not item:
            continue
        words = item.split()
        found = layer.schema.field(words[0])
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if found is None or len(words) > 2 or direction not in ("ASC", "DESC"):
            raise bad_param("orderByFields", f"cannot order by {item[:60]!r}")
        out.append((found.name, direction == "DESC"))
    return out


def _object_ids(raw: str) -> frozenset[int] | None:
    if not raw.strip():
        return None
    try:
        return frozenset(int(v) for v in raw.split(",") if v.strip())
    except ValueError as exc:
        raise bad_param("objectIds", "expected a comma-separated list of integers") from exc


def plan_query(layer: Layer, params: Params) -> QueryPlan:
    """Every parameter checked up front; raises `GisError` naming the first bad one."""
    for key in UNSERVED:
        if params.get(key, "").strip().lower() not in ("", "false"):
            raise GisError([f"'{key}' is not supported by this layer"])
    where = compile_where(params.get("where", ""), layer.schema)
    object_ids = _object_ids(params.get("objectids", ""))
    shape: Shape | None = None
    buffer_m = 0.0
    relation = params.get("spatialrel", "").strip() or geometry.INTERSECTS
    if relation not in geometry.RELATIONS:
        raise bad_param(
            "spatialRel", f"{relation[:60]!r} is not supported here (use {', '.join(geometry.RELATIONS)})"
        )
    if params.get("geometry", "").strip():
        geometry_type = params.get("geometrytype", "").strip() or "esriGeometryEnvelope"
        shape, in_sr = parse_geometry(params["geometry"], geometry_type, params.get("insr", ""))
        buffer_m = buffer_metres(params.get("distance", ""), params.get("units", ""), in_sr)
    out_sr = parse_sr(params.get("outsr", ""), "outSR")
    offset = _count(params, "resultoffset", "resultOffset") or 0
    page = _count(params, "resultrecordcount", "resultRecordCount")
    cap = layer.schema.max_record_count
    return QueryPlan(
        layer=layer,
        where=where,
        object_ids=object_ids,
        shape=shape,
        relation=relation,
        buffer_m=buffer_m,
        out_fields=_out_fields(layer, params.get("outfields", "")),
        return_geometry=_flag(params, "returngeometry", True),
        out_sr=out_sr,
        order_by=_order_by(layer, params.get("orderbyfields", "")),
        ids_only=_flag(params, "returnidsonly", False),
        count_only=_flag(params, "returncountonly", False),
        offset=offset,
        limit=min(page, cap) if page else cap,
    )


def select(plan: QueryPlan) -> list[int]:
    """Matching object ids in response order: index lookups first, then the exact tests."""
    layer = plan.layer
    if plan.where.const is False:
        return []
    candidates: set[int] | None = None
    if plan.object_ids is not None:
        candidates = set(plan.object_ids) & layer.features.keys()
    if plan.where.hint is not None:
        keyed = layer.keyed(*plan.where.hint)
        candidates = keyed if candidates is None else candidates & keyed
    if plan.shape is not None:
        near = layer.spatial.candidates(geometry.expand(plan.shape.bbox, plan.buffer_m))
        candidates = near if candidates is None else candidates & near
    oids = sorted(candidates) if candidates is not None else list(layer.oids)
    feats = layer.features
    if plan.where.const is not True:
        oids = [o for o in oids if plan.where.matches(feats[o].attrs)]
    if plan.shape is not None:
        shape, rel, buf = plan.shape, plan.relation, plan.buffer_m
        oids = [o for o in oids if geometry.relate(rel, shape, feats[o].shape, buf)]
    for name, descending in reversed(plan.order_by):  # stable sorts: last key first
        values = {o: feats[o].attrs[name] for o in oids}
        oids.sort(key=lambda o: _sort_key(values[o]), reverse=descending)
    return oids


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is not None, value if value is not None else 0)


def spatial_reference(wkid: int) -> dict[str, int]:
    if wkid in MERCATOR:
        return {"wkid": 102100, "latestWkid": 3857}
    return {"wkid": wkid, "latestWkid": wkid}


def _project(geom: dict[str, Any], wkid: int) -> dict[str, Any]:
    if wkid not in MERCATOR:
        return geom  # 4490 and 4326 share coordinates at this precision
    if "x" in geom:
        x, y = to_mercator((geom["x"], geom["y"]))
        return {"x": x, "y": y}
    key = "paths" if "paths" in geom else "rings"
    return {key: [[list(to_mercator((p[0], p[1]))) for p in part] for part in geom[key]]}


def run_query(plan: QueryPlan) -> dict[str, Any]:
    oids = select(plan)
    if plan.count_only:
        return {"count": len(oids)}
    if plan.ids_only:
        return {"objectIdFieldName": "OBJECTID", "objectIds": oids}
    page = oids[plan.offset : plan.offset + plan.limit]
    names = [f.name for f in plan.out_fields]
    features: list[dict[str, Any]] = []
    for oid in page:
        feat = plan.layer.features[oid]
        item: dict[str, Any] = {"attributes": {n: feat.attrs[n] for n in names}}
        if plan.return_geometry:
            item["geometry"] = _project(feat.geometry, plan.out_sr)
        features.append(item)
    body: dict[str, Any] = {
        "objectIdFieldName": "OBJECTID",
        "uniqueIdField": {"name": "OBJECTID", "isSystemMaintained": True},
        "globalIdFieldName": "",
        "geometryType": plan.layer.schema.geometry_type,
        "spatialReference": spatial_reference(plan.out_sr),
        "fields": [f.as_json() for f in plan.out_fields],
        "features": features,
    }
    if plan.offset + plan.limit < len(oids):
        body["exceededTransferLimit"] = True
    return body
