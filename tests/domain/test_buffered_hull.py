"""`buffered_hull`: the area a 停水 notice draws around the dry mains."""

from __future__ import annotations

from itertools import pairwise

from domain.geo import GeoPoint, buffered_hull, in_rings, metres


def _path() -> list[GeoPoint]:
    return [GeoPoint(118.78, 32.04), GeoPoint(118.782, 32.04), GeoPoint(118.782, 32.042)]


def test_the_hull_holds_every_point_and_reaches_the_buffer_beyond_them() -> None:
    ring = buffered_hull(_path(), 30.0)
    closed = ((*ring, ring[0]),)
    assert all(in_rings(p, closed) for p in _path())
    # A point 20 m off the path is inside; one 60 m beyond the far corner is not.
    assert in_rings(GeoPoint(118.781, 32.04 - 20 / 111_320), closed)
    assert not in_rings(GeoPoint(118.782 + 60 / 94_400, 32.042 + 60 / 111_320), closed)
    # Every vertex lies about the buffer from the nearest input point (an octagon's corner).
    assert all(25.0 <= min(metres(v, p) for p in _path()) <= 31.0 for v in ring)


def test_the_ring_is_convex_counter_clockwise_and_open() -> None:
    ring = buffered_hull(_path(), 30.0)
    assert ring[0] != ring[-1] and len(ring) >= 3
    turns = [
        (b.lon - a.lon) * (c.lat - a.lat) - (b.lat - a.lat) * (c.lon - a.lon)
        for a, b, c in zip(ring, ring[1:] + ring[:1], ring[2:] + ring[:2], strict=True)
    ]
    assert all(t > 0 for t in turns)
    assert sum(a.lon * b.lat - b.lon * a.lat for a, b in pairwise((*ring, ring[0]))) > 0


def test_no_points_no_area() -> None:
    assert buffered_hull([], 30.0) == ()
