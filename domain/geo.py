"""Points and the two geometric questions the BFF asks: is a point inside an area, how far is a line."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

_M_PER_DEG = 111_320.0


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """CGCS2000 (wkid 4490) longitude and latitude in degrees; metre-level same as WGS84."""

    lon: float
    lat: float


def metres(a: GeoPoint, b: GeoPoint) -> float:
    """Equirectangular distance: exact to well under a metre across one district."""
    kx = _M_PER_DEG * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot((a.lon - b.lon) * kx, (a.lat - b.lat) * _M_PER_DEG)


def metres_to_path(point: GeoPoint, path: tuple[GeoPoint, ...]) -> float:
    """Shortest distance from a point to a polyline."""
    if len(path) == 1:
        return metres(point, path[0])
    kx = _M_PER_DEG * math.cos(math.radians(point.lat))
    px, py = point.lon * kx, point.lat * _M_PER_DEG
    best = math.inf
    for a, b in pairwise(path):
        ax, ay, bx, by = a.lon * kx, a.lat * _M_PER_DEG, b.lon * kx, b.lat * _M_PER_DEG
        dx, dy = bx - ax, by - ay
        t = (
            0.0
            if dx == dy == 0
            else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
        )
        best = min(best, math.hypot(px - (ax + t * dx), py - (ay + t * dy)))
    return best


def in_rings(point: GeoPoint, rings: tuple[tuple[GeoPoint, ...], ...]) -> bool:
    """Even-odd rule over all rings, so holes subtract; rings are closed."""
    inside = False
    for ring in rings:
        for a, b in pairwise(ring):
            if (a.lat > point.lat) != (b.lat > point.lat) and point.lon < (b.lon - a.lon) * (
                point.lat - a.lat
            ) / (b.lat - a.lat) + a.lon:
                inside = not inside
    return inside
