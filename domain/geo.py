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


def buffered_hull(points: list[GeoPoint], buffer_m: float) -> tuple[GeoPoint, ...]:
    """The convex hull of the points, each widened to a `buffer_m` octagon first: the area a 停水 notice
    draws around the dry mains (a hull, not the exact buffer union: a notice, not a survey). The ring
    runs counter-clockwise and is not closed; empty for no points."""
    if not points:
        return ()
    lat0 = sum(p.lat for p in points) / len(points)
    dlat = buffer_m / _M_PER_DEG
    dlon = buffer_m / (_M_PER_DEG * math.cos(math.radians(lat0)))
    spread = {
        (round(p.lon + dlon * math.cos(a), 9), round(p.lat + dlat * math.sin(a), 9))
        for p in points
        for a in (k * math.pi / 4 for k in range(8))
    }
    ordered = sorted(spread)

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for chain, seq in ((lower, ordered), (upper, list(reversed(ordered)))):
        for p in seq:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
    return tuple(GeoPoint(x, y) for x, y in lower[:-1] + upper[:-1])
