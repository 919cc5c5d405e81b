"""The GIS simulator as a real process: ArcGIS FeatureServer semantics, checked against the seeded world."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date, datetime, time
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from simulators.world import World, build_world
from simulators.world.network import (
    MATERIALS,
    OUTAGE_KINDS,
    OUTAGE_STATUS,
    SOURCE_KINDS,
    VALVE_BOUNDARY,
    VALVE_TYPES,
)
from tests.support.processes import TEST_AS_OF, TEST_CUSTOMERS, TEST_SEED, SimProcess

BASE = "/arcgis/rest/services/Water/FeatureServer"
MAINS, VALVES, CONNECTIONS, GRIDS, OUTAGES, SOURCES, ZONES = range(7)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(TEST_SEED, TEST_CUSTOMERS, date.fromisoformat(TEST_AS_OF))


@pytest.fixture(scope="module")
def gis(sims: dict[str, SimProcess]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sims["gis"].url + BASE, timeout=30) as client:
        yield client


def query(client: httpx.Client, layer: int, **params: Any) -> dict[str, Any]:
    params.setdefault("f", "json")
    r = client.get(f"/{layer}/query", params=params)
    assert r.status_code == 200  # ArcGIS answers 200 even for errors
    body: dict[str, Any] = r.json()
    return body


def fetch_all(client: httpx.Client, layer: int, **params: Any) -> list[dict[str, Any]]:
    """Walk `resultOffset` until the server stops saying `exceededTransferLimit`."""
    out: list[dict[str, Any]] = []
    while True:
        body = query(client, layer, resultOffset=len(out), **params)
        assert "error" not in body, body
        out.extend(body["features"])
        if not body.get("exceededTransferLimit"):
            return out


def acct(account_no: str) -> str:
    """GIS keeps account numbers as text without billing's leading zeros."""
    return account_no.lstrip("0")


def details(body: dict[str, Any]) -> str:
    return " ".join(body["error"]["details"])


def test_service_lists_seven_layers_in_cgcs2000(gis: httpx.Client) -> None:
    body = gis.get("", params={"f": "json"}).json()
    assert body["spatialReference"] == {"wkid": 4490, "latestWkid": 4490}
    assert body["maxRecordCount"] == 1000
    assert [(x["id"], x["name"], x["geometryType"]) for x in body["layers"]] == [
        (0, "WaterMains", "esriGeometryPolyline"),
        (1, "Valves", "esriGeometryPoint"),
        (2, "ServiceConnections", "esriGeometryPoint"),
        (3, "Grids", "esriGeometryPolygon"),
        (4, "Outages", "esriGeometryPolygon"),
        (5, "WaterSources", "esriGeometryPoint"),
        (6, "PressureZones", "esriGeometryPolygon"),
    ]


def test_coded_values_are_explained_only_by_layer_domains(gis: httpx.Client, world: World) -> None:
    info = gis.get("/0", params={"f": "json"}).json()
    assert info["type"] == "Feature Layer" and info["objectIdField"] == "OBJECTID"
    assert info["maxRecordCount"] == 1000
    fields = {f["name"]: f for f in info["fields"]}
    assert fields["OBJECTID"]["type"] == "esriFieldTypeOID"
    assert fields["INSTALL_DATE"]["type"] == "esriFieldTypeDate"
    assert fields["LENGTH_M"]["type"] == "esriFieldTypeDouble"
    assert fields["ROAD_NAME"]["domain"] is None and fields["ROAD_NAME"]["length"] == 50
    material = fields["MATERIAL"]["domain"]
    assert material["type"] == "codedValue"
    labels = {cv["code"]: cv["name"] for cv in material["codedValues"]}
    assert labels == MATERIALS

    rows = fetch_all(gis, MAINS, where="1=1", outFields="OBJECTID,MATERIAL,STATUS", returnGeometry="false")
    by_id = {m.main_id: m for m in world.network.mains}
    assert len(rows) == len(by_id)
    for row in rows:
        a = row["attributes"]
        assert isinstance(a["MATERIAL"], int)  # the raw code, never the label
        assert a["MATERIAL"] == by_id[a["OBJECTID"]].material
        assert labels[a["MATERIAL"]] == MATERIALS[by_id[a["OBJECTID"]].material]

    def domain(layer: int, field: str) -> dict[int, str]:
        fs = {f["name"]: f for f in gis.get(f"/{layer}", params={"f": "json"}).json()["fields"]}
        return {cv["code"]: cv["name"] for cv in fs[field]["domain"]["codedValues"]}

    assert domain(VALVES, "VALVE_TYPE") == VALVE_TYPES
    assert domain(OUTAGES, "OUTAGE_TYPE") == OUTAGE_KINDS
    assert domain(OUTAGES, "STATUS") == OUTAGE_STATUS


