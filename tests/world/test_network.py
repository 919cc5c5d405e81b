"""The simulated pipe network, read as a water engineer would: a valve-isolation trace (关阀分析) over
it must be possible and not trivial. Independent checks here walk the network on their own."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from datetime import date
from functools import lru_cache

import orjson
import pytest

from simulators.world import DEFAULT_CUSTOMERS, DEFAULT_SEED, World, build_world
from simulators.world.model import Main, Valve
from simulators.world.network import DEFAULT_INOPERABLE_SHARE, metres_between
from tests.support.processes import ROOT
from tests.support.world import seeded_world

AS_OF = date(2026, 11, 26)
# Valve segments of the in-service distribution network that serve nobody, at the default size.
EMPTY_SEGMENT_SHARE = 0.02


@lru_cache(maxsize=1)
def district() -> World:
    """The demo's district at its default size (the test simulators serve a smaller one)."""
    return build_world(DEFAULT_SEED, DEFAULT_CUSTOMERS, AS_OF)


def digest(world: World) -> str:
    net = world.network
    parts: list[object] = [
        world.customers,
        world.accounts,
        world.grids,
        world.outages,
        world.work_orders,
        sorted(net.points.items()),
        net.mains,
        net.valves,
        net.sources,
        net.zones,
    ]
    return hashlib.sha256(b"".join(orjson.dumps(p) for p in parts)).hexdigest()


