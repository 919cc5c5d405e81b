"""ArcGIS `applyEdits` on the outage layer: how a dispatcher's tool (here, Tidegate) publishes a 停水
polygon and later closes it.

`POST .../FeatureServer/4/applyEdits` with form fields `adds` and `updates` (JSON arrays of esriJSON
features) answers `{"addResults": [...], "updateResults": [...], "deleteResults": []}`, one result
per feature, `{"objectId": n, "success": true}` or `{"success": false, "error": {code, description}}`,
as ArcGIS Server does: a bad feature fails alone, the others are applied. Only layer 4 (Outages)
takes edits; the network layers are the GIS department's, read-only here.

`OUTAGE_ID` is unique, as a geodatabase unique index makes it: an add under an id already on the
layer fails with code 1019 and the existing feature's object id in the description, so a publisher
that lost its first answer (or raced another) finds the feature instead of drawing a second one.
"""

from __future__ import annotations

from typing import Any

import orjson

from simulators.gis import geometry
from simulators.gis.errors import GisError, bad_param
from simulators.gis.layers import Feature, Layer, clockwise
from simulators.gis.schema import DATE, INTEGER, OID, OUTAGES, SMALLINT, STRING

EDITABLE = {OUTAGES.id}
EDITS_MAX = 100  # features per applyEdits call
DUPLICATE = 1019  # unique index violated
INVALID = 1000


class FeatureRefused(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _features(params: dict[str, str], name: str) -> list[dict[str, Any]]:
    raw = params.get(name)
    if raw is None or not raw.strip():
        return []
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_param(name, "not JSON") from None
    if not isinstance(value, list) or not all(isinstance(f, dict) for f in value):
        raise bad_param(name, "expected an array of features")
    if len(value) > EDITS_MAX:
        raise bad_param(name, f"at most {EDITS_MAX} features per call")
    return value


def _attributes(layer: Layer, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise FeatureRefused(INVALID, "attributes missing")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        field = layer.schema.field(str(name))
        if field is None:
            raise FeatureRefused(INVALID, f"Field '{name}' does not exist")
        if value is not None:
            if field.type == STRING:
                if not isinstance(value, str) or (field.length is not None and len(value) > field.length):
                    raise FeatureRefused(INVALID, f"'{field.name}': text of at most {field.length}")
            elif field.type in (OID, INTEGER, SMALLINT, DATE):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise FeatureRefused(INVALID, f"'{field.name}': an integer")
                if field.domain is not None and value not in field.domain.codes:
                    raise FeatureRefused(INVALID, f"'{field.name}': {value} is not in {field.domain.name}")
        out[field.name] = value
    return out


def _ring(raw: Any) -> tuple[tuple[float, float], ...]:
    rings = raw.get("rings") if isinstance(raw, dict) else None
    if not isinstance(rings, list) or len(rings) != 1 or not isinstance(rings[0], list):
        raise FeatureRefused(INVALID, "geometry: one polygon ring expected")
    points = []
    for p in rings[0]:
        if (
            not isinstance(p, list)
            or len(p) < 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in p[:2])
        ):
            raise FeatureRefused(INVALID, "geometry: a ring is [[x, y], ...]")
        points.append((float(p[0]), float(p[1])))
    if len(set(points)) < 3:
        raise FeatureRefused(INVALID, "geometry: a ring needs three distinct vertices")
    return tuple(points)


def _feature(oid: int, attrs: dict[str, Any], ring: tuple[tuple[float, float], ...]) -> Feature:
    cw = clockwise(ring if ring[0] == ring[-1] else (*ring, ring[0]))
    return Feature(oid, attrs, geometry.polygon([cw]), {"rings": [[[x, y] for x, y in cw]]})


def _add(layer: Layer, raw: dict[str, Any]) -> int:
    attrs = _attributes(layer, raw.get("attributes"))
    ring = _ring(raw.get("geometry"))
    key = attrs.get("OUTAGE_ID")
    if not isinstance(key, str) or not key:
        raise FeatureRefused(INVALID, "'OUTAGE_ID' is required")
    for f in layer.features.values():
        if f.attrs["OUTAGE_ID"] == key:
            raise FeatureRefused(DUPLICATE, f"Unique constraint violated: OUTAGE_ID {key} (objectId {f.oid})")
    oid = max(layer.features, default=0) + 1
    blank = {field.name: None for field in layer.schema.fields}
    layer.features[oid] = _feature(oid, {**blank, **attrs, "OBJECTID": oid}, ring)
    return oid


def _update(layer: Layer, raw: dict[str, Any]) -> int:
    attrs = _attributes(layer, raw.get("attributes"))
    oid = attrs.get("OBJECTID")
    found = layer.features.get(oid) if isinstance(oid, int) else None
    if found is None:
        raise FeatureRefused(INVALID, f"objectId {oid} not found")
    if "OUTAGE_ID" in attrs and attrs["OUTAGE_ID"] != found.attrs["OUTAGE_ID"]:
        raise FeatureRefused(INVALID, "'OUTAGE_ID' cannot change")
    merged = {**found.attrs, **attrs}
    if raw.get("geometry") is not None:
        layer.features[found.oid] = _feature(found.oid, merged, _ring(raw["geometry"]))
    else:
        found.attrs = merged
    return found.oid


def apply_edits(layer: Layer, params: dict[str, str]) -> dict[str, Any]:
    """Adds, then updates, each feature on its own (ArcGIS's `rollbackOnFailure=false`)."""
    if layer.schema.id not in EDITABLE:
        raise GisError(["Requested operation is not supported by this service"], code=400)
    if params.get("deletes", "").strip():
        raise GisError(["Deletes are not supported on this layer: close an outage by its STATUS"], code=400)
    adds, updates = _features(params, "adds"), _features(params, "updates")
    add_results: list[dict[str, Any]] = []
    update_results: list[dict[str, Any]] = []
    for step, items, results in ((_add, adds, add_results), (_update, updates, update_results)):
        for raw in items:
            try:
                results.append({"objectId": step(layer, raw), "success": True})
            except FeatureRefused as exc:
                results.append(
                    {
                        "objectId": -1,
                        "success": False,
                        "error": {"code": exc.code, "description": exc.description},
                    }
                )
    if adds or updates:
        layer.reindex()
    return {"addResults": add_results, "updateResults": update_results, "deleteResults": []}