def test_query_by_object_ids(gis: httpx.Client, world: World) -> None:
    body = query(gis, CONNECTIONS, objectIds="3,1,2,999999", outFields="*")
    assert [f["attributes"]["OBJECTID"] for f in body["features"]] == [1, 2, 3]
    for feature in body["features"]:
        a = feature["attributes"]
        account = world.accounts[a["OBJECTID"] - 1]
        assert a["ACCT_NO"] == acct(account.account_no) != account.account_no
        assert (a["MAIN_ID"], a["GRID_CODE"], a["DN"]) == (
            account.main_id,
            account.grid_code,
            account.meter_size_mm,
        )
        assert feature["geometry"] == {"x": account.service_point[0], "y": account.service_point[1]}
    assert "exceededTransferLimit" not in body


def test_where_with_in_and_like_and_case_insensitive_fields(gis: httpx.Client, world: World) -> None:
    picked = world.accounts[10:60]
    keys = ",".join(f"'{acct(a.account_no)}'" for a in picked)
    body = query(
        gis, CONNECTIONS, where=f"acct_no IN ({keys}) AND Grid_Code LIKE 'WG-%'", outFields="ACCT_NO"
    )
    assert sorted(f["attributes"]["ACCT_NO"] for f in body["features"]) == sorted(
        acct(a.account_no) for a in picked
    )
    # The billing spelling with leading zeros finds nothing: the key quirk is real.
    zeros = query(gis, CONNECTIONS, where=f"ACCT_NO = '{picked[0].account_no}'", returnCountOnly="true")
    assert zeros == {"count": 0}

    mains = sorted({a.main_id for a in world.accounts})[:5]
    where = f"MAIN_ID IN ({','.join(map(str, mains))}) AND DN >= 20 AND NOT GRID_CODE LIKE 'WG-1_'"
    expected = [
        a for a in world.accounts if a.main_id in mains and a.meter_size_mm >= 20 and a.grid_code < "WG-10"
    ]
    assert query(gis, CONNECTIONS, where=where, returnCountOnly="true") == {"count": len(expected)}


