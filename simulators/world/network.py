"""The pipe network as a utility GIS models it, and the valve-isolation trace (关阀分析) over it.

- Nodes: street junctions, mid-block nodes where a main ends (irregular spacing, two or three
  mains to a block), DMA and pressure-zone boundary nodes (mid-block), sources and the caps of
  abandoned mains. Every main runs FROM_NODE -> TO_NODE.
- Valves sit on a main a few metres from one of its ends, the protected node: closing the valve
  separates the main from that node. Junction valves on most mains, mid-block valves on many,
  one valve at every DMA and pressure-zone boundary: normally closed, except the DMA inlets that
  keep every district metered area fed. A share of valves (`inoperable_share`) cannot be turned.
- Sources (water works, reservoir, tank, pump station) deliver into the district through an
  outlet main each; every pressure zone has at least one, and every in-service main is fed from
  one through open valves.
- About 2% of mains were replaced by a new main along the same stretch; the old one stays in the
  GIS as out of service (停用), capped at both ends, and nobody's connection taps it.

The trace here is a breadth-first search over this model only; the product's own trace lives in
the service layer.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from simulators.world import names
from simulators.world.model import LonLat, Main, Outage, PressureZone, Road, Source, Valve

# Diameters by road width class.
_DN_BY_CLASS = {1: (400, 500, 600), 2: (200, 300), 3: (100, 150)}
MATERIALS = {1: "球墨铸铁管", 2: "PE管", 3: "钢管", 4: "灰口铸铁管", 5: "PVC管"}
MAIN_STATUS = {0: "在用", 1: "停用", 2: "待建"}
MAIN_TYPES = {1: "配水管", 2: "输水管"}
VALVE_TYPES = {1: "闸阀", 2: "蝶阀", 3: "减压阀"}
VALVE_BOUNDARY = {0: "无", 1: "DMA边界", 2: "压力分区边界"}
SOURCE_KINDS = {1: "水厂", 2: "清水池", 3: "高位水池", 4: "加压泵站"}
OUTAGE_KINDS = {1: "计划停水", 2: "抢修停水"}
OUTAGE_STATUS = {0: "待执行", 1: "停水中", 2: "已恢复", 3: "已取消"}

DEFAULT_INOPERABLE_SHARE = 0.10
M_PER_DEG_LAT = 111_320.0
KX = M_PER_DEG_LAT * math.cos(math.radians(names.LAT0 + 0.02))  # metres per degree of longitude

# Boundaries run mid-block, in street units (columns west to east, rows south to north).
ZONE_BREAKS = (3.5, 7.5)  # pressure zones: three bands of columns
DMA_COL_BREAKS = (1.5, 3.5, 5.5, 7.5)  # DMAs nest inside the zones
DMA_ROW_BREAKS = (2.5, 5.5)
ZONE_NAMES = ("西区", "中区", "东区")
ZONE_MARGIN = 0.002  # degrees past the outer roads, as the grids reach

_SOURCES = (
    # (name, kind, junction (row, col), outward -1 south / +1 north, outlet length m, capacity m3/d)
    ("江城第一水厂", 1, (0, 2), -1, 140.0, 150_000),
    ("临江加压泵站", 4, (0, 6), -1, 90.0, 40_000),
    ("城北清水池", 2, (8, 5), 1, 120.0, 30_000),
    ("凤凰山高位水池", 3, (8, 9), 1, 160.0, 20_000),
)


def metres_between(a: LonLat, b: LonLat) -> float:
    """Equirectangular distance: exact enough inside one district."""
    kx = M_PER_DEG_LAT * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * M_PER_DEG_LAT)


def at(x: float, y: float) -> LonLat:
    """Street units (column, row) to CGCS2000 degrees."""
    return (round(names.LON0 + x * names.LON_STEP, 6), round(names.LAT0 + y * names.LAT_STEP, 6))


def units(p: LonLat) -> tuple[float, float]:
    return (p[0] - names.LON0) / names.LON_STEP, (p[1] - names.LAT0) / names.LAT_STEP


def zone_of(x: float) -> str:
    return f"PZ{bisect.bisect(ZONE_BREAKS, x) + 1}"


def dma_of(x: float, y: float) -> str:
    return f"DMA-{bisect.bisect(DMA_ROW_BREAKS, y) + 1}{bisect.bisect(DMA_COL_BREAKS, x) + 1}"


def offset(p: LonLat, axis: str, metres: float) -> LonLat:
    """`metres` north of an east-west road's point, or east of a north-south street's."""
    if axis == "ew":
        return (p[0], round(p[1] + metres / M_PER_DEG_LAT, 6))
    return (round(p[0] + metres / KX, 6), p[1])


def _towards(p: LonLat, q: LonLat, metres: float) -> LonLat:
    t = min(metres / max(metres_between(p, q), 1.0), 0.45)
    return (round(p[0] + (q[0] - p[0]) * t, 6), round(p[1] + (q[1] - p[1]) * t, 6))


@dataclass(frozen=True)
class Trace:
    """What closing one valve segment does: the segment, what loses supply with it, the valves shut."""

    segment: tuple[int, ...]  # main ids of the isolated valve segment
    cut_off: tuple[int, ...]  # in-service mains no source reaches any more once it is shut
    valves: tuple[int, ...]  # valve ids to close (open, operable, on the segment's edge)
    sealed: bool = True  # False when a source delivers straight into the segment: no shutting it

    @property
    def main_ids(self) -> tuple[int, ...]:
        return tuple(sorted((*self.segment, *self.cut_off)))


class Network:
    """Nodes, mains, valves, sources and pressure zones, plus the valve segments they form."""

    def __init__(
        self,
        rng: random.Random,
        ew: list[Road],
        ns: list[Road],
        inoperable_share: float = DEFAULT_INOPERABLE_SHARE,
    ) -> None:
        if not 0.0 <= inoperable_share <= 1.0:
            raise ValueError(f"inoperable_share must be within [0, 1], got {inoperable_share}")
        self.inoperable_share = inoperable_share
        self.points: dict[int, LonLat] = {}
        self.mains: list[Main] = []
        self.valves: list[Valve] = []
        self.sources: list[Source] = []
        self.zones: list[PressureZone] = []
        self.junctions: dict[tuple[int, int], int] = {}
        self.boundary_nodes: dict[int, int] = {}  # node -> 1 DMA boundary, 2 pressure-zone boundary
        self.mid_nodes: set[int] = set()  # mid-block nodes that are no boundary
        # (axis, road index, link) -> [(from along, to along, in-service main id)], in order
        self.links: dict[tuple[str, int, int], list[tuple[float, float, int]]] = {}
        rows, cols = len(ew), len(ns)
        for r in range(rows):
            for c in range(cols):
                self.junctions[(r, c)] = self._add_node(at(c, r))
        for road in ew:
            for c in range(cols - 1):
                self._add_link(rng, road, c)
        for road in ns:
            for r in range(rows - 1):
                self._add_link(rng, road, r)
        self._add_sources(rng, ew, ns)
        self.incident: dict[int, list[int]] = defaultdict(list)
        for m in self.mains:
            self.incident[m.from_node].append(m.main_id)
            self.incident[m.to_node].append(m.main_id)
        self.main_by_id = {m.main_id: m for m in self.mains}
        self._add_valves(rng)
        self._open_dma_inlets(rng)
        self._misplace_a_few(rng)
        self.segment_of = self._valve_segments()
        self._zones()

    # -- building ---------------------------------------------------------------------------------

    def _add_node(self, point: LonLat) -> int:
        node = len(self.points) + 1
        self.points[node] = point
        return node

    def _add_link(self, rng: random.Random, road: Road, link: int) -> None:
        """One block-long stretch of a road, junction to junction, as two to four mains."""
        ew = road.axis == "ew"
        mid = link + 0.5
        breaks = DMA_COL_BREAKS if ew else DMA_ROW_BREAKS
        boundary = 0 if mid not in breaks else (2 if ew and mid in ZONE_BREAKS else 1)
        if boundary:
            cuts = [0.5]
            if rng.random() < 0.5:
                cuts.append(rng.uniform(0.18, 0.32) if rng.random() < 0.5 else rng.uniform(0.68, 0.82))
        elif rng.random() < 0.45:
            cuts = [rng.uniform(0.38, 0.62)]
        else:
            cuts = [rng.uniform(0.24, 0.4), rng.uniform(0.6, 0.76)]
        cuts.sort()

        def point(f: float) -> LonLat:
            return at(link + f, road.index) if ew else at(road.index, link + f)

        a = self.junctions[(road.index, link)] if ew else self.junctions[(link, road.index)]
        b = self.junctions[(road.index, link + 1)] if ew else self.junctions[(link + 1, road.index)]
        nodes = [a]
        for f in cuts:
            node = self._add_node(point(f))
            nodes.append(node)
            if boundary and f == 0.5:
                self.boundary_nodes[node] = boundary
            else:
                self.mid_nodes.add(node)
        nodes.append(b)
        dn = rng.choice(_DN_BY_CLASS[road.width_class])
        year = rng.randint(1988, 2024)
        stretch: list[tuple[float, float, int]] = []
        for (f0, n0), (f1, n1) in itertools.pairwise(zip([0.0, *cuts, 1.0], nodes, strict=True)):
            replaced = rng.random() < 0.02
            laid = rng.randint(2010, 2024) if replaced else year
            main_id = self._add_main(rng, road, n0, n1, dn, laid)
            stretch.append((link + f0, link + f1, main_id))
            if replaced:
                self._abandon(rng, road, n0, n1, dn)
        self.links[(road.axis, road.index, link)] = stretch

    def _material(self, rng: random.Random, dn: int, year: int) -> int:
        if year < 1998:
            return rng.choice((4, 4, 1))
        if dn >= 400:
            return rng.choice((1, 3))
        return rng.choice((1, 1, 2, 5))

    def _add_main(
        self,
        rng: random.Random,
        road: Road,
        a: int,
        b: int,
        dn: int,
        year: int,
        status: int = 0,
        main_type: int = 1,
        material: int | None = None,
    ) -> int:
        main_id = len(self.mains) + 1
        pa, pb = self.points[a], self.points[b]
        material = self._material(rng, dn, year) if material is None else material
        x, y = units(((pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2))
        self.mains.append(
            Main(
                main_id=main_id,
                asset_no=f"GS-{main_id:06d}",
                road=road,
                from_node=a,
                to_node=b,
                path=(pa, pb),
                material=material,
                diameter_mm=dn,
                install_date=date(year, 1, 1) + timedelta(days=rng.randrange(365)),
                pressure_zone=zone_of(x),
                dma=dma_of(x, y),
                status=status,
                length_m=round(metres_between(pa, pb), 1),
                main_type=main_type,
            )
        )
        return main_id

    def _abandon(self, rng: random.Random, road: Road, a: int, b: int, dn: int) -> None:
        """The old main a replacement superseded: a few metres off, capped at both ends, 停用."""
        side = 2.5 if road.axis == "ew" else -2.5
        ca = self._add_node(offset(self.points[a], road.axis, side))
        cb = self._add_node(offset(self.points[b], road.axis, side))
        year = rng.randint(1975, 1995)
        self._add_main(rng, road, ca, cb, dn, year, status=1, material=4)

    def _add_sources(self, rng: random.Random, ew: list[Road], ns: list[Road]) -> None:
        for n, (name, kind, (row, col), outward, length, capacity) in enumerate(_SOURCES, start=1):
            junction = self.junctions[(row, col)]
            node = self._add_node(offset(self.points[junction], "ew", outward * length))
            road = ns[col]  # the street runs on past the district's edge to the works
            a, b = (node, junction) if outward < 0 else (junction, node)
            year = rng.randint(1990, 2015)
            main_id = self._add_main(rng, road, a, b, 800 if kind == 1 else 600, year, main_type=2)
            self.sources.append(
                Source(
                    source_id=n,
                    asset_no=f"SY-{n:04d}",
                    name=name,
                    kind=kind,
                    node=node,
                    location=self.points[node],
                    main_ids=(main_id,),
                    pressure_zone=zone_of(col),
                    capacity_m3d=capacity,
                )
            )

    def _add_valves(self, rng: random.Random) -> None:
        wanted: list[tuple[int, int, float, int]] = []  # (main id, protected node, metres, boundary)
        source_nodes = {s.node for s in self.sources}
        for node in sorted(self.incident):
            mains = sorted(m for m in self.incident[node] if self.main_by_id[m].status == 0)
            if not mains:
                continue
            if node in source_nodes:  # the works' outlet valve
                wanted.extend((m, node, rng.uniform(8.0, 20.0), 0) for m in mains)
            elif node in self.boundary_nodes:
                wanted.append((rng.choice(mains), node, rng.uniform(1.0, 4.0), self.boundary_nodes[node]))
            elif node in self.mid_nodes:
                if rng.random() < 0.6:
                    wanted.append((rng.choice(mains), node, rng.uniform(2.0, 15.0), 0))
            else:
                wanted.extend((m, node, rng.uniform(4.0, 30.0), 0) for m in mains if rng.random() < 0.78)
        for main_id, node, metres, boundary in wanted:
            main = self.main_by_id[main_id]
            other = main.to_node if node == main.from_node else main.from_node
            vid = len(self.valves) + 1
            self.valves.append(
                Valve(
                    valve_id=vid,
                    asset_no=f"FM-{vid:06d}",
                    main_id=main_id,
                    node=node,
                    location=_towards(self.points[node], self.points[other], metres),
                    valve_type=1 if main.diameter_mm < 300 else 2,
                    normally_open=not boundary,
                    currently_open=not boundary,
                    operable=rng.random() >= self.inoperable_share,
                    boundary=boundary,
                )
            )

    def _set_valve(self, index: int, currently_open: bool, normally_open: bool | None = None) -> None:
        v = self.valves[index]
        normal = v.normally_open if normally_open is None else normally_open
        self.valves[index] = replace(v, normally_open=normal, currently_open=currently_open)

    def _open_dma_inlets(self, rng: random.Random) -> None:
        """Open DMA boundary valves (never zone boundaries) until every in-service main is fed,
        then a second inlet on about a third of what stays closed."""
        live = {m.main_id for m in self.mains if m.status == 0}
        while True:
            fed = self.fed_mains()
            if live <= fed:
                break
            inlets = [
                i
                for i, v in enumerate(self.valves)
                if v.boundary == 1
                and not v.normally_open
                and len({m in fed for m in self.incident[v.node] if m in live}) == 2
            ]
            if not inlets:
                raise RuntimeError("the network cannot feed every main from its zone's sources")
            self._set_valve(rng.choice(inlets), True, normally_open=True)
        for i, v in enumerate(self.valves):
            if v.boundary == 1 and not v.normally_open and rng.random() < 0.35:
                self._set_valve(i, True, normally_open=True)

    def _misplace_a_few(self, rng: random.Random) -> None:
        """Field surveys find about 1% of ordinary valves shut that should stand open; never one
        whose closing leaves a main without water (somebody would have rung)."""
        live = {m.main_id for m in self.mains if m.status == 0}
        for i, v in enumerate(self.valves):
            if v.boundary or rng.random() >= 0.01:
                continue
            self._set_valve(i, False)
            if not live <= self.fed_mains():
                self._set_valve(i, True)

    def _zones(self) -> None:
        lon0, lat0 = at(0, 0)
        lon1, lat1 = at(len(names.NS_ROADS) - 1, len(names.EW_ROADS) - 1)
        edges = [lon0 - ZONE_MARGIN, *(at(x, 0)[0] for x in ZONE_BREAKS), lon1 + ZONE_MARGIN]
        y0, y1 = round(lat0 - ZONE_MARGIN, 6), round(lat1 + ZONE_MARGIN, 6)
        for n, (w, e) in enumerate(itertools.pairwise(edges), start=1):
            x0, x1 = round(w, 6), round(e, 6)
            code = f"PZ{n}"
            self.zones.append(
                PressureZone(
                    code=code,
                    name=f"{names.DISTRICT}{ZONE_NAMES[n - 1]}供水压力分区",
                    ring=((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)),
                    source_ids=tuple(s.source_id for s in self.sources if s.pressure_zone == code),
                )
            )

    # -- segments and the trace -------------------------------------------------------------------

    def _valves_at(self) -> dict[tuple[int, int], Valve]:
        return {(v.main_id, v.node): v for v in self.valves}

    def fed_mains(self, closing: Iterable[Valve] = ()) -> set[int]:
        """In-service mains a source reaches through open valves, once `closing` are shut too."""
        closed = {(v.main_id, v.node) for v in self.valves if not v.currently_open}
        closed.update((v.main_id, v.node) for v in closing)
        seen_nodes = {s.node for s in self.sources}
        fed: set[int] = set()
        queue = deque(seen_nodes)
        mains = self.main_by_id
        while queue:
            node = queue.popleft()
            for mid in self.incident[node]:
                if mid in fed or (mid, node) in closed or mains[mid].status != 0:
                    continue
                fed.add(mid)
                m = mains[mid]
                other = m.to_node if node == m.from_node else m.from_node
                if other not in seen_nodes and (mid, other) not in closed:
                    seen_nodes.add(other)
                    queue.append(other)
        return fed

    def _cut(self) -> set[tuple[int, int]]:
        """(main, node) pairs a valve separates when the segment is shut: operable or already closed."""
        return {(v.main_id, v.node) for v in self.valves if v.operable or not v.currently_open}

    def _valve_segments(self) -> dict[int, int]:
        """Main id -> segment id: mains joined through a node with no closable valve between."""
        parent = {m.main_id: m.main_id for m in self.mains}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        cut = self._cut()
        at_node: dict[int, list[int]] = defaultdict(list)
        for m in self.mains:
            for node in (m.from_node, m.to_node):
                if (m.main_id, node) not in cut:
                    at_node[node].append(m.main_id)
        for joined in at_node.values():
            for other in joined[1:]:
                parent[find(other)] = find(joined[0])
        return {m.main_id: find(m.main_id) for m in self.mains}

    def segment_mains(self, main_id: int) -> list[Main]:
        seg = self.segment_of[main_id]
        return [m for m in self.mains if self.segment_of[m.main_id] == seg]

    def trace(self, main_id: int) -> Trace:
        """Shut the valve segment `main_id` lies in: the valves to close and every main left dry."""
        segment = {m.main_id for m in self.segment_mains(main_id)}
        cut = self._cut()
        inside_nodes = {
            node
            for mid in segment
            for node in (self.main_by_id[mid].from_node, self.main_by_id[mid].to_node)
            if (mid, node) not in cut
        }
        to_close = [
            v
            for v in self.valves
            if v.currently_open and v.operable and ((v.main_id in segment) != (v.node in inside_nodes))
        ]
        # Shut the segment's valves (taking its mains out is not enough: water may still pass
        # through a junction inside it), then walk from the sources to find what else goes dry.
        before = self.fed_mains()
        after = self.fed_mains(closing=to_close)
        cut_off = sorted(before - after - segment)
        valve_ids = tuple(v.valve_id for v in to_close)
        return Trace(tuple(sorted(segment)), tuple(cut_off), valve_ids, sealed=not segment & after)

    def tap(self, road: Road, along: float) -> int:
        """The in-service main of `road` at `along` (street units): where a connection taps in."""
        last = len(names.NS_ROADS if road.axis == "ew" else names.EW_ROADS) - 2
        link = min(max(int(along), 0), last)
        stretch = self.links[(road.axis, road.index, link)]
        for start, end, main_id in stretch:
            if start <= along < end:
                return main_id
        return stretch[0][2] if along < stretch[0][0] else stretch[-1][2]

    def road_point(self, road: Road, along: float) -> LonLat:
        return at(along, road.index) if road.axis == "ew" else at(road.index, along)


def ring_around(mains: list[Main], pad: float = 0.0006) -> tuple[LonLat, ...]:
    xs = [p[0] for m in mains for p in m.path]
    ys = [p[1] for m in mains for p in m.path]
    x0, y0 = round(min(xs) - pad, 6), round(min(ys) - pad, 6)
    x1, y1 = round(max(xs) + pad, 6), round(max(ys) + pad, 6)
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))


def point_in_ring(point: LonLat, ring: tuple[LonLat, ...] | list[LonLat]) -> bool:
    """Even-odd rule; rings are closed."""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


_OUTAGE_PLAN = (
    # (kind, status, start offset hours from the as-of day's midnight, duration hours, reason)
    (2, 1, 7.5, 10, "DN{dn}主管爆管,抢修停水"),
    (1, 1, 9.0, 12, "管网改造施工,计划停水"),
    (1, 0, 56.0, 8, "阀门更换,计划停水"),
    (2, 2, -200.0, 6, "DN{dn}管道漏水抢修"),
    (1, 2, -480.0, 10, "二次供水设施清洗"),
    (1, 3, 30.0, 6, "水表集中更换(已取消)"),
)


def plan_outages(
    rng: random.Random, net: Network, tapped: dict[int, int], as_of_midnight: int
) -> list[Outage]:
    """A handful of outages around the as-of day, each shutting one valve segment that serves
    somebody and leaves at most a few mains beyond it dry. `tapped`: main id -> connections."""
    candidates = [m for m in net.mains if m.status == 0 and m.main_type == 1]
    rng.shuffle(candidates)
    used: set[int] = set()
    out: list[Outage] = []
    plan = iter(enumerate(_OUTAGE_PLAN, start=1))
    step = next(plan, None)
    for main in candidates:
        if step is None:
            break
        seg = net.segment_of[main.main_id]
        if seg in used:
            continue
        used.add(seg)
        trace = net.trace(main.main_id)
        served = sum(tapped.get(mid, 0) for mid in trace.main_ids)
        small = len(trace.segment) <= 6 and len(trace.cut_off) <= 4
        if not (small and trace.sealed and trace.valves and served):
            continue
        n, (kind, status, start_h, hours, reason) = step
        start = as_of_midnight + int(start_h * 3600)
        out.append(
            Outage(
                outage_id=f"TS{n:04d}",
                kind=kind,
                status=status,
                reason=reason.format(dn=main.diameter_mm),
                start=start,
                est_restore=start + hours * 3600,
                main_ids=trace.main_ids,
                ring=ring_around([net.main_by_id[mid] for mid in trace.main_ids]),
                affected_accounts=served,
                valve_ids=trace.valves,
            )
        )
        step = next(plan, None)
    if step is not None:
        raise RuntimeError("too few isolatable segments for the outage plan")
    return out
