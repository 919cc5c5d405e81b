"""`GisPort`: the GIS client over the simulator and `InMemoryGis` answer alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest

from backends.gis.client import GisClient
from domain.enums import MainKind, OutageStatus, PipeStatus, SourceKind, ValveBoundary
from domain.geo import GeoPoint, metres_to_path
from domain.network import PAGE_MAX, Page
from domain.ports import GisPort
from infra.http.config import BackendConfig
from tests.conftest import Simulators
from tests.contracts import IMPLEMENTATIONS
from tests.fakes.gis import InMemoryGis
from tests.support.world import seeded_world

T = TypeVar("T")
FAR_AWAY = GeoPoint(121.5, 31.2)  # outside the district
RADIUS_M = 100


@dataclass(frozen=True)
class Known:
    """Accounts with their service points, mains and grids: what both implementations hold."""

    account_nos: tuple[str, ...]
    points: tuple[GeoPoint, ...]
    main_ids: tuple[int, ...]
    grid_codes: tuple[str, ...]


@pytest.fixture(scope="module")
def known() -> Known:
    accounts = seeded_world().accounts[::200][:8]
    return Known(
        tuple(a.account_no for a in accounts),
        tuple(GeoPoint(*a.service_point) for a in accounts),
        tuple(a.main_id for a in accounts),
        tuple(a.grid_code for a in accounts),
    )


async def read_all(fetch: Callable[[int, int], Awaitable[Page[T]]], limit: int) -> list[T]:
    """Every item of a paged layer, following `next_offset` to the end."""
    out: list[T] = []
    offset: int | None = 0
    while offset is not None:
        page = await fetch(offset, limit)
        out.extend(page.items)
        assert page.next_offset is None or page.next_offset > offset
        offset = page.next_offset
    return out


def _client(sims: Simulators) -> GisClient:
    return GisClient(BackendConfig("gis", sims["gis"].url, timeout_s=5.0))


@pytest.fixture(scope="module")
async def recorded(sims: Simulators, known: Known) -> InMemoryGis:
    """The fake's records, read once through the adapter (mains within three times the radius of each
    point, so the fake's own geometry decides what is near); grid areas from the world's rings."""
    client = _client(sims)
    try:
        connections = await client.service_connections(list(known.account_nos))
        mains = {s.object_id: s for p in known.points for s in await client.segments_near(p, 3 * RADIUS_M)}
        notices = await client.outages()
        grids = await client.grids()
        every_connection = await read_all(client.service_connection_page, PAGE_MAX)
        network = await read_all(client.network_mains, PAGE_MAX)
        valves = await read_all(client.valves, PAGE_MAX)
        sources = await client.water_sources()
    finally:
        await client.aclose()
    connections = {**{c.account_no: c for c in every_connection}, **connections}
    rings = {g.code: (tuple(GeoPoint(*p) for p in g.ring),) for g in seeded_world().grids}
    return InMemoryGis(
        connections=connections,
        mains=sorted(mains.values(), key=lambda s: s.object_id),
        notices=notices,
        grid_areas=[(grid, rings[grid.code]) for grid in grids],
        network=network,
        valve_list=valves,
        sources=sources,
    )


@pytest.fixture(params=IMPLEMENTATIONS)
async def port(
    request: pytest.FixtureRequest, clean_sims: Simulators, recorded: InMemoryGis
) -> AsyncIterator[GisPort]:
    if request.param == "fake":
        yield InMemoryGis(
            connections=dict(recorded.connections),
            mains=list(recorded.mains),
            notices=list(recorded.notices),
            grid_areas=list(recorded.grid_areas),
            network=list(recorded.network),
            valve_list=list(recorded.valve_list),
            sources=list(recorded.sources),
        )
        return
    client = _client(clean_sims)
    try:
        yield client
    finally:
        await client.aclose()


async def test_service_connections_are_keyed_by_account_and_unknown_ones_are_absent(
    port: GisPort, known: Known
) -> None:
    found = await port.service_connections([*known.account_nos, "0000000001"])
    assert set(found) == set(known.account_nos)
    for no, main_id, grid in zip(known.account_nos, known.main_ids, known.grid_codes, strict=True):
        assert (found[no].account_no, found[no].main_object_id, found[no].grid_code) == (no, main_id, grid)


async def test_more_keys_than_one_batch_are_refused(port: GisPort) -> None:
    with pytest.raises(ValueError):
        await port.service_connections([f"{n:010d}" for n in range(port.MAX_BATCH + 1)])
    with pytest.raises(ValueError):
        await port.segments_by_object_id(list(range(port.MAX_BATCH + 1)))


async def test_segments_by_asset_number_and_by_object_id_agree(port: GisPort, known: Known) -> None:
    by_oid = await port.segments_by_object_id([*known.main_ids, 99_999_999])
    assert set(by_oid) == set(known.main_ids)
    by_asset = await port.segments([s.segment_id for s in by_oid.values()] + ["GS-999999"])
    assert {s.object_id: s for s in by_asset.values()} == by_oid


async def test_mains_near_a_point_are_within_the_radius_nearest_first(port: GisPort, known: Known) -> None:
    for point, main_id in zip(known.points, known.main_ids, strict=True):
        near = await port.segments_near(point, RADIUS_M)
        distances = [metres_to_path(point, s.path) for s in near]
        assert main_id in {s.object_id for s in near}
        assert distances == sorted(distances) and distances[-1] <= RADIUS_M
    with pytest.raises(ValueError):
        await port.segments_near(known.points[0], -1)


async def test_active_and_other_outages_partition_all_of_them(port: GisPort) -> None:
    active, others, everything = await port.outages(True), await port.outages(False), await port.outages()
    assert active and all(o.status is OutageStatus.ACTIVE for o in active)
    assert not any(o.status is OutageStatus.ACTIVE for o in others)
    assert sorted(o.outage_id for o in active + others) == sorted(o.outage_id for o in everything)


async def test_the_grid_at_a_service_point_is_its_accounts_grid(port: GisPort, known: Known) -> None:
    for point, code in zip(known.points, known.grid_codes, strict=True):
        grid = await port.grid_at(point)
        assert grid is not None and grid.code == code and grid.worker is not None
    assert await port.grid_at(FAR_AWAY) is None


async def test_the_network_layers_read_in_pages_hold_the_seeded_network(port: GisPort) -> None:
    net = seeded_world().network
    mains = await read_all(port.network_mains, 100)
    assert [m.object_id for m in mains] == sorted(m.main_id for m in net.mains)
    want = {m.main_id: (m.asset_no, m.from_node, m.to_node) for m in net.mains}
    assert {m.object_id: (m.segment_id, m.from_node, m.to_node) for m in mains} == want
    assert {m.status for m in mains} == {PipeStatus.IN_SERVICE, PipeStatus.OUT_OF_SERVICE}
    assert {m.kind for m in mains} == {MainKind.DISTRIBUTION, MainKind.TRANSMISSION}
    valves = await read_all(port.valves, 100)
    ends = {m.object_id: {m.from_node, m.to_node} for m in mains}
    assert len(valves) == len(net.valves) and all(v.protected_node in ends[v.main_object_id] for v in valves)
    assert {v.object_id: (v.operable, v.currently_open) for v in valves} == {
        v.valve_id: (v.operable, v.currently_open) for v in net.valves
    }
    assert {v.boundary for v in valves} >= {
        ValveBoundary.NONE,
        ValveBoundary.DMA,
        ValveBoundary.PRESSURE_ZONE,
    }
    sources = await port.water_sources()
    assert {(s.node, s.main_object_ids) for s in sources} == {(s.node, s.main_ids) for s in net.sources}
    assert SourceKind.UNKNOWN not in {s.kind for s in sources}


async def test_every_service_connection_is_read_once_through_the_pages(port: GisPort) -> None:
    world = seeded_world()
    found = await read_all(port.service_connection_page, 700)
    assert len(found) == len({c.account_no for c in found}) == len(world.accounts)
    assert {c.account_no: c.main_object_id for c in found} == {
        a.account_no: a.main_id for a in world.accounts
    }


async def test_a_page_past_the_end_is_empty_and_bad_bounds_are_refused(port: GisPort) -> None:
    past = await port.network_mains(10_000, 10)
    assert past.items == () and past.next_offset is None
    for offset, limit in ((-1, 10), (0, 0), (0, PAGE_MAX + 1)):
        with pytest.raises(ValueError):
            await port.valves(offset, limit)