def test_point_buffer_finds_the_mains_near_a_service_connection(gis: httpx.Client, world: World) -> None:
    for account in world.accounts[:: len(world.accounts) // 8]:
        x, y = account.service_point
        near = query(
            gis,
            MAINS,
            geometry=f"{x},{y}",
            geometryType="esriGeometryPoint",
            distance=50,
            units="esriSRUnit_Meter",
            outFields="OBJECTID,DIAMETER",
            returnGeometry="false",
        )
        ids = {f["attributes"]["OBJECTID"] for f in near["features"]}
        assert account.main_id in ids
        wider = query(
            gis,
            MAINS,
            geometry=json.dumps({"x": x, "y": y, "spatialReference": {"wkid": 4490}}),
            geometryType="esriGeometryPoint",
            distance=0.6,
            units="esriSRUnit_Kilometer",
            returnIdsOnly="true",
        )
        assert ids < set(wider["objectIds"])
    # POST form-encoded works the same as GET.
    x, y = world.accounts[0].service_point
    form = {
        "f": "json",
        "geometry": f"{x},{y}",
        "geometryType": "esriGeometryPoint",
        "distance": "50",
        "units": "esriSRUnit_Meter",
        "returnIdsOnly": "true",
    }
    posted = gis.post(f"/{MAINS}/query", data=form).json()
    assert world.accounts[0].main_id in posted["objectIds"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"where": "FOO BAR (("}, "'where' parameter is invalid"),
        ({"where": "DN = "}, "'where' parameter is invalid"),
        ({"where": "ACCT_NO = 10000008"}, "'where' parameter is invalid"),
        ({"where": "UPPER(ACCT_NO) = 'X'"}, "'where' parameter is invalid"),
        ({"where": "1=1", "outFields": "ACCT_NO,NOPE"}, "'outFields' parameter is invalid"),
        ({"where": "1=1", "orderByFields": "DN SIDEWAYS"}, "'orderByFields' parameter is invalid"),
        ({"objectIds": "1,two"}, "'objectIds' parameter is invalid"),
        ({"geometry": "{not json"}, "'geometry' parameter is invalid"),
        ({"geometry": '{"x": 120.1, "y": 30.2}'}, "'geometry' parameter is invalid"),  # not an envelope
        ({"geometry": "120.1,30.2", "geometryType": "esriGeometryPoint", "inSR": "2385"}, "'inSR'"),
        ({"where": "1=1", "resultOffset": "-5"}, "'resultOffset' parameter is invalid"),
        ({"where": "1=1", "outStatistics": '[{"statisticType": "count"}]'}, "not supported"),
        ({"where": "1=1", "f": "html"}, "'f' parameter is invalid"),
        ({"where": "1=1", "f": "geojsonx"}, "'f' parameter is invalid"),
    ],
)
def test_bad_parameters_answer_an_error_object_with_http_200(
    gis: httpx.Client, params: dict[str, str], expected: str
) -> None:
    body = query(gis, CONNECTIONS, **params)
    assert set(body) == {"error"}
    assert body["error"]["code"] == 400
    assert body["error"]["message"] in (
        "Unable to complete operation.",
        "Invalid or missing input parameters.",
    )
    assert expected in details(body)


def test_unknown_layers_and_urls_are_error_objects(gis: httpx.Client) -> None:
    for path in ("/9/query", "/9", "/abc/query"):
        r = gis.get(path, params={"f": "json", "where": "1=1"})
        assert r.status_code == 200
        assert r.json()["error"]["code"] == 400
        assert r.json()["error"]["message"] == "Invalid or missing input parameters."
    assert gis.get("/0", params={"f": "json"}).json()["id"] == 0
    assert "error" in gis.get("/0", params={}).json()  # no f: ArcGIS would send HTML


def test_paging_walks_every_connection_exactly_once(gis: httpx.Client, world: World) -> None:
    total = query(gis, CONNECTIONS, where="1=1", returnCountOnly="true")["count"]
    assert total == len(world.accounts) > 1000
    first = query(gis, CONNECTIONS, where="1=1", outFields="OBJECTID")
    assert len(first["features"]) == 1000
    assert first["exceededTransferLimit"] is True
    rows = fetch_all(gis, CONNECTIONS, where="1=1", outFields="OBJECTID,ACCT_NO", returnGeometry="false")
    ids = [f["attributes"]["OBJECTID"] for f in rows]
    assert len(ids) == len(set(ids)) == total
    assert ids == sorted(ids)
    assert {f["attributes"]["ACCT_NO"] for f in rows} == {acct(a.account_no) for a in world.accounts}
    # A smaller page and an explicit order still walk everything exactly once.
    ordered = fetch_all(
        gis,
        CONNECTIONS,
        where="1=1",
        outFields="OBJECTID,GRID_CODE",
        orderByFields="GRID_CODE DESC",
        resultRecordCount=700,
    )
    codes = [f["attributes"]["GRID_CODE"] for f in ordered]
    assert len({f["attributes"]["OBJECTID"] for f in ordered}) == total
    assert codes == sorted(codes, reverse=True)
    ids_only = query(gis, CONNECTIONS, where="1=1", returnIdsOnly="true")
    assert len(ids_only["objectIds"]) == total  # ids are not capped by maxRecordCount


