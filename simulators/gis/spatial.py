"""The query's spatial parameters: `geometry` (esriJSON or the simple comma syntax), SRs and units.

Only the spatial references a client of this service plausibly sends are served:
CGCS2000 (4490), WGS84 (4326, the same coordinates to within centimetres here)
and Web Mercator (3857/102100). A buffer `distance` without `units` is in the
units of the input SR, degrees for 4490, as on a real server.
"""

from __future__ import annotations

import json
import math
from typing import Any

from simulators.gis import geometry
from simulators.gis.errors import bad_param
from simulators.gis.geometry import LonLat, Shape
from simulators.gis.schema import WKID
from simulators.world.network import M_PER_DEG_LAT

GEOGRAPHIC = frozenset({4490, 4326})
MERCATOR = frozenset({3857, 102100, 102113})
EARTH_R = 6_378_137.0

POINT = "esriGeometryPoint"
MULTIPOINT = "esriGeometryMultipoint"
POLYLINE = "esriGeometryPolyline"
POLYGON = "esriGeometryPolygon"
ENVELOPE = "esriGeometryEnvelope"
GEOMETRY_TYPES = (POINT, MULTIPOINT, POLYLINE, POLYGON, ENVELOPE)

UNITS: dict[str, float] = {
    "esriSRUnit_Meter": 1.0,
    "9001": 1.0,
    "esriSRUnit_Kilometer": 1000.0,
    "9036": 1000.0,
    "esriSRUnit_Foot": 0.3048,
    "9002": 0.3048,
    "esriSRUnit_StatuteMile": 1609.344,
    "9093": 1609.344,
    "esriSRUnit_NauticalMile": 1852.0,
    "9030": 1852.0,
}


def parse_sr(text: str, param: str) -> int:
    """`4490`, or `{"wkid": 4490}`; an empty value means the layer's own SR."""
    text = text.strip()
    if not text:
        return WKID
    try:
        if text.startswith("{"):
            obj = json.loads(text)
            wkid = int(obj.get("latestWkid") or obj["wkid"])
        else:
            wkid = int(text)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise bad_param(param, f"not a spatial reference: {text[:60]!r}") from exc
    if wkid not in GEOGRAPHIC | MERCATOR:
        raise bad_param(param, f"wkid {wkid} is not supported by this service (use 4490, 4326 or 3857)")
    return wkid


def from_mercator(x: float, y: float) -> LonLat:
    lon = math.degrees(x / EARTH_R)
    lat = math.degrees(2 * math.atan(math.exp(y / EARTH_R)) - math.pi / 2)
    return lon, lat


def to_mercator(p: LonLat) -> tuple[float, float]:
    x = EARTH_R * math.radians(p[0])
    y = EARTH_R * math.log(math.tan(math.pi / 4 + math.radians(p[1]) / 2))
    return round(x, 4), round(y, 4)


def buffer_metres(distance: str, units: str, sr: int) -> float:
    if not distance.strip():
        return 0.0
    try:
        value = float(distance)
    except ValueError as exc:
        raise bad_param("distance", f"not a number: {distance[:40]!r}") from exc
    if not math.isfinite(value) or value < 0:
        raise bad_param("distance", "must be zero or a positive number")
    units = units.strip()
    if not units:
        return value * (M_PER_DEG_LAT if sr in GEOGRAPHIC else 1.0)
    if units not in UNITS:
        raise bad_param("units", f"unknown unit {units[:40]!r}")
    return value * UNITS[units]


def _xy(raw: Any, sr: int) -> LonLat:
    if not isinstance(raw, list | tuple) or len(raw) < 2:
        raise ValueError("a coordinate must be [x, y]")
    x, y = float(raw[0]), float(raw[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError("coordinates must be finite numbers")
    if sr in MERCATOR:
        return from_mercator(x, y)
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise ValueError(f"({x}, {y}) is outside the valid range for wkid {sr}")
    return x, y


def _parts(raw: Any, sr: int, min_points: int) -> list[list[LonLat]]:
    if not isinstance(raw, list) or not raw:
        raise ValueError("expected a non-empty array of parts")
    parts = [[_xy(p, sr) for p in part] for part in raw]
    if any(len(part) < min_points for part in parts):
        raise ValueError(f"every part needs at least {min_points} points")
    return parts


def _from_json(obj: dict[str, Any], geometry_type: str, sr: int) -> Shape:
    if geometry_type == POINT:
        return geometry.point(_xy([obj["x"], obj["y"]], sr))
    if geometry_type == MULTIPOINT:
        return geometry.multipoint(_parts([obj["points"]], sr, 1)[0])
    if geometry_type == POLYLINE:
        return geometry.polyline(_parts(obj["paths"], sr, 2))
    if geometry_type == POLYGON:
        return geometry.polygon(_parts(obj["rings"], sr, 3))
    return _envelope(_xy([obj["xmin"], obj["ymin"]], sr), _xy([obj["xmax"], obj["ymax"]], sr))


def _envelope(lo: LonLat, hi: LonLat) -> Shape:
    return geometry.envelope(min(lo[0], hi[0]), min(lo[1], hi[1]), max(lo[0], hi[0]), max(lo[1], hi[1]))


def parse_geometry(text: str, geometry_type: str, in_sr: str) -> tuple[Shape, int]:
    """The filter geometry in degrees, and the SR the caller spoke in (for buffer units)."""
    if geometry_type not in GEOMETRY_TYPES:
        raise bad_param("geometryType", f"unknown geometry type {geometry_type[:40]!r}")
    sr = parse_sr(in_sr, "inSR")
    text = text.strip()
    try:
        if text.startswith("{"):
            obj = json.loads(text)
            if not isinstance(obj, dict):
                raise ValueError("geometry JSON must be an object")
            if isinstance(obj.get("spatialReference"), dict):
                sr = parse_sr(json.dumps(obj["spatialReference"]), "geometry")
            return _from_json(obj, geometry_type, sr), sr
        numbers = [float(v) for v in text.split(",")]
        if geometry_type == POINT and len(numbers) == 2:
            return geometry.point(_xy(numbers, sr)), sr
        if geometry_type == ENVELOPE and len(numbers) == 4:
            return _envelope(_xy(numbers[:2], sr), _xy(numbers[2:], sr)), sr
        raise ValueError(f"the simple syntax does not fit geometryType {geometry_type}")
    except KeyError as exc:
        raise bad_param("geometry", f"{geometry_type} JSON needs {exc.args[0]!r}") from exc
    except (ValueError, TypeError) as exc:
        raise bad_param("geometry", str(exc)[:200]) from exc
