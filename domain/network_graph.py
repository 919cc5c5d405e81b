"""The valve-isolation trace (关阀分析) over the network's topology, with networkx doing the graph work.

The model is the one utility GIS carries: mains join at nodes, and a valve sits on one main next to
one of its ends, its protected node. Closing a valve cuts exactly that (main, node) incidence. So:

- the *pipe graph* has a vertex per main and per node, and an edge per (main, end node);
- a *valve segment* is a connected part of the pipe graph once every valved edge is removed
  (a segment may hold no main: a junction valved on every side);
- the *segment graph* has a vertex per segment and an edge per valve between two segments.

A trace for main M starts from M's segment. A boundary valve that cannot be turned (inoperable and
open) does not stop water, so the area grows through it into the next segment, and on until every
valve on the edge of the area can be closed or already is (a breadth-first walk over the segment
graph's "cannot close" edges; each step is reported). Closing the open, operable boundary valves
isolates the area; then every main no source still reaches through open valves loses water too
(the downstream effect). A source delivering straight into the area leaves it unsealed.

Building is linear in the network's size (a few connected-component passes); one trace is a walk
over the segment graph plus one reachability pass from the sources.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from domain.enums import PipeStatus
from domain.network import NetworkMain, Valve, WaterSource

Vertex = tuple[str, int]  # ("m", main object id) or ("n", node id)


def _m(main_id: int) -> Vertex:
    return ("m", main_id)


def _n(node: int) -> Vertex:
    return ("n", node)


@dataclass(frozen=True, slots=True)
class Growth:
    """One step of an enlarged isolation: `valve` cannot be closed, so the segment behind it joins."""

    valve: Valve
    from_segment: int
    added_segment: int
    added_main_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Trace:
    """What isolating one main takes and does. Main ids are GIS object ids, sorted."""

    main_id: int
    segment_main_ids: tuple[int, ...]  # the valve segment holding the main
    isolated_main_ids: tuple[int, ...]  # that segment plus what inoperable valves add
    growth: tuple[Growth, ...]
    valves_to_close: tuple[Valve, ...]  # open, operable valves on the isolated area's edge
    already_closed: tuple[Valve, ...]  # boundary valves that stand closed already
    cut_off_main_ids: tuple[int, ...]  # mains no source reaches once the valves are closed
    sealed: bool  # False: a source delivers straight into the area, closing valves cannot dry it

    @property
    def enlarged(self) -> bool:
        return bool(self.growth)

    @property
    def out_main_ids(self) -> tuple[int, ...]:
        """Every main left without water: the isolated area and what it cuts off."""
        return tuple(sorted({*self.isolated_main_ids, *self.cut_off_main_ids}))


def _cannot_close(valve: Valve) -> bool:
    """Water passes a valve that stands open and cannot be turned."""
    return valve.currently_open and not valve.operable


class NetworkGraph:
    """The pipe graph, its valve segments and the segment graph, built once from the GIS layers."""

    def __init__(
        self,
        mains: Iterable[NetworkMain],
        valves: Iterable[Valve],
        sources: Iterable[WaterSource],
        taps: Mapping[int, Sequence[str]] | None = None,
    ) -> None:
        self.mains = {m.object_id: m for m in mains}
        self.by_asset = {m.segment_id: m.object_id for m in self.mains.values()}
        ends = {(m.object_id, node) for m in self.mains.values() for node in (m.from_node, m.to_node)}
        # A valve naming a main or node the mains layer does not join is GIS noise: it cuts nothing.
        self.valves = {v.object_id: v for v in valves if (v.main_object_id, v.protected_node) in ends}
        self.sources = tuple(sources)
        self.taps: dict[int, tuple[str, ...]] = {k: tuple(v) for k, v in (taps or {}).items()}
        valves_at: dict[tuple[int, int], list[Valve]] = defaultdict(list)
        for v in self.valves.values():
            valves_at[(v.main_object_id, v.protected_node)].append(v)
        self._valves_at = dict(valves_at)

        pipes = nx.Graph()
        for m in self.mains.values():
            pipes.add_node(_m(m.object_id))
            for node in (m.from_node, m.to_node):
                pipes.add_edge(_m(m.object_id), _n(node))
        self.pipes = pipes

        unvalved = nx.Graph()
        unvalved.add_nodes_from(pipes.nodes)
        unvalved.add_edges_from((a, b) for a, b in pipes.edges if self._at(a, b) == [])
        self.segment_of: dict[Vertex, int] = {}
        self.segment_mains: dict[int, tuple[int, ...]] = {}
        for index, part in enumerate(
            sorted(nx.connected_components(unvalved), key=lambda c: min(c))  # stable numbering
        ):
            for vertex in part:
                self.segment_of[vertex] = index
            self.segment_mains[index] = tuple(sorted(v[1] for v in part if v[0] == "m"))

        segments = nx.MultiGraph()
        segments.add_nodes_from(self.segment_mains)
        for (main_id, node), here in self._valves_at.items():
            a, b = self.segment_of[_m(main_id)], self.segment_of[_n(node)]
            if a != b:
                for v in here:
                    segments.add_edge(a, b, key=v.object_id, valve=v)
        self.segments = segments

        # Where water can flow: in-service mains, through open valves. Compressed once into the
        # parts no valve divides (`reaches`), joined by the open valved links between them, so a
        # trace walks a few hundred parts rather than every main and node.
        inside = nx.Graph()
        inside.add_nodes_from(_n(s.node) for s in self.sources)
        links: list[tuple[Vertex, Vertex, tuple[int, int]]] = []
        for a, b in pipes.edges:
            main_id = a[1] if a[0] == "m" else b[1]
            if self.mains[main_id].status is not PipeStatus.IN_SERVICE:
                continue
            here = self._at(a, b)
            if not here:
                inside.add_edge(a, b)
            elif all(v.currently_open for v in here):
                inside.add_nodes_from((a, b))
                links.append((a, b, (main_id, here[0].protected_node)))
        part_of: dict[Vertex, int] = {}
        self._part_mains: dict[int, tuple[int, ...]] = {}
        for index, part in enumerate(nx.connected_components(inside)):
            for vertex in part:
                part_of[vertex] = index
            self._part_mains[index] = tuple(v[1] for v in part if v[0] == "m")
        reaches = nx.MultiGraph()
        reaches.add_nodes_from(self._part_mains)
        self._link_parts = {pair: (part_of[here], part_of[there]) for here, there, pair in links}
        for pair, (one, other) in self._link_parts.items():
            reaches.add_edge(one, other, key=pair)
        self._reaches = reaches
        self._source_parts = {part_of[_n(s.node)] for s in self.sources}
        self.fed_main_ids = self._fed(frozenset())

    def _at(self, a: Vertex, b: Vertex) -> list[Valve]:
        main_id, node = (a[1], b[1]) if a[0] == "m" else (b[1], a[1])
        return self._valves_at.get((main_id, node), [])

    def _fed(self, closing: frozenset[tuple[int, int]]) -> frozenset[int]:
        """Mains a source reaches through open valves, with the (main, node) links in `closing` shut."""
        shut = [(*self._link_parts[pair], pair) for pair in closing if pair in self._link_parts]
        # The links are taken out and put back around one synchronous walk (nothing else can run
        # in between): a filtered view or a copy of the graph costs ten times the walk itself.
        self._reaches.remove_edges_from(shut)
        try:
            reached: set[int] = set()
            for start in self._source_parts:
                if start not in reached:
                    reached |= nx.node_connected_component(self._reaches, start)
        finally:
            self._reaches.add_edges_from(shut)
        return frozenset(m for part in reached for m in self._part_mains[part])

    def unfed_after_closing(self, valve_ids: Iterable[int]) -> frozenset[int]:
        """In-service mains that lose their source once these valves close (an outage's closures,
        as the GIS records them); valves the network does not hold are ignored."""
        links = frozenset(
            (v.main_object_id, v.protected_node) for v in (self.valves.get(i) for i in valve_ids) if v
        )
        return self.fed_main_ids - self._fed(links)

    def segment_of_main(self, main_id: int) -> int:
        return self.segment_of[_m(main_id)]

    def segments_at(self, valve_id: int) -> tuple[int, int]:
        """The two valve segments a valve separates (its main's side, its protected node's side)."""
        v = self.valves[valve_id]
        return self.segment_of[_m(v.main_object_id)], self.segment_of[_n(v.protected_node)]

    def mains_at_node(self, node: int) -> tuple[int, ...]:
        """The mains joined at a node (GIS node id)."""
        vertex = _n(node)
        return tuple(v[1] for v in self.pipes.neighbors(vertex)) if vertex in self.pipes else ()

    def main_id(self, asset_no: str) -> int | None:
        return self.by_asset.get(asset_no)

    def trace(self, main_id: int) -> Trace:
        """Isolate the main's segment; KeyError for a main the network does not hold."""
        if main_id not in self.mains:
            raise KeyError(main_id)
        start = self.segment_of[_m(main_id)]

        def passable(a: int, b: int, key: int) -> bool:
            return _cannot_close(self.valves[key])

        leaky: Any = nx.subgraph_view(self.segments, filter_edge=passable)
        area = {start}
        growth: list[Growth] = []
        for a, b in nx.bfs_edges(leaky, start):
            area.add(b)
            data = self.segments.get_edge_data(a, b)
            valve = min((d["valve"] for d in data.values() if _cannot_close(d["valve"])), key=_oid)
            growth.append(Growth(valve, a, b, self.segment_mains[b]))

        edges = self.segments.edges(area, data=True)
        boundary = sorted({d["valve"] for a, b, d in edges if (a in area) != (b in area)}, key=_oid)
        to_close = tuple(v for v in boundary if v.currently_open and v.operable)
        closed = tuple(v for v in boundary if not v.currently_open)
        isolated = frozenset(m for s in area for m in self.segment_mains[s])
        after = self._fed(frozenset((v.main_object_id, v.protected_node) for v in to_close))
        return Trace(
            main_id=main_id,
            segment_main_ids=self.segment_mains[start],
            isolated_main_ids=tuple(sorted(isolated)),
            growth=tuple(growth),
            valves_to_close=to_close,
            already_closed=closed,
            cut_off_main_ids=tuple(sorted(self.fed_main_ids - after - isolated)),
            sealed=not (isolated & after),
        )

    def accounts_on(self, main_ids: Iterable[int]) -> tuple[str, ...]:
        """The accounts whose service connection taps one of the mains, in main then account order."""
        return tuple(no for m in sorted(set(main_ids)) for no in self.taps.get(m, ()))

    @property
    def size(self) -> int:
        return int(self.pipes.number_of_nodes() + self.pipes.number_of_edges())


def _oid(valve: Valve) -> int:
    return valve.object_id
