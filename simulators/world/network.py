"""The pipe network: mains along the streets, valves at junctions, valve segments, outages."""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from datetime import date, timedelta

from simulators.world import names
from simulators.world.geography import node_point
from simulators.world.model import LonLat, Main, Outage, Road, Valve

# Diameters by road width class.
_DN_BY_CLASS = {1: (400, 500, 600), 2: (200, 300), 3: (100, 150)}
MATERIALS = {1: "球墨铸铁管", 2: "PE管", 3: "钢管", 4: "灰口铸铁管", 5: "PVC管"}
MAIN_STATUS = {0: "在用", 1: "停用", 2: "待建"}
VALVE_TYPES = {1: "闸阀", 2: "蝶阀", 3: "减压阀"}
OUTAGE_KINDS = {1: "计划停水", 2: "抢修停水"}
OUTAGE_STATUS = {0: "待执行", 1: "停水中", 2: "已恢复", 3: "已取消"}

M_PER_DEG_LAT = 111_320.0


def metres_between(a: LonLat, b: LonLat) -> float:
    """Equirectangular distance: exact enough inside one district."""
    kx = M_PER_DEG_LAT * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * M_PER_DEG_LAT)


class Network:
    """Nodes, mains and valves, plus the valve segments they form."""

    def __init__(self, rng: random.Random, ew: list[Road], ns: list[Road]) -> None:
        self.points: dict[int, LonLat] = {}
        self._grid_node: dict[tuple[int, int], int] = {}
        self.mains: list[Main] = []
        self.valves: list[Valve] = []
        # (row, col) of the EW segment -> (west half main id, east half main id)
        self.ew_halves: dict[tuple[int, int], tuple[int, int]] = {}
        rows, cols = len(ew), len(ns)
        for r in range(rows):
            for c in range(cols):
                self._grid_node[(r, c)] = self._add_node(node_point(r, c))
        for r, road in enumerate(ew):
            for c in range(cols - 1):
                a, b = self._grid_node[(r, c)], self._grid_node[(r, c + 1)]
                self.ew_halves[(r, c)] = self._add_split_main(rng, road, a, b)
        for c, road in enumerate(ns):
            for r in range(rows - 1):
                a, b = self._grid_node[(r, c)], self._grid_node[(r + 1, c)]
                self._add_split_main(rng, road, a, b)
        self._add_valves(rng)
        self.segment_of = self._valve_segments()

    def _add_node(self, point: LonLat) -> int:
        node = len(self.points) + 1
        self.points[node] = point
        return node

    def _add_split_main(self, rng: random.Random, road: Road, a: int, b: int) -> tuple[int, int]:
        pa, pb = self.points[a], self.points[b]
        mid = self._add_node((round((pa[0] + pb[0]) / 2, 6), round((pa[1] + pb[1]) / 2, 6)))
        dn = rng.choice(_DN_BY_CLASS[road.width_class])
        year = rng.randint(1988, 2024)
        return self._add_main(rng, road, a, mid, dn, year), self._add_main(rng, road, mid, b, dn, year)

    def _add_main(self, rng: random.Random, road: Road, a: int, b: int, dn: int, year: int) -> int:
        main_id = len(self.mains) + 1
        pa, pb = self.points[a], self.points[b]
        if year < 1998:
            material = rng.choice((4, 4, 1))
        elif dn >= 400:
            material = rng.choice((1, 3))
        else:
            material = rng.choice((1, 1, 2, 5))
        col = int((min(pa[0], pb[0]) - names.LON0) / names.LON_STEP)
        row = int((min(pa[1], pb[1]) - names.LAT0) / names.LAT_STEP)
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
                pressure_zone=f"PZ{1 + col // 4}",
                dma=f"DMA-{row // 2 + 1}{col // 3 + 1}",
                status=0 if rng.random() > 0.02 else 1,
                length_m=round(metres_between(pa, pb), 1),
            )
        )
        return main_id

    def _add_valves(self, rng: random.Random) -> None:
        junctions = set(self._grid_node.values())
        for main in self.mains:
            for node in (main.from_node, main.to_node):
                if node not in junctions or rng.random() > 0.75:
                    continue
                other = main.to_node if node == main.from_node else main.from_node
                p, q = self.points[node], self.points[other]
                t = 15.0 / max(main.length_m, 1.0)
                loc = (round(p[0] + (q[0] - p[0]) * t, 6), round(p[1] + (q[1] - p[1]) * t, 6))
                normally_open = rng.random() > 0.03
                vid = len(self.valves) + 1
                self.valves.append(
                    Valve(
                        valve_id=vid,
                        asset_no=f"FM-{vid:06d}",
                        main_id=main.main_id,
                        node=node,
                        location=loc,
                        valve_type=1 if main.diameter_mm < 300 else 2,
                        normally_open=normally_open,
                        currently_open=normally_open if rng.random() > 0.01 else not normally_open,
                        operable=rng.random() > 0.05,
                    )
                )

    def _valve_segments(self) -> dict[int, int]:
        """Main id -> segment id: mains joined through a node with no operable valve between."""
        parent = {m.main_id: m.main_id for m in self.mains}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        cut = {(v.main_id, v.node) for v in self.valves if v.operable}
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


def plan_outages(rng: random.Random, net: Network, as_of_midnight: int) -> list[Outage]:
    """A handful of outages around the as-of day, each isolating one valve segment."""
    # Service connections tap the east-west mains, so outages there cut customers off.
    small = [
        m
        for m in net.mains
        if m.road.axis == "ew" and m.status == 0 and len(net.segment_mains(m.main_id)) <= 6
    ]
    chosen: list[int] = []
    out: list[Outage] = []
    for n, (kind, status, start_h, hours, reason) in enumerate(_OUTAGE_PLAN, start=1):
        candidates = [m for m in small if net.segment_of[m.main_id] not in chosen]
        main = rng.choice(candidates)
        chosen.append(net.segment_of[main.main_id])
        seg = net.segment_mains(main.main_id)
        start = as_of_midnight + int(start_h * 3600)
        out.append(
            Outage(
                outage_id=f"TS{n:04d}",
                kind=kind,
                status=status,
                reason=reason.format(dn=main.diameter_mm),
                start=start,
                est_restore=start + hours * 3600,
                main_ids=tuple(m.main_id for m in seg),
                ring=ring_around(seg),
                affected_accounts=0,
            )
        )
    return out
