"""The isolation trace on the seeded network, read through the real GIS adapter over the simulator.

Each case is checked against something the trace did not compute: the same graph with one valve
repaired, the simulator's own breadth-first walk (`simulators.world.network`), its seeded outages
(`VALVE_IDS`, `AFFECTED_CNT`), and wntr's `valve_segments` on the same valve layer for every main.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import networkx as nx
import pandas as pd
import pytest
from wntr.metrics.topographic import valve_segments

from backends.gis.client import GisClient
from domain.network_graph import NetworkGraph, Trace
from infra.http.config import BackendConfig
from services.isolation import build_graph
from tests.conftest import Simulators
from tests.support.world import seeded_world


@pytest.fixture(scope="module")
async def graph(sims: Simulators) -> NetworkGraph:
    client = GisClient(BackendConfig("gis", sims["gis"].url, timeout_s=10.0))
    try:
        return await build_graph(client)
    finally:
        await client.aclose()


@pytest.fixture(scope="module")
def traces(graph: NetworkGraph) -> dict[int, Trace]:
    """Every main's trace, once: several tests walk all of them."""
    return {main_id: graph.trace(main_id) for main_id in sorted(graph.mains)}


def _repaired(graph: NetworkGraph, valve_id: int) -> NetworkGraph:
    """The same network with one valve made operable again."""
    valves = [
        dataclasses.replace(v, operable=True) if v.object_id == valve_id else v for v in graph.valves.values()
    ]
    return NetworkGraph(graph.mains.values(), valves, graph.sources, graph.taps)


def test_the_graph_holds_every_layer_of_the_seeded_network(graph: NetworkGraph) -> None:
    net = seeded_world().network
    assert set(graph.mains) == {m.main_id for m in net.mains}
    assert set(graph.valves) == {v.valve_id for v in net.valves}
    assert {s.node for s in graph.sources} == {s.node for s in net.sources}
    tapped = sum(len(v) for v in graph.taps.values())
    assert tapped == len(seeded_world().accounts)


def test_an_inoperable_boundary_valve_enlarges_the_segment(
    graph: NetworkGraph, traces: dict[int, Trace]
) -> None:
    enlarged = [t for t in traces.values() if t.enlarged and t.growth[0].added_main_ids]
    assert enlarged, "the seeded network has inoperable boundary valves"
    trace = enlarged[0]
    step = trace.growth[0]
    assert not step.valve.operable and step.valve.currently_open
    assert set(trace.segment_main_ids) < set(trace.isolated_main_ids)
    assert set(step.added_main_ids) <= set(trace.isolated_main_ids) - set(trace.segment_main_ids)
    assert step.valve not in trace.valves_to_close
    # Repair that valve and the segment no longer grows through it: the valve is closed instead.
    repaired = _repaired(graph, step.valve.object_id).trace(trace.main_id)
    assert step.valve.object_id in {v.object_id for v in repaired.valves_to_close}
    assert not set(step.added_main_ids) & set(repaired.isolated_main_ids)


def test_closing_the_plans_valves_dries_the_whole_area(graph: NetworkGraph) -> None:
    """By the simulator's walk from the sources: no main of the area is fed once the valves close."""
    net = seeded_world().network
    by_id = {v.valve_id: v for v in net.valves}
    for main_id in sorted(graph.mains)[::5]:
        trace = graph.trace(main_id)
        closing = [by_id[v.object_id] for v in trace.valves_to_close]
        area = set(trace.isolated_main_ids)
        assert not net.fed_mains(closing=closing) & area
        assert trace.sealed


def test_downstream_mains_lose_supply_as_the_simulators_own_walk_finds(traces: dict[int, Trace]) -> None:
    """`cut_off` against the simulator's breadth-first walk from the sources, closing the plan's valves."""
    net = seeded_world().network
    by_id = {v.valve_id: v for v in net.valves}
    downstream = [t for t in traces.values() if t.cut_off_main_ids]
    assert downstream, "the seeded network has segments that feed others"
    for trace in downstream[:20]:
        closing = [by_id[v.object_id] for v in trace.valves_to_close]
        lost = net.fed_mains() - net.fed_mains(closing=closing) - set(trace.isolated_main_ids)
        assert tuple(sorted(lost)) == trace.cut_off_main_ids
        assert trace.sealed


def test_the_trace_agrees_with_the_simulators_seeded_outages(graph: NetworkGraph) -> None:
    """Each seeded outage shuts one segment: the same mains, valves and AFFECTED_CNT from our trace."""
    world = seeded_world()
    assert world.outages
    for outage in world.outages:
        trace = graph.trace(outage.main_ids[0])
        assert trace.out_main_ids == outage.main_ids
        assert tuple(v.object_id for v in trace.valves_to_close) == tuple(sorted(outage.valve_ids))
        assert len(graph.accounts_on(trace.out_main_ids)) == outage.affected_accounts


def _wntr_segments(graph: NetworkGraph, closable_only: bool) -> dict[int, int]:
    """Main id -> wntr's segment label, from `valve_segments` on the same mains and valve layer."""
    g = nx.MultiDiGraph()
    for m in graph.mains.values():
        g.add_edge(str(m.from_node), str(m.to_node), key=str(m.object_id))
    rows = [
        {"link": str(v.main_object_id), "node": str(v.protected_node)}
        for v in graph.valves.values()
        if not closable_only or v.operable or not v.currently_open
    ]
    _, links, _ = valve_segments(g, pd.DataFrame(rows, columns=["link", "node"]))
    return {int(name): int(label) for name, label in links.items()}


def _groups(labels: dict[int, int]) -> dict[int, frozenset[int]]:
    members: dict[int, set[int]] = defaultdict(set)
    for main_id, label in labels.items():
        members[label].add(main_id)
    return {m: frozenset(members[label]) for m, label in labels.items()}


def test_segments_and_isolated_areas_match_wntr_on_every_main(
    graph: NetworkGraph, traces: dict[int, Trace]
) -> None:
    """Nominal segments are wntr's with every valve; the isolated area is wntr's segment once the
    valves nobody can close are left out of the valve layer."""
    nominal = _groups(_wntr_segments(graph, closable_only=False))
    effective = _groups(_wntr_segments(graph, closable_only=True))
    assert set(nominal) == set(graph.mains)
    for main_id, trace in traces.items():
        assert frozenset(trace.segment_main_ids) == nominal[main_id], main_id
        assert frozenset(trace.isolated_main_ids) == effective[main_id], main_id