def test_same_seed_same_bytes_in_any_process_and_another_seed_differs() -> None:
    a, b = build_world(7, 300, AS_OF), build_world(7, 300, AS_OF)
    assert digest(a) == digest(b)
    assert a.network.mains == b.network.mains and a.network.valves == b.network.valves
    # Another interpreter with another string-hash seed builds the very same bytes.
    code = (
        "from datetime import date; from simulators.world import build_world; "
        "from tests.world.test_network import digest; "
        "print(digest(build_world(7, 300, date(2026, 11, 26))))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == digest(a)
    c = build_world(8, 300, AS_OF)
    assert digest(c) != digest(a)
    assert c.network.valves != a.network.valves


def _live(world: World) -> list[Main]:
    return [m for m in world.network.mains if m.status == 0]


def test_mains_carry_from_and_to_nodes_and_valves_a_protected_end() -> None:
    net = seeded_world().network
    for m in net.mains:
        assert m.from_node != m.to_node
        assert m.path == (net.points[m.from_node], net.points[m.to_node])
    mains = net.main_by_id
    seen: set[tuple[int, int]] = set()
    for v in net.valves:
        main = mains[v.main_id]
        assert v.node in (main.from_node, main.to_node), "the protected node is an end of its main"
        assert (v.main_id, v.node) not in seen, "one valve per main end"
        seen.add((v.main_id, v.node))
        assert metres_between(v.location, net.points[v.node]) <= 31.0
    # Irregular spacing: valves are not all the same distance from their node.
    gaps = {round(metres_between(v.location, net.points[v.node])) for v in net.valves}
    assert len(gaps) > 20
    per_main = Counter(v.main_id for v in net.valves)
    assert max(per_main.values()) == 2 and sum(n == 2 for n in per_main.values()) > 30
    junctions = set(net.junctions.values())
    mid_block = [v for v in net.valves if v.node not in junctions and not v.boundary]
    assert len(mid_block) > 50, "mid-block valves on long stretches"
    # Two to four mains between junctions, so lengths vary.
    lengths = [m.length_m for m in _live(seeded_world()) if m.main_type == 1]
    assert min(lengths) < 150 < 300 < max(lengths)


@pytest.mark.parametrize("share", [DEFAULT_INOPERABLE_SHARE, 0.25, 0.0])
def test_the_inoperable_share_follows_the_option(share: float) -> None:
    world = seeded_world() if share == DEFAULT_INOPERABLE_SHARE else build_world(4242, 50, AS_OF, share)
    valves = world.network.valves
    found = sum(not v.operable for v in valves) / len(valves)
    assert abs(found - share) < 0.035, found
    with pytest.raises(ValueError):
        build_world(4242, 50, AS_OF, 1.5)


def test_normally_closed_valves_sit_on_zone_and_dma_boundaries() -> None:
    net = seeded_world().network
    mains = net.main_by_id
    closed = [v for v in net.valves if not v.normally_open]
    assert closed and all(v.boundary for v in closed), "no normally-closed valve inside a DMA"
    for node, kind in net.boundary_nodes.items():
        at_node = [v for v in net.valves if v.node == node]
        assert len(at_node) == 1, "one valve at every boundary"
        (valve,) = at_node
        assert valve.boundary == kind
        sides = [mains[m] for m in net.incident[node] if mains[m].status == 0]
        assert len(sides) == 2
        assert sides[0].dma != sides[1].dma
        if kind == 2:
            assert sides[0].pressure_zone != sides[1].pressure_zone
            assert not valve.normally_open and not valve.currently_open, "zone boundaries stay shut"
        else:
            assert sides[0].pressure_zone == sides[1].pressure_zone
    # DMAs are closed but for their inlets; every DMA is fed, some through two.
    assert sum(v.boundary == 1 and not v.normally_open for v in net.valves) > 10
    assert sum(v.boundary == 1 and v.normally_open for v in net.valves) >= 10


def _fed(world: World, sources: Iterable[int], shut: set[tuple[int, int]], gone: set[int]) -> set[int]:
    """Mains reached from the source nodes, never through a shut (main, node) or a removed main."""
    net = world.network
    mains = net.main_by_id
    nodes = set(sources)
    queue = deque(nodes)
    fed: set[int] = set()
    while queue:
        node = queue.popleft()
        for mid in net.incident[node]:
            if mid in fed or mid in gone or (mid, node) in shut or mains[mid].status != 0:
                continue
            fed.add(mid)
            for end in (mains[mid].from_node, mains[mid].to_node):
                if end not in nodes and (mid, end) not in shut:
                    nodes.add(end)
                    queue.append(end)
    return fed


def _shut(valves: Iterable[Valve]) -> set[tuple[int, int]]:
    return {(v.main_id, v.node) for v in valves if not v.currently_open}


def test_every_in_service_main_is_fed_from_a_source_of_its_own_zone() -> None:
    world = seeded_world()
    net = world.network
    live = {m.main_id for m in _live(world)}
    assert {s.pressure_zone for s in net.sources} == {z.code for z in net.zones}
    assert {s.kind for s in net.sources} == {1, 2, 3, 4}
    assert _fed(world, (s.node for s in net.sources), _shut(net.valves), set()) == live
    for zone in net.zones:
        assert zone.source_ids
        nodes = [s.node for s in net.sources if s.source_id in zone.source_ids]
        reached = _fed(world, nodes, _shut(net.valves), set())
        assert reached == {m for m in live if net.main_by_id[m].pressure_zone == zone.code}
    for source in net.sources:
        for mid in source.main_ids:
            main = net.main_by_id[mid]
            assert source.node in (main.from_node, main.to_node) and main.main_type == 2


def test_out_of_service_mains_are_capped_and_feed_nobody() -> None:
    world = seeded_world()
    net = world.network
    dead = [m for m in net.mains if m.status != 0]
    assert dead
    tapped = {a.main_id for a in world.accounts}
    for m in dead:
        assert m.main_id not in tapped
        assert net.incident[m.from_node] == net.incident[m.to_node] == [m.main_id]
    big = district()
    assert all(big.network.main_by_id[a.main_id].status == 0 for a in big.accounts)


def test_both_sides_of_every_street_and_north_south_mains_carry_customers() -> None:
    world = district()
    net = world.network
    sides: dict[tuple[str, int], set[int]] = defaultdict(set)
    for a in world.accounts:
        front = a.premises.frontage
        sides[(front.road.name, front.road.index)].add(front.side)
    for road, found in sides.items():
        assert found == ({1} if road == ("江滨大道", 0) else {1, -1}), road  # the river's side is water
    ns = [m for m in _live(world) if m.road.axis == "ns" and m.main_type == 1]
    per_main = Counter(a.main_id for a in world.accounts)
    assert all(per_main[m.main_id] > 0 for m in ns)
    # Valve segments of the distribution network that serve nobody: a small share at most.
    served: dict[int, int] = defaultdict(int)
    for m in _live(world):
        if m.main_type == 1:
            served[net.segment_of[m.main_id]] += per_main[m.main_id]
    empty = [seg for seg, n in served.items() if n == 0]
    assert len(empty) <= EMPTY_SEGMENT_SHARE * len(served)
    axis = Counter(net.main_by_id[a.main_id].road.axis for a in world.accounts)
    assert axis["ns"] > 0.3 * len(world.accounts) and axis["ew"] > 0.3 * len(world.accounts)


@pytest.mark.parametrize("build", [seeded_world, district], ids=["test-world", "default-world"])
def test_affected_cnt_is_what_the_trace_cuts_off(build: Callable[[], World]) -> None:
    world = build()
    net = world.network
    valves = {v.valve_id: v for v in net.valves}
    everything = {m.main_id for m in _live(world)}
    for outage in world.outages:
        traces = [t for m in outage.main_ids if (t := net.trace(m)).main_ids == outage.main_ids]
        assert traces, f"{outage.outage_id}: no segment of it traces to its mains"
        trace = traces[0]
        assert trace.valves == outage.valve_ids
        shut = [valves[v] for v in outage.valve_ids]
        assert all(v.operable and v.currently_open for v in shut)
        # Close them (as the crew would) and walk from the sources: exactly the outage's mains go dry.
        closed = _shut(net.valves) | {(v.main_id, v.node) for v in shut}
        fed = _fed(world, (s.node for s in net.sources), closed, set())
        assert everything - fed == set(outage.main_ids)
        tapped = sum(a.main_id in outage.main_ids for a in world.accounts)
        assert outage.affected_accounts == tapped > 0
    assert len({net.segment_of[o.main_ids[0]] for o in world.outages}) == len(world.outages)
