"""The GIS client against the real simulator process, checked against the seeded world."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends.gis.client import GisClient
from backends.gis.tables import DEFAULT_PATH
from domain.enums import OutageKind, OutageStatus, PipeMaterial, PipeStatus
from domain.geo import GeoPoint, metres_to_path
from domain.timestamps import SHANGHAI as CST
from infra.errors import BackendProtocolError, BackendServerError, BackendTimeout, InvalidRequest
from infra.http.config import BackendConfig
from tests.support.processes import SimProcess
from tests.support.world import seeded_world

Sims = dict[str, SimProcess]


def gis_client(sims: Sims, timeout_s: float = 5.0, tables_path: Path | None = None) -> GisClient:
    return GisClient(BackendConfig("gis", sims["gis"].url, timeout_s=timeout_s), tables_path=tables_path)


def stats(sims: Sims) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{sims['gis'].url}/_sim/stats").json()
    return body


def set_faults(sims: Sims, faults: dict[str, Any]) -> None:
    httpx.patch(f"{sims['gis'].url}/_sim/faults", json=faults).raise_for_status()


async def test_one_query_fetches_a_hundred_service_connections(clean_sims: Sims) -> None:
    world = seeded_world()
    picked = world.accounts[200:300]
    gis = gis_client(clean_sims)
    found = await gis.service_connections([a.account_no for a in picked])
    await gis.aclose()

    query = stats(clean_sims)["operations"]["query:2"]
    assert (query["requests"], query["batch_sizes"]) == (1, [100])
    assert set(found) == {a.account_no for a in picked}
    assert all(key.startswith("00") and len(key) == 10 for key in found)
    for account in picked:
        connection = found[account.account_no]
        assert connection.grid_code == account.grid_code
        assert connection.main_object_id == account.main_id
        assert connection.location == GeoPoint(*account.service_point)


async def test_mains_near_a_service_connection_include_its_own_nearest_first(sims: Sims) -> None:
    world = seeded_world()
    gis = gis_client(sims)
    for account in world.accounts[:: len(world.accounts) // 10]:
        here = GeoPoint(*account.service_point)
        near = await gis.segments_near(here, 100)
        assert account.main_id in {s.object_id for s in near}
        distances = [metres_to_path(here, s.path) for s in near]
        assert distances == sorted(distances)
        assert distances[0] <= 100
    await gis.aclose()


async def test_active_outages_are_the_planned_and_the_emergency_one(sims: Sims) -> None:
    world = seeded_world()
    expected = {o.outage_id: o for o in world.outages if o.status == 1}
    gis = gis_client(sims)
    active = await gis.outages(active=True)
    others = await gis.outages(active=False)
    everything = await gis.outages()
    await gis.aclose()

    assert {o.outage_id for o in active} == set(expected) and len(active) == 2
    assert {o.kind for o in active} == {OutageKind.PLANNED, OutageKind.EMERGENCY}
    assert all(o.status is OutageStatus.ACTIVE for o in active)
    assert {o.outage_id for o in active} | {o.outage_id for o in others} == {o.outage_id for o in everything}
    assert len(everything) == len(world.outages) and not any(o.status is OutageStatus.ACTIVE for o in others)
    for outage in active:
        seed = expected[outage.outage_id]
        assert outage.starts_at is not None and outage.estimated_restore_at is not None
        assert outage.starts_at.utcoffset() == timedelta(hours=8)
        assert outage.starts_at == datetime.fromtimestamp(seed.start, CST)
        assert outage.estimated_restore_at == datetime.fromtimestamp(seed.est_restore, CST)
        assert outage.main_object_ids == seed.main_ids
        affected = [a for a in world.accounts if a.main_id in seed.main_ids]
        assert affected
        assert all(outage.covers(GeoPoint(*a.service_point)) for a in affected)


async def test_segments_by_asset_number_and_by_object_id_agree(sims: Sims) -> None:
    world = seeded_world()
    mains = world.network.mains[100:200]
    gis = gis_client(sims)
    by_asset = await gis.segments([m.asset_no for m in mains])
    by_oid = await gis.segments_by_object_id([m.main_id for m in mains])
    await gis.aclose()

    assert len(by_asset) == len(by_oid) == 100
    for main in mains:
        segment = by_asset[main.asset_no]
        assert segment == by_oid[main.main_id]
        assert segment.installed_on == main.install_date
        assert segment.path == tuple(GeoPoint(*p) for p in main.path)
        assert segment.material is not PipeMaterial.UNKNOWN and segment.status is not PipeStatus.UNKNOWN


async def test_grid_at_a_service_point_is_the_accounts_grid_with_its_worker(sims: Sims) -> None:
    world = seeded_world()
    gis = gis_client(sims)
    for account in world.accounts[:: len(world.accounts) // 10]:
        grid = await gis.grid_at(GeoPoint(*account.service_point))
        seed = world.grid_by_code[account.grid_code]
        assert grid is not None and grid.code == account.grid_code and grid.name == seed.name
        assert grid.worker is not None
        assert (grid.worker.worker_id, grid.worker.name, grid.worker.mobile, grid.worker.grid_code) == (
            seed.worker.worker_id,
            seed.worker.name,
            seed.worker.mobile,
            seed.code,
        )
    assert await gis.grid_at(GeoPoint(121.5, 31.2)) is None  # far outside the district
    grids = await gis.grids()
    await gis.aclose()
    assert [g.code for g in grids] == [g.code for g in world.grids]


async def test_a_field_name_the_server_does_not_know_is_our_invalid_request(
    sims: Sims, tmp_path: Path
) -> None:
    renamed = tmp_path / "codes.yaml"
    renamed.write_text(DEFAULT_PATH.read_text(encoding="utf-8").replace("GRID_NAME", "GRID_LABEL"))
    gis = gis_client(sims, tables_path=renamed)
    with pytest.raises(InvalidRequest) as caught:
        await gis.grids()
    await gis.aclose()
    assert caught.value.vendor_code == "400" and "outFields" in caught.value.message


@pytest.mark.parametrize(
    ("faults", "timeout_s", "expected"),
    [
        ({"error_rate": 1.0}, 5.0, BackendServerError),
        ({"garble_rate": 1.0}, 5.0, BackendProtocolError),
        ({"ops": {"query:2": {"latency_ms": 500}}}, 0.2, BackendTimeout),
    ],
)
async def test_injected_faults_surface_as_backend_errors(
    clean_sims: Sims, faults: dict[str, Any], timeout_s: float, expected: type[Exception]
) -> None:
    account = seeded_world().accounts[0]
    set_faults(clean_sims, faults)
    gis = gis_client(clean_sims, timeout_s=timeout_s)
    with pytest.raises(expected):
        await gis.service_connections([account.account_no])
    await gis.aclose()