def test_dates_are_epoch_ms_and_geometries_are_esri_json(gis: httpx.Client, world: World) -> None:
    main = world.network.mains[0]
    body = query(gis, MAINS, objectIds=str(main.main_id), outFields="INSTALL_DATE")
    assert body["spatialReference"]["wkid"] == 4490
    assert body["geometryType"] == "esriGeometryPolyline"
    (feature,) = body["features"]
    local_midnight = datetime.combine(main.install_date, time(), SHANGHAI)
    assert feature["attributes"]["INSTALL_DATE"] == int(local_midnight.timestamp() * 1000)
    assert feature["geometry"] == {"paths": [[list(p) for p in main.path]]}

    outages = fetch_all(gis, OUTAGES, where="1=1", outFields="*")
    assert len(outages) == len(world.outages)
    for feature, outage in zip(outages, world.outages, strict=True):
        a = feature["attributes"]
        assert a["OUTAGE_ID"] == outage.outage_id
        assert (a["START_TIME"], a["EST_RESTORE"]) == (outage.start * 1000, outage.est_restore * 1000)
        assert a["MAIN_IDS"] == ",".join(map(str, outage.main_ids))
        ring = feature["geometry"]["rings"][0]
        assert ring[0] == ring[-1] and {tuple(p) for p in ring} == set(outage.ring)
        area2 = sum(p[0] * q[1] - q[0] * p[1] for p, q in pairwise(ring))
        assert area2 < 0  # esriJSON exterior rings run clockwise

    valves = query(gis, VALVES, where="OBJECTID <= 3", outFields="*", outSR="102100")
    assert valves["spatialReference"] == {"wkid": 102100, "latestWkid": 3857}
    assert all(f["geometry"]["x"] > 1e7 for f in valves["features"])  # Web Mercator metres


