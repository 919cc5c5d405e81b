"""Planar geometry for the spatial filter: shapes, distances and the three relations served.

Coordinates stay in degrees; distances are taken on a local equirectangular plane,
exact enough inside one district. Points on a shared polygon edge belong to one
polygon only (even-odd rule, half-open like the world's grid assignment), so a
point query against the grid layer finds exactly one grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

from simulators.world.names import LAT0
from simulators.world.network import M_PER_DEG_LAT

LonLat = tuple[float, float]
BBox = tuple[float, float, float, float]
Segment = tuple[LonLat, LonLat]

KY = M_PER_DEG_LAT
KX = M_PER_DEG_LAT * math.cos(math.radians(LAT0 + 0.02))
EPS_M = 1e-6

INTERSECTS = "esriSpatialRelIntersects"
CONTAINS = "esriSpatialRelContains"
WITHIN = "esriSpatialRelWithin"
ENVELOPE_INTERSECTS = "esriSpatialRelEnvelopeIntersects"
RELATIONS = (INTERSECTS, CONTAINS, WITHIN, ENVELOPE_INTERSECTS)


@dataclass(frozen=True, slots=True)
class Shape:
    """Any geometry as vertices, segments (lines and ring edges) and rings (areas)."""

    vertices: tuple[LonLat, ...]
    segments: tuple[Segment, ...]
    rings: tuple[tuple[LonLat, ...], ...]
    bbox: BBox

    @property
    def elements(self) -> tuple[Segment, ...]:
        """Segments, or degenerate ones for bare points, so one distance routine serves all."""
        return self.segments or tuple((v, v) for v in self.vertices)


def _bbox(points: list[LonLat]) -> BBox:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def point(p: LonLat) -> Shape:
    return Shape((p,), (), (), (p[0], p[1], p[0], p[1]))


def multipoint(points: list[LonLat]) -> Shape:
    return Shape(tuple(points), (), (), _bbox(points))


def polyline(paths: list[list[LonLat]]) -> Shape:
    verts = [p for path in paths for p in path]
    segs = tuple((a, b) for path in paths for a, b in pairwise(path))
    return Shape(tuple(verts), segs, (), _bbox(verts))


def polygon(rings: list[list[LonLat]]) -> Shape:
    closed = [tuple(r) if r[0] == r[-1] else (*r, r[0]) for r in rings]
    verts = [p for r in closed for p in r[:-1]]
    segs = tuple((a, b) for r in closed for a, b in pairwise(r))
    return Shape(tuple(verts), segs, tuple(closed), _bbox(verts))


def envelope(xmin: float, ymin: float, xmax: float, ymax: float) -> Shape:
    return polygon([[(xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax), (xmin, ymin)]])


def expand(bbox: BBox, metres: float) -> BBox:
    dx, dy = metres / KX, metres / KY
    return bbox[0] - dx, bbox[1] - dy, bbox[2] + dx, bbox[3] + dy


def bbox_overlaps(a: BBox, b: BBox) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def inside(p: LonLat, rings: tuple[tuple[LonLat, ...], ...]) -> bool:
    """Even-odd over every ring, so holes work; edges are half-open (west and south included)."""
    x, y = p
    hit = False
    for ring in rings:
        for (x1, y1), (x2, y2) in pairwise(ring):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                hit = not hit
    return hit


def _m(p: LonLat) -> tuple[float, float]:
    return p[0] * KX, p[1] * KY


def _point_segment_m(p: LonLat, a: LonLat, b: LonLat) -> float:
    (px, py), (ax, ay), (bx, by) = _m(p), _m(a), _m(b)
    dx, dy = bx - ax, by - ay
    span = dx * dx + dy * dy
    t = 0.0 if span == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / span))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _orient(a: LonLat, b: LonLat, c: LonLat) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _cross_properly(a: LonLat, b: LonLat, c: LonLat, d: LonLat) -> bool:
    """Interiors cross at one point (touching ends and collinear overlaps excluded)."""
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    return o1 * o2 < 0 and o3 * o4 < 0


def _segment_distance_m(s: Segment, t: Segment) -> float:
    if _cross_properly(s[0], s[1], t[0], t[1]):
        return 0.0
    return min(
        _point_segment_m(s[0], t[0], t[1]),
        _point_segment_m(s[1], t[0], t[1]),
        _point_segment_m(t[0], s[0], s[1]),
        _point_segment_m(t[1], s[0], s[1]),
    )


def _boundary_distance_m(a: Shape, b: Shape) -> float:
    return min((_segment_distance_m(s, t) for s in a.elements for t in b.elements), default=math.inf)


def distance_m(a: Shape, b: Shape) -> float:
    """Shortest distance in metres; zero when one lies (partly) inside the other's area."""
    if a.rings and any(inside(v, a.rings) for v in b.vertices):
        return 0.0
    if b.rings and any(inside(v, b.rings) for v in a.vertices):
        return 0.0
    return _boundary_distance_m(a, b)


