"""The GIS client: ArcGIS FeatureServer `/query` calls in, domain records out.

One method is one logical call: batch lookups go out as one query (≤ MAX_BATCH keys), and a
result past `maxRecordCount` is paged with `resultOffset` inside the same total deadline.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import orjson

from backends.gis import mapping, where, wire
from backends.gis.tables import GisTables, Kind, load_tables
from backends.gis.wire import Feature
from domain.drafts import OutageDraft
from domain.enums import OutageStatus
from domain.geo import GeoPoint, metres_to_path
from domain.network import PAGE_MAX, NetworkMain, Page, Valve, WaterSource
from domain.records import Grid, Outage, PipeSegment, ServiceConnection
from infra.errors import BackendProtocolError, BackendTimeout, InvalidRequest, NotFound
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig
from infra.http.exchange import Answer
from infra.http.form import form_encode
from infra.resilience.guards import GuardState
from infra.telemetry import NO_TELEMETRY, BackendTelemetry

SERVICE_PATH = "/arcgis/rest/services/Water/FeatureServer"
WKID = "4490"  # CGCS2000: what the layers are drawn in and what GeoPoint means
T = TypeVar("T")
GET_LIMIT = 1800  # longer query strings go as a form POST (proxies cap URLs near 2 KB)
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # never changed: merged into a copy


def service_path(base_url: str) -> str:
    """The FeatureServer path under `base_url`, unless the configured URL already points at it."""
    return "" if urlsplit(base_url).path.rstrip("/").endswith("/FeatureServer") else SERVICE_PATH


def _page_args(offset: int, limit: int) -> None:
    for name, value, low, high in (("offset", offset, 0, 10**9), ("limit", limit, 1, PAGE_MAX)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an int from {low} to {high}, got {value!r}")


def _keys(values: Sequence[str] | Sequence[int], what: str, limit: int) -> None:
    if isinstance(values, str | bytes):
        raise TypeError(f"{what}: expected a sequence of keys, got a single string")
    if len(set(values)) > limit:
        raise ValueError(f"{what}: at most {limit} keys per call, got {len(set(values))}")


def _edit_code(result: dict[str, Any]) -> int | None:
    error = result.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) else None


def _paged(items: list[T], offset: int, more: bool) -> Page[T]:
    return Page(tuple(items), offset + len(items) if more else None)


class GisClient:
    name = "gis"
    MAX_BATCH = 100

    def __init__(
        self,
        config: BackendConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        tables_path: Path | None = None,
        telemetry: BackendTelemetry = NO_TELEMETRY,
    ) -> None:
        self.tables: GisTables = load_tables(tables_path)  # fail fast, before any connection
        self.config = config
        self._http = BackendHttp(config, transport, telemetry=telemetry)
        self._service = service_path(config.base_url)

    async def service_connections(self, account_nos: Sequence[str]) -> dict[str, ServiceConnection]:
        """Keyed by the canonical 10-digit 户号; accounts the GIS does not know are simply absent."""
        _keys(account_nos, "service_connections", self.MAX_BATCH)
        wanted = sorted({w for w in map(mapping.wire_account, account_nos) if w is not None})
        if not wanted:
            return {}
        clause = where.in_text(self.tables.field("connection", "account_no"), wanted)
        out: dict[str, ServiceConnection] = {}
        for feature in await self._query("connection", {"where": clause}):
            found = mapping.connection(feature, self.tables)
            if found is not None:
                out.setdefault(found.account_no, found)
        return out

    async def segments_by_object_id(self, object_ids: Sequence[int]) -> dict[int, PipeSegment]:
        _keys(object_ids, "segments_by_object_id", self.MAX_BATCH)
        ids = where.object_ids(sorted(set(object_ids)))
        if not ids:
            return {}
        features = await self._query("segment", {"objectIds": ids})
        return {s.object_id: s for s in (mapping.segment(f, self.tables) for f in features)}

    async def segments(self, segment_ids: Sequence[str]) -> dict[str, PipeSegment]:
        """By asset number (ASSET_NO, e.g. "GS-000205")."""
        _keys(segment_ids, "segments", self.MAX_BATCH)
        wanted = sorted({s.strip() for s in segment_ids if s.strip()})
        if not wanted:
            return {}
        clause = where.in_text(self.tables.field("segment", "segment_id"), wanted)
        features = await self._query("segment", {"where": clause})
        return {s.segment_id: s for s in (mapping.segment(f, self.tables) for f in features)}

    async def segments_near(self, point: GeoPoint, radius_m: int) -> list[PipeSegment]:
        """Mains within `radius_m` of the point, nearest first (ties by object id, so stable)."""
        if isinstance(radius_m, bool) or not isinstance(radius_m, int) or radius_m < 0:
            raise ValueError(f"radius_m must be a non-negative int, got {radius_m!r}")
        params = {**self._at(point), "distance": str(radius_m), "units": "esriSRUnit_Meter"}
        found = [mapping.segment(f, self.tables) for f in await self._query("segment", params)]
        return sorted(found, key=lambda s: (metres_to_path(point, s.path), s.object_id))

    async def outages(self, active: bool | None = None) -> list[Outage]:
        """True: in progress now; False: everything else (scheduled, restored, ...); None: all."""
        clause = where.EVERYTHING
        if active is not None:
            status = self.tables.field("outage", "status")
            codes = self.tables.raw_codes("outage_status", OutageStatus.ACTIVE)
            clause = where.in_ints(status, codes) if active else where.not_in_ints(status, codes)
        features = await self._query("outage", {"where": clause})
        return [mapping.outage(f, self.tables) for f in features]

    async def outage(self, outage_id: str) -> Outage | None:
        """One notice by its OUTAGE_ID, whatever its status; None when the layer has none."""
        if not outage_id.strip() or len(outage_id) > 40:
            return None
        clause = where.in_text(self.tables.field("outage", "outage_id"), [outage_id])
        features = await self._query("outage", {"where": clause})
        return mapping.outage(features[0], self.tables) if features else None

    async def publish_outage(self, draft: OutageDraft) -> Outage:
        """Add the notice with `applyEdits` (never retried: a write). OUTAGE_ID is unique on the layer:
        an add under one already there fails with the unique-index error, and the feature already
        drawn (read back) is the answer, whoever drew it."""
        result = await self._edit("adds", mapping.outage_feature(draft, self.tables))
        if not result.get("success"):
            found = await self.outage(draft.outage_id)
            if found is None or _edit_code(result) != wire.DUPLICATE_KEY:
                raise InvalidRequest(
                    self.name, f"applyEdits refused the outage: {result.get('error')!r:.200}"
                )
            return found
        return await self._read_back(draft.outage_id)

    async def set_outage_status(self, outage_id: str, status: OutageStatus) -> Outage:
        """Change a notice's STATUS (`applyEdits` update by its object id); NotFound for none."""
        object_id = await self._outage_object_id(outage_id)
        attrs = {
            self.tables.field("outage", "object_id"): object_id,
            self.tables.field("outage", "status"): self.tables.raw_codes("outage_status", status)[0],
        }
        result = await self._edit("updates", {"attributes": attrs})
        if not result.get("success"):
            raise InvalidRequest(self.name, f"applyEdits refused the update: {result.get('error')!r:.200}")
        return await self._read_back(outage_id)

    async def _outage_object_id(self, outage_id: str) -> int:
        clause = where.in_text(self.tables.field("outage", "outage_id"), [outage_id])
        features = await self._query("outage", {"where": clause, "returnGeometry": "false"})
        if not features:
            raise NotFound(self.name, f"no outage {outage_id!r}")
        return wire.Attrs(features[0].attributes).req_int(self.tables.field("outage", "object_id"))

    async def _read_back(self, outage_id: str) -> Outage:
        found = await self.outage(outage_id)
        if found is None:
            raise BackendProtocolError(self.name, f"applyEdits succeeded but {outage_id} is not on the layer")
        return found

    async def _edit(self, kind: str, feature: dict[str, Any]) -> dict[str, Any]:
        """One feature through `applyEdits`; its one result object."""
        path = f"{self._service}/{self.tables.layer('outage')}/applyEdits"
        params = {"f": "json", kind: orjson.dumps([feature]).decode(), "rollbackOnFailure": "false"}

        def parse(response: Answer) -> dict[str, Any]:
            return wire.edit_result(
                wire.decode(response.status_code, response.content), f"{kind[:-1]}Results"
            )

        return await self._http.fetch("POST", path, parse, idempotent=False, data=params)

    async def grid_at(self, point: GeoPoint) -> Grid | None:
        """The grid the point lies in; grid edges are half-open on the server, so at most one."""
        features = await self._query("grid", {**self._at(point), "returnGeometry": "false"})
        return mapping.grid(features[0], self.tables) if features else None

    async def grids(self) -> list[Grid]:
        features = await self._query("grid", {"where": where.EVERYTHING, "returnGeometry": "false"})
        return [mapping.grid(f, self.tables) for f in features]

    def guard_state(self) -> GuardState:
        """This client's breaker, bulkhead and rate budget now (for the supervisor's board)."""
        return self._http.guard_state()

    def share(self, replicas: int) -> None:
        """This replica's part of the fleet's bulkhead and rate budget (`infra.fleet`)."""
        self._http.share(replicas)

    # -- the network layers, read in pages for the isolation trace -------------------------------

    async def network_mains(self, offset: int, limit: int) -> Page[NetworkMain]:
        """Mains with their end nodes, in object-id order, `limit` (≤ PAGE_MAX) from `offset`."""
        features, more = await self._one_page("main", offset, limit, geometry=False)
        return _paged([mapping.network_main(f, self.tables) for f in features], offset, more)

    async def valves(self, offset: int, limit: int) -> Page[Valve]:
        features, more = await self._one_page("valve", offset, limit, geometry=True)
        return _paged([mapping.valve(f, self.tables) for f in features], offset, more)

    async def service_connection_page(self, offset: int, limit: int) -> Page[ServiceConnection]:
        """Every connection in object-id order (several may share an account: the first counts)."""
        features, more = await self._one_page("connection", offset, limit, geometry=True)
        found = [c for c in (mapping.connection(f, self.tables) for f in features) if c is not None]
        return Page(tuple(found), offset + len(features) if more else None)

    async def water_sources(self) -> list[WaterSource]:
        """Every source: a handful, read in one query."""
        features = await self._query("source", {"where": where.EVERYTHING, "returnGeometry": "false"})
        return [mapping.water_source(f, self.tables) for f in features]

    async def _one_page(
        self, kind: Kind, offset: int, limit: int, *, geometry: bool
    ) -> tuple[tuple[Feature, ...], bool]:
        """One page in object-id order, and whether more follow (a full page or the server saying so)."""
        _page_args(offset, limit)
        params = {
            "f": "json",
            "where": where.EVERYTHING,
            "outSR": WKID,
            "outFields": self.tables.out_fields(kind),
            "orderByFields": f"{self.tables.field(kind, 'object_id')} ASC",
            "returnGeometry": "true" if geometry else "false",
            "resultOffset": str(offset),
            "resultRecordCount": str(limit),
        }
        path = f"{self._service}/{self.tables.layer(kind)}/query"
        page = await self._page(path, params, time.monotonic() + self.config.timeout_s)
        return page.features, page.exceeded or len(page.features) >= limit

    async def aclose(self) -> None:
        await self._http.aclose()

    @staticmethod
    def _at(point: GeoPoint) -> dict[str, str]:
        return {
            "geometry": f"{point.lon!r},{point.lat!r}",
            "geometryType": "esriGeometryPoint",
            "inSR": WKID,
            "spatialRel": "esriSpatialRelIntersects",
        }

    async def _query(self, kind: Kind, params: Mapping[str, str]) -> list[Feature]:
        """Every feature the query matches, paging past maxRecordCount within one deadline."""
        base = {
            "f": "json",
            "outSR": WKID,
            "outFields": self.tables.out_fields(kind),
            "orderByFields": f"{self.tables.field(kind, 'object_id')} ASC",  # stable pages
            **params,
        }
        path = f"{self._service}/{self.tables.layer(kind)}/query"
        deadline = time.monotonic() + self.config.timeout_s
        out: list[Feature] = []
        while True:
            page = await self._page(path, {**base, "resultOffset": str(len(out))} if out else base, deadline)
            out.extend(page.features)
            if not page.exceeded:
                return out
            if not page.features:
                raise BackendProtocolError(self.name, "exceededTransferLimit on an empty page")

    async def _page(self, path: str, params: dict[str, str], deadline: float) -> wire.FeaturePage:
        budget = deadline - time.monotonic()
        if budget <= 0:
            raise BackendTimeout(self.name, "paging ran past the deadline")

        def parse(response: Answer) -> wire.FeaturePage:
            return wire.feature_page(wire.decode(response.status_code, response.content))

        query = form_encode(params)  # measured for the GET limit, and sent as it is (encoded once)
        if len(query) <= GET_LIMIT:
            return await self._http.fetch("GET", path, parse, query=query, timeout_s=budget)
        return await self._http.fetch(
            "POST", path, parse, idempotent=True, content=query.encode(), headers=_FORM, timeout_s=budget
        )