def test_every_connection_lies_in_the_grid_it_carries(gis: httpx.Client, world: World) -> None:
    grids = fetch_all(gis, GRIDS, where="1=1", outFields="GRID_CODE,WORKER_ID,WORKER_NAME,WORKER_MOBILE")
    assert len(grids) == len(world.grids)
    seen: dict[str, str] = {}
    for grid in grids:
        code = grid["attributes"]["GRID_CODE"]
        assert grid["attributes"]["WORKER_ID"] == world.grid_by_code[code].worker.worker_id
        inside = fetch_all(
            gis,
            CONNECTIONS,
            geometry=json.dumps(grid["geometry"]),
            geometryType="esriGeometryPolygon",
            spatialRel="esriSpatialRelContains",
            outFields="ACCT_NO,GRID_CODE",
            returnGeometry="false",
        )
        for f in inside:
            assert f["attributes"]["GRID_CODE"] == code
            assert f["attributes"]["ACCT_NO"] not in seen
            seen[f["attributes"]["ACCT_NO"]] = code
    assert seen == {acct(a.account_no): a.grid_code for a in world.accounts}

    # Point queries find exactly one grid, even for points on a shared grid edge.
    edges_x = {g.ring[0][0] for g in world.grids}
    on_edge = [a for a in world.accounts if a.service_point[0] in edges_x]
    for account in [*on_edge[:10], *world.accounts[:: len(world.accounts) // 20]]:
        x, y = account.service_point
        for rel in ("esriSpatialRelIntersects", "esriSpatialRelWithin"):
            hit = query(
                gis,
                GRIDS,
                geometry=f"{x},{y}",
                geometryType="esriGeometryPoint",
                spatialRel=rel,
                outFields="GRID_CODE",
                returnGeometry="false",
            )
            assert [f["attributes"]["GRID_CODE"] for f in hit["features"]] == [account.grid_code]


def test_active_outage_counts_the_connections_on_its_traced_mains(gis: httpx.Client, world: World) -> None:
    fields = "OUTAGE_ID,MAIN_IDS,AFFECTED_CNT,STATUS,VALVE_IDS"
    active = query(gis, OUTAGES, where="STATUS = 1", outFields=fields)
    assert active["features"]
    assert {f["attributes"]["OUTAGE_ID"] for f in active["features"]} == {
        o.outage_id for o in world.outages if o.status == 1
    }
    for outage in active["features"]:
        main_ids = [int(i) for i in outage["attributes"]["MAIN_IDS"].split(",")]
        contained = fetch_all(
            gis,
            CONNECTIONS,
            geometry=json.dumps(outage["geometry"]),
            geometryType="esriGeometryPolygon",
            spatialRel="esriSpatialRelContains",
            outFields="ACCT_NO,MAIN_ID",
            returnGeometry="false",
        )
        on_mains = fetch_all(
            gis, CONNECTIONS, where=f"MAIN_ID IN ({','.join(map(str, main_ids))})", outFields="ACCT_NO"
        )
        tapped = {f["attributes"]["ACCT_NO"] for f in on_mains}
        # AFFECTED_CNT counts the connections on the traced mains, not whoever the polygon covers.
        assert len(tapped) == outage["attributes"]["AFFECTED_CNT"] > 0
        assert tapped <= {f["attributes"]["ACCT_NO"] for f in contained}
        assert tapped == {acct(a.account_no) for a in world.accounts if a.main_id in main_ids}
        # The valves to close sit on the edge of those mains, open and operable.
        valve_ids = outage["attributes"]["VALVE_IDS"]
        shut = query(gis, VALVES, objectIds=valve_ids, outFields="MAIN_ID,PROT_NODE,CURRENT_POS,OPERABLE")
        assert len(shut["features"]) == len(valve_ids.split(","))
        ends = fetch_all(gis, MAINS, objectIds=",".join(map(str, main_ids)), outFields="FROM_NODE,TO_NODE")
        nodes = {a["attributes"][k] for a in ends for k in ("FROM_NODE", "TO_NODE")}
        for f in shut["features"]:
            a = f["attributes"]
            assert (a["CURRENT_POS"], a["OPERABLE"]) == (1, 1)
            assert a["MAIN_ID"] in main_ids or a["PROT_NODE"] in nodes


def test_mains_and_valves_carry_the_network_topology(gis: httpx.Client, world: World) -> None:
    mains = fetch_all(gis, MAINS, where="1=1", outFields="OBJECTID,FROM_NODE,TO_NODE,STATUS,MAIN_TYPE")
    ends = {f["attributes"]["OBJECTID"]: f["attributes"] for f in mains}
    for m in world.network.mains:
        a = ends[m.main_id]
        assert (a["FROM_NODE"], a["TO_NODE"], a["STATUS"], a["MAIN_TYPE"]) == (
            m.from_node,
            m.to_node,
            m.status,
            m.main_type,
        )
    valves = fetch_all(gis, VALVES, where="1=1", outFields="*", returnGeometry="false")
    assert len(valves) == len(world.network.valves)
    for f in valves:
        a = f["attributes"]
        assert a["PROT_NODE"] in (ends[a["MAIN_ID"]]["FROM_NODE"], ends[a["MAIN_ID"]]["TO_NODE"])
    info = {x["name"]: x for x in gis.get(f"/{VALVES}", params={"f": "json"}).json()["fields"]}
    assert info["PROT_NODE"]["type"] == "esriFieldTypeInteger"
    labels = {cv["code"]: cv["name"] for cv in info["BOUNDARY"]["domain"]["codedValues"]}
    assert labels == VALVE_BOUNDARY
    # Zone boundary valves are normally closed; the where clause serves the new fields too.
    zone_edge = query(gis, VALVES, where="BOUNDARY = 2", outFields="NORMAL_POS", returnGeometry="false")
    assert zone_edge["features"] and {f["attributes"]["NORMAL_POS"] for f in zone_edge["features"]} == {0}
    shut = query(gis, VALVES, where="NORMAL_POS = 0 AND BOUNDARY = 0", returnCountOnly="true")
    assert shut == {"count": 0}
    inoperable = query(gis, VALVES, where="OPERABLE = 0", returnCountOnly="true")["count"]
    assert 0.05 < inoperable / len(valves) < 0.15


def test_sources_and_pressure_zones_answer_like_any_layer(gis: httpx.Client, world: World) -> None:
    info = gis.get(f"/{SOURCES}", params={"f": "json"}).json()
    fields = {f["name"]: f for f in info["fields"]}
    assert {cv["code"]: cv["name"] for cv in fields["SOURCE_TYPE"]["domain"]["codedValues"]} == SOURCE_KINDS
    sources = fetch_all(gis, SOURCES, where="1=1", outFields="*", orderByFields="CAPACITY DESC")
    assert [f["attributes"]["NAME"] for f in sources] == [
        s.name for s in sorted(world.network.sources, key=lambda s: -s.capacity_m3d)
    ]
    works = query(gis, SOURCES, where="SOURCE_TYPE = 1 AND NAME LIKE '%水厂'", outFields="NAME,MAIN_IDS")
    assert len(works["features"]) == 1
    for f in sources:
        a = f["attributes"]
        outlet = query(gis, MAINS, objectIds=a["MAIN_IDS"], outFields="FROM_NODE,TO_NODE,MAIN_TYPE")
        for m in outlet["features"]:
            assert a["NODE_ID"] in (m["attributes"]["FROM_NODE"], m["attributes"]["TO_NODE"])
            assert m["attributes"]["MAIN_TYPE"] == 2
        # Every source lies in the pressure zone it feeds: a point query finds exactly that zone.
        hit = query(
            gis,
            ZONES,
            geometry=json.dumps(f["geometry"]),
            geometryType="esriGeometryPoint",
            outFields="ZONE_CODE,SOURCE_IDS",
            returnGeometry="false",
        )
        (zone,) = hit["features"]
        assert zone["attributes"]["ZONE_CODE"] == a["PRESSURE_ZONE"]
        assert str(a["OBJECTID"]) in zone["attributes"]["SOURCE_IDS"].split(",")
    zones = fetch_all(gis, ZONES, where="1=1", outFields="ZONE_CODE", resultRecordCount=2)
    assert [f["attributes"]["ZONE_CODE"] for f in zones] == [z.code for z in world.network.zones]
    # Mains inside a zone's polygon carry that zone's code.
    zone = zones[0]
    inside = fetch_all(
        gis,
        MAINS,
        geometry=json.dumps(zone["geometry"]),
        geometryType="esriGeometryPolygon",
        spatialRel="esriSpatialRelContains",
        outFields="PRESSURE_ZONE",
        returnGeometry="false",
    )
    assert inside and {f["attributes"]["PRESSURE_ZONE"] for f in inside} == {zone["attributes"]["ZONE_CODE"]}


def test_injected_errors_are_esri_error_objects(clean_sims: dict[str, SimProcess]) -> None:
    url = clean_sims["gis"].url
    httpx.patch(f"{url}/_sim/faults", json={"error_rate": 1.0}).raise_for_status()
    r = httpx.get(f"{url}{BASE}/2/query", params={"f": "json", "where": "1=1", "returnCountOnly": "true"})
    assert r.status_code == 200
    assert r.json() == {"error": {"code": 500, "message": "Error performing query operation", "details": []}}
    info = httpx.get(f"{url}{BASE}/2", params={"f": "json"})
    assert info.status_code == 200 and info.json()["error"]["code"] == 500
    stats = httpx.get(f"{url}/_sim/stats").json()
    assert stats["operations"]["query:2"]["errors"] == 1
    assert stats["errors_by_kind"] == {"injected_error": 2}


def test_hangs_and_a_full_pool_answer_error_objects(clean_sims: dict[str, SimProcess], world: World) -> None:
    url = clean_sims["gis"].url
    params = {"f": "json", "where": "1=1", "returnCountOnly": "true"}
    httpx.patch(f"{url}/_sim/faults", json={"timeout_rate": 1.0, "hang_ms": 10}).raise_for_status()
    assert httpx.get(f"{url}{BASE}/2/query", params=params).json()["error"]["code"] == 500

    slow = {
        "timeout_rate": 0.0,
        "pool_size": 1,
        "pool_timeout_ms": 100,
        "ops": {"query:2": {"latency_ms": 2000}},
    }
    httpx.patch(f"{url}/_sim/faults", json=slow).raise_for_status()

    async def both() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            answers = await asyncio.gather(*(client.get(f"{BASE}/2/query", params=params) for _ in range(2)))
        return [a.json() for a in answers]

    answers = asyncio.run(both())
    assert {"count": len(world.accounts)} in answers
    (busy,) = [a for a in answers if "error" in a]
    assert busy["error"]["code"] == 503 and "busy" in busy["error"]["message"]
    assert httpx.get(f"{url}/_sim/stats").json()["errors_by_kind"] == {"timeout": 1, "pool_exhausted": 1}


def test_garbled_answers_are_cut_short(clean_sims: dict[str, SimProcess]) -> None:
    url = clean_sims["gis"].url
    httpx.patch(f"{url}/_sim/faults", json={"garble_rate": 1.0}).raise_for_status()
    r = httpx.get(f"{url}{BASE}/2/query", params={"f": "json", "where": "1=1", "outFields": "*"})
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_batch_sizes_show_in_stats(clean_sims: dict[str, SimProcess]) -> None:
    url = clean_sims["gis"].url
    httpx.get(f"{url}{BASE}/2/query", params={"f": "json", "objectIds": ",".join(map(str, range(1, 51)))})
    keys = ",".join(f"'{n}'" for n in range(7))
    httpx.get(f"{url}{BASE}/2/query", params={"f": "json", "where": f"ACCT_NO IN ({keys})"})
    op = httpx.get(f"{url}/_sim/stats").json()["operations"]["query:2"]
    assert op["batch_sizes"] == [50, 7]


def _edit(client: httpx.Client, layer: int, **params: str) -> dict[str, Any]:
    r = client.post(f"/{layer}/applyEdits", data={"f": "json", **params})
    assert r.status_code == 200  # ArcGIS answers 200 even for errors
    body: dict[str, Any] = r.json()
    return body


def test_apply_edits_takes_only_the_outage_layer_and_no_deletes(gis: httpx.Client) -> None:
    feature = json.dumps([{"attributes": {"ASSET_NO": "GS-X"}, "geometry": {"paths": [[[0, 0], [1, 1]]]}}])
    assert _edit(gis, 0, adds=feature)["error"]["code"] == 400
    assert _edit(gis, 4, deletes="1")["error"]["code"] == 400
    assert _edit(gis, 4, adds="not json")["error"]["code"] == 400


def test_a_bad_outage_feature_fails_alone_and_changes_nothing(gis: httpx.Client) -> None:
    before = query(gis, 4, where="1=1", returnCountOnly="true")["count"]
    ring = [[118.78, 32.04], [118.781, 32.04], [118.781, 32.041], [118.78, 32.04]]
    existing = query(gis, 4, where="1=1", outFields="OUTAGE_ID")["features"][0]["attributes"]["OUTAGE_ID"]
    bad = [
        {"attributes": {"OUTAGE_ID": "TG-X-1", "NO_SUCH": 1}, "geometry": {"rings": [ring]}},
        {"attributes": {"OUTAGE_ID": "TG-X-2", "STATUS": 7}, "geometry": {"rings": [ring]}},
        {"attributes": {"OUTAGE_ID": "TG-X-3"}, "geometry": {"rings": [[[1, 1], [1, 1], [1, 1]]]}},
        {"attributes": {"OUTAGE_ID": existing}, "geometry": {"rings": [ring]}},
    ]
    body = _edit(gis, 4, adds=json.dumps(bad))
    assert [r["success"] for r in body["addResults"]] == [False] * 4
    assert [r["error"]["code"] for r in body["addResults"]] == [1000, 1000, 1000, 1019]
    update = _edit(gis, 4, updates=json.dumps([{"attributes": {"OBJECTID": 99999, "STATUS": 2}}]))
    assert update["updateResults"][0]["success"] is False
    assert query(gis, 4, where="1=1", returnCountOnly="true")["count"] == before