def _is_point(s: Shape) -> bool:
    return not s.segments and len(s.vertices) == 1


def intersects(q: Shape, f: Shape, buffer_m: float) -> bool:
    if buffer_m > 0:
        return distance_m(q, f) <= buffer_m
    if _is_point(q) and f.rings:
        return inside(q.vertices[0], f.rings)
    if _is_point(f) and q.rings:
        return inside(f.vertices[0], q.rings)
    return distance_m(q, f) <= EPS_M


def contains(q: Shape, f: Shape, buffer_m: float) -> bool:
    """The (buffered) query geometry holds every part of the feature."""
    if buffer_m > 0:
        return all(distance_m(q, point(v)) <= buffer_m for v in f.vertices)
    if not q.rings:
        return not f.rings and all(_boundary_distance_m(q, point(v)) <= EPS_M for v in f.vertices)
    if not all(inside(v, q.rings) for v in f.vertices):
        return False
    return not any(_cross_properly(s[0], s[1], t[0], t[1]) for s in f.segments for t in q.segments)


def within(q: Shape, f: Shape, buffer_m: float) -> bool:
    """The (buffered) query geometry lies inside the feature: the grid a point sits in."""
    if not contains(f, q, 0.0):
        return False
    return buffer_m <= 0 or (bool(f.rings) and _boundary_distance_m(q, f) >= buffer_m)


def relate(relation: str, q: Shape, f: Shape, buffer_m: float) -> bool:
    if relation == ENVELOPE_INTERSECTS:
        return bbox_overlaps(expand(q.bbox, buffer_m), f.bbox)
    if relation == CONTAINS:
        return contains(q, f, buffer_m)
    if relation == WITHIN:
        return within(q, f, buffer_m)
    return intersects(q, f, buffer_m)


class GridIndex:
    """Feature ids bucketed by fixed cells: a cheap prefilter before the exact test."""

    def __init__(self, items: list[tuple[int, BBox]], cell: float = 0.002) -> None:
        self.cell = cell
        self.cells: dict[tuple[int, int], list[int]] = {}
        for oid, bbox in items:
            for key in self._span(bbox):
                self.cells.setdefault(key, []).append(oid)

    def _span(self, bbox: BBox) -> list[tuple[int, int]]:
        x0, y0, x1, y1 = (math.floor(v / self.cell) for v in bbox)
        return [(i, j) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1)]

    def candidates(self, bbox: BBox) -> set[int]:
        x0, y0, x1, y1 = (math.floor(v / self.cell) for v in bbox)
        if (x1 - x0 + 1) * (y1 - y0 + 1) > len(self.cells):
            keys = [k for k in self.cells if x0 <= k[0] <= x1 and y0 <= k[1] <= y1]
        else:
            keys = self._span(bbox)
        out: set[int] = set()
        for key in keys:
            out.update(self.cells.get(key, ()))
        return out
