"""The GIS client against literal esriJSON: error mapping, shapes, codes, paging and request building."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import orjson
import pytest

from backends.gis import where, wire
from backends.gis.client import GET_LIMIT, GisClient, service_path
from domain.enums import OutageKind, OutageStatus, PipeMaterial, PipeStatus
from domain.geo import GeoPoint
from infra.errors import BackendProtocolError, BackendServerError, InvalidRequest
from infra.http.config import BackendConfig

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, base_url: str = "http://gis.test") -> GisClient:
    return GisClient(BackendConfig("gis", base_url, timeout_s=2.0), transport=httpx.MockTransport(handler))


def esri(body: Any) -> Handler:
    """Always HTTP 200, as ArcGIS answers, whatever the body says."""
    return lambda request: httpx.Response(200, content=orjson.dumps(body))


def params_of(request: httpx.Request) -> dict[str, str]:
    """Query string and form body merged, as the server reads them."""
    params = dict(request.url.params)
    if request.method == "POST":
        params.update(parse_qsl(request.content.decode()))
    return params


def main_feature(oid: int, **attrs: Any) -> dict[str, Any]:
    base = {
        "OBJECTID": oid,
        "ASSET_NO": f"GS-{oid:06d}",
        "ROAD_NAME": "江滨大道",
        "MATERIAL": 1,
        "DIAMETER": 300,
        "INSTALL_DATE": 1294156800000,  # 2011-01-05 00:00 +08:00
        "PRESSURE_ZONE": "PZ1",
        "DMA": "DMA-11",
        "STATUS": 0,
        "LENGTH_M": 288.5,
    }
    path = [[120.1 + oid / 1000, 30.25], [120.103 + oid / 1000, 30.25]]
    return {"attributes": {**base, **attrs}, "geometry": {"paths": [path]}}


def feature_set(*features: dict[str, Any], exceeded: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"objectIdFieldName": "OBJECTID", "features": list(features)}
    if exceeded:
        body["exceededTransferLimit"] = True
    return body


async def test_a_rogue_domain_code_becomes_unknown_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    gis = client(esri(feature_set(main_feature(7, MATERIAL=9, STATUS=None))))
    with caplog.at_level(logging.WARNING):
        found = await gis.segments_by_object_id([7])
    await gis.aclose()
    segment = found[7]
    assert segment.material is PipeMaterial.UNKNOWN
    assert segment.status is PipeStatus.UNKNOWN
    raw = {(getattr(r, "table", None), getattr(r, "raw_code", None)) for r in caplog.records}
    assert ("pipe_material", "9") in raw
    assert ("pipe_status", "") in raw


async def test_a_main_maps_to_a_pipe_segment() -> None:
    gis = client(esri(feature_set(main_feature(7))))
    segment = (await gis.segments(["GS-000007"]))["GS-000007"]
    await gis.aclose()
    assert segment.object_id == 7 and segment.segment_id == "GS-000007"
    assert segment.material is PipeMaterial.DUCTILE_IRON and segment.status is PipeStatus.IN_SERVICE
    assert str(segment.installed_on) == "2011-01-05"  # local midnight, not the UTC day before
    assert segment.path == (GeoPoint(120.107, 30.25), GeoPoint(120.11, 30.25))
    assert segment.length_m == 288.5 and segment.diameter_mm == 300


async def test_date_only_fields_honour_chinas_summer_time() -> None:
    # 1991-07-22 00:00 in Asia/Shanghai was +09:00 (summer time 1986-1991): 1991-07-21T15:00Z.
    gis = client(esri(feature_set(main_feature(7, INSTALL_DATE=680108400000))))
    segment = (await gis.segments_by_object_id([7]))[7]
    await gis.aclose()
    assert str(segment.installed_on) == "1991-07-22"


@pytest.mark.parametrize(
    ("error", "expected", "vendor"),
    [
        (
            {"code": 400, "message": "Unable to complete operation.", "details": ["'where' bad"]},
            InvalidRequest,
            "400",
        ),
        (
            {"code": 500, "message": "Error performing query operation", "details": []},
            BackendServerError,
            "500",
        ),
        ({"code": 503, "message": "The service is busy"}, BackendServerError, "503"),
        ({"code": 498, "message": "Invalid token."}, BackendServerError, "498"),
        ({"code": 499, "message": "Token Required"}, BackendServerError, "499"),
        ({"code": "500"}, BackendProtocolError, None),
        ("boom", BackendProtocolError, None),
    ],
)
async def test_error_objects_inside_http_200_raise_what_they_mean(
    error: Any, expected: type[Exception], vendor: str | None
) -> None:
    gis = client(esri({"error": error}))
    with pytest.raises(expected) as caught:
        await gis.grids()
    await gis.aclose()
    assert type(caught.value) is expected
    assert getattr(caught.value, "vendor_code", None) == vendor


async def test_our_own_bad_query_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    gis = client(
        esri({"error": {"code": 400, "message": "x", "details": ["'outFields' parameter is invalid"]}})
    )
    with caplog.at_level(logging.WARNING, logger="tidegate.backends.gis"), pytest.raises(InvalidRequest):
        await gis.grids()
    await gis.aclose()
    assert any(getattr(r, "details", None) == ["'outFields' parameter is invalid"] for r in caplog.records)


@pytest.mark.parametrize(
    "content",
    [
        b'{"features": [{"attributes": {"OBJECTID": 1',  # cut short mid-stream
        b"<html><body>Proxy Error</body></html>",
        b"[]",
        b'{"objectIdFieldName": "OBJECTID"}',  # no features
        b'{"features": [{"geometry": {"x": 1, "y": 2}}]}',  # no attributes
        b'{"features": [], "exceededTransferLimit": "yes"}',
    ],
)
async def test_malformed_answers_are_protocol_errors(content: bytes) -> None:
    gis = client(lambda request: httpx.Response(200, content=content))
    with pytest.raises(BackendProtocolError):
        await gis.grids()
    await gis.aclose()


async def test_mistyped_attributes_and_geometry_are_protocol_errors() -> None:
    for feature in (
        main_feature(1, OBJECTID="1"),
        main_feature(1, DIAMETER=True),
        {**main_feature(1), "geometry": {"paths": [[[120.1, "30.25"], [120.2, 30.25]]]}},
        {"attributes": {"OBJECTID": 1}},  # attributes we asked for are missing
    ):
        gis = client(esri(feature_set(feature)))
        with pytest.raises(BackendProtocolError):
            await gis.segments_by_object_id([1])
        await gis.aclose()


async def test_http_failures_are_server_errors() -> None:
    gis = client(lambda request: httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(BackendServerError) as caught:
        await gis.grids()
    await gis.aclose()
    assert caught.value.vendor_code == "502"


async def test_paging_through_exceeded_transfer_limit_assembles_every_feature() -> None:
    offsets: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = params_of(request)
        offsets.append(params.get("resultOffset"))
        assert params["orderByFields"] == "OBJECTID ASC"
        if "resultOffset" not in params:
            body = feature_set(main_feature(1), main_feature(2), exceeded=True)
        else:
            assert params["resultOffset"] == "2"
            body = feature_set(main_feature(3))
        return httpx.Response(200, content=orjson.dumps(body))

    gis = client(handler)
    found = await gis.segments_near(GeoPoint(120.1, 30.25), 5000)
    await gis.aclose()
    assert offsets == [None, "2"]
    assert [s.object_id for s in found] == [1, 2, 3]  # nearest first


async def test_exceeded_on_an_empty_page_does_not_loop_forever() -> None:
    gis = client(esri(feature_set(exceeded=True)))
    with pytest.raises(BackendProtocolError):
        await gis.grids()
    await gis.aclose()


async def test_service_connections_query_shape_and_keys() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        feature = {
            "attributes": {"OBJECTID": 42, "ACCT_NO": "10000042", "MAIN_ID": 27, "GRID_CODE": "WG-02"},
            "geometry": {"x": 120.1203, "y": 30.25515},
        }
        return httpx.Response(200, content=orjson.dumps(feature_set(feature)))

    gis = client(handler)
    found = await gis.service_connections(["0010000042", "10000042", "not-an-account"])
    many = [f"{n:010d}" for n in range(10_000_000, 10_000_100)]
    await gis.service_connections(many)
    await gis.aclose()

    assert list(found) == ["0010000042"]
    assert found["0010000042"].main_object_id == 27 and found["0010000042"].grid_code == "WG-02"
    assert found["0010000042"].location == GeoPoint(120.1203, 30.25515)
    short, long = seen
    assert short.method == "GET" and long.method == "POST"
    assert short.url.path == "/arcgis/rest/services/Water/FeatureServer/2/query"
    assert long.headers["content-type"] == "application/x-www-form-urlencoded"
    for request in seen:
        params = params_of(request)
        assert params["f"] == "json" and params["outSR"] == "4490"
        assert params["outFields"] == "OBJECTID,ACCT_NO,MAIN_ID,GRID_CODE"
    assert params_of(short)["where"] == "ACCT_NO IN ('10000042')"
    assert params_of(long)["where"].count(",") == 99 and len(params_of(long)["where"]) > GET_LIMIT // 2


async def test_batch_limits_and_key_types_are_enforced_before_any_call() -> None:
    gis = client(lambda request: pytest.fail("no request expected"))
    with pytest.raises(ValueError):
        await gis.service_connections([str(10_000_000 + n) for n in range(101)])
    with pytest.raises(TypeError):
        await gis.segments("GS-000001")
    with pytest.raises(TypeError):
        await gis.segments_by_object_id(["1"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        await gis.segments_by_object_id([True])
    with pytest.raises(ValueError):
        await gis.segments_near(GeoPoint(120.1, 30.25), -1)
    assert await gis.service_connections([]) == {}
    assert await gis.segments_by_object_id([]) == {}
    await gis.aclose()


async def test_outage_filters_and_mapping() -> None:
    clauses: list[str] = []
    outage = {
        "attributes": {
            "OBJECTID": 1,
            "OUTAGE_ID": "TS0001",
            "OUTAGE_TYPE": 2,
            "STATUS": 1,
            "REASON": "爆管抢修",
            "START_TIME": 1795649400000,
            "EST_RESTORE": None,
            "MAIN_IDS": "9, 10,,x",
            "AFFECTED_CNT": 31,
        },
        "geometry": {"rings": [[[120.1, 30.25], [120.1, 30.26], [120.11, 30.26], [120.11, 30.25]]]},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        clauses.append(params_of(request)["where"])
        return httpx.Response(200, content=orjson.dumps(feature_set(outage)))

    gis = client(handler)
    (found,) = await gis.outages(active=True)
    await gis.outages(active=False)
    await gis.outages()
    await gis.aclose()
    assert clauses == ["STATUS IN (1)", "(STATUS IS NULL OR STATUS NOT IN (1))", "1=1"]
    assert (found.kind, found.status) == (OutageKind.EMERGENCY, OutageStatus.ACTIVE)
    assert found.starts_at is not None and found.starts_at.isoformat() == "2026-11-26T07:30:00+08:00"
    assert found.estimated_restore_at is None
    assert found.main_object_ids == (9, 10)
    assert found.area[0][0] == found.area[0][-1]  # closed before in_rings sees it
    assert found.covers(GeoPoint(120.105, 30.255)) and not found.covers(GeoPoint(120.2, 30.255))


def test_where_clauses_quote_text_and_refuse_non_ints() -> None:
    assert where.quote("O'Brien") == "'O''Brien'"
    assert where.in_text("ASSET_NO", ["GS-1", "x') OR 1=1 --"]) == "ASSET_NO IN ('GS-1','x'') OR 1=1 --')"
    assert where.in_text("ASSET_NO", []) == "1=0"
    assert where.in_ints("MAIN_ID", [3, 1]) == "MAIN_ID IN (3,1)"
    assert where.object_ids([1, 2, 3]) == "1,2,3"
    for bad in ("1", 1.0, True, "1 OR 1=1"):
        with pytest.raises(TypeError):
            where.in_ints("MAIN_ID", [bad])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        where.in_text("ACCT_NO = '' OR 1", ["x"])


def test_empty_geometries_are_data_not_errors() -> None:
    assert wire.point(None) is None
    assert wire.point({"x": "NaN", "y": "NaN"}) is None
    assert wire.path({"paths": None}) == ()
    assert wire.rings(None) == ()
    joined = wire.path({"paths": [[[1, 2], [3, 4]], [[3, 4], [5, 6]]]})
    assert joined == (GeoPoint(1, 2), GeoPoint(3, 4), GeoPoint(5, 6))


def test_the_service_path_is_added_unless_configured() -> None:
    assert service_path("http://127.0.0.1:8103") == "/arcgis/rest/services/Water/FeatureServer"
    assert service_path("https://gis.example/arcgis/rest/services/Water/FeatureServer/") == ""
