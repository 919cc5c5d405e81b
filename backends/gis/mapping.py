"""Pure translation from GIS features to domain records: attribute names, codes, keys and dates.

The GIS keeps 户号 as text without billing's leading zeros ("10000042" for "0010000042"); both
directions of that translation live here so no other module learns the quirk.
"""

from __future__ import annotations

import logging
from itertools import pairwise
from typing import Any

from backends.gis import wire
from backends.gis.tables import GisTables
from backends.gis.wire import Attrs, Feature
from backends.vendor_times import from_epoch_millis, local_date_from_epoch_millis
from domain.drafts import OutageDraft
from domain.enums import (
    MainKind,
    OutageKind,
    OutageStatus,
    PipeMaterial,
    PipeStatus,
    SourceKind,
    ValveBoundary,
)
from domain.network import NetworkMain, Valve, WaterSource
from domain.records import FieldWorker, Grid, Outage, PipeSegment, ServiceConnection

logger = logging.getLogger("tidegate.backends.gis")

ACCOUNT_DIGITS = 10


def wire_account(account_no: str) -> str | None:
    """The GIS spelling of a 户号, or None when it cannot be one (not digits, too long)."""
    digits = account_no.strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > ACCOUNT_DIGITS:
        return None
    return digits.lstrip("0") or "0"


def canonical_account(raw: str) -> str:
    """Billing's 10-digit spelling, leading zeros restored."""
    return raw.strip().zfill(ACCOUNT_DIGITS)


def segment(feature: Feature, t: GisTables) -> PipeSegment:
    a = Attrs(feature.attributes)

    def f(name: str) -> str:
        return t.field("segment", name)

    installed = a.opt_int(f("installed_on"))
    return PipeSegment(
        segment_id=a.text(f("segment_id")),
        object_id=a.req_int(f("object_id")),
        road_name=a.opt_text(f("road_name")),
        material=t.lookup("pipe_material", a.code(f("material")), PipeMaterial),
        diameter_mm=a.opt_int(f("diameter_mm")),
        installed_on=None if installed is None else local_date_from_epoch_millis(installed),
        pressure_zone=a.opt_text(f("pressure_zone")),
        dma=a.opt_text(f("dma")),
        status=t.lookup("pipe_status", a.code(f("status")), PipeStatus),
        length_m=a.opt_float(f("length_m")),
        path=wire.path(feature.geometry),
    )


def connection(feature: Feature, t: GisTables) -> ServiceConnection | None:
    """None for a connection drawn without a location: nothing to show, not worth failing a batch."""
    a = Attrs(feature.attributes)

    def f(name: str) -> str:
        return t.field("connection", name)

    account_no = canonical_account(a.text(f("account_no")))
    location = wire.point(feature.geometry)
    if location is None:
        logger.warning("service connection without a location", extra={"account_no": account_no})
        return None
    return ServiceConnection(
        account_no=account_no,
        location=location,
        main_object_id=a.opt_int(f("main_object_id")),
        grid_code=a.opt_text(f("grid_code")),
    )


def grid(feature: Feature, t: GisTables) -> Grid:
    a = Attrs(feature.attributes)

    def f(name: str) -> str:
        return t.field("grid", name)

    code = a.text(f("code"))
    worker_id = a.opt_text(f("worker_id"))
    worker = (
        None
        if worker_id is None
        else FieldWorker(
            worker_id=worker_id,
            name=a.opt_text(f("worker_name")) or "",
            mobile=a.opt_text(f("worker_mobile")),
            grid_code=code,
        )
    )
    return Grid(code=code, name=a.opt_text(f("name")) or code, worker=worker)


def outage(feature: Feature, t: GisTables) -> Outage:
    a = Attrs(feature.attributes)

    def f(name: str) -> str:
        return t.field("outage", name)

    outage_id = a.text(f("outage_id"))
    starts = a.opt_int(f("starts_at"))
    restore = a.opt_int(f("estimated_restore_at"))
    return Outage(
        outage_id=outage_id,
        kind=t.lookup("outage_kind", a.code(f("kind")), OutageKind),
        status=t.lookup("outage_status", a.code(f("status")), OutageStatus),
        reason=a.opt_text(f("reason")),
        starts_at=None if starts is None else from_epoch_millis(starts),
        estimated_restore_at=None if restore is None else from_epoch_millis(restore),
        main_object_ids=main_ids(a.opt_text(f("main_object_ids")), outage_id),
        area=wire.rings(feature.geometry),
        affected_accounts=a.opt_int(f("affected_accounts")),
        # VALVE_IDS came with traced outages: a layer (or an outField list) without it has no closures
        valve_object_ids=main_ids(
            a.opt_text(f("valve_object_ids")) if f("valve_object_ids") in feature.attributes else None,
            outage_id,
        ),
    )


def outage_feature(draft: OutageDraft, t: GisTables, object_id: int | None = None) -> dict[str, Any]:
    """An esriJSON feature for `applyEdits`: the draft's attributes in the layer's codes, its ring
    clockwise (esri's exterior-ring order) and closed."""

    def f(name: str) -> str:
        return t.field("outage", name)

    ring = [[p.lon, p.lat] for p in draft.area]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    if sum(a[0] * b[1] - b[0] * a[1] for a, b in pairwise(ring)) > 0:
        ring.reverse()
    attrs: dict[str, Any] = {
        f("outage_id"): draft.outage_id,
        f("kind"): t.raw_codes("outage_kind", draft.kind)[0],
        f("status"): t.raw_codes("outage_status", draft.status)[0],
        f("reason"): draft.reason,
        f("starts_at"): int(draft.starts_at.timestamp() * 1000),
        f("estimated_restore_at"): int(draft.estimated_restore_at.timestamp() * 1000),
        f("main_object_ids"): ",".join(str(m) for m in draft.main_object_ids),
        f("valve_object_ids"): ",".join(str(v) for v in draft.valve_object_ids),
        f("affected_accounts"): draft.affected_accounts,
    }
    if object_id is not None:
        attrs[f("object_id")] = object_id
    return {"attributes": attrs, "geometry": {"rings": [ring]}}


def main_ids(raw: str | None, outage_id: str) -> tuple[int, ...]:
    """`"12,13, 40"` -> (12, 13, 40). The field is typed by people: a stray token is logged, not fatal."""
    out: list[int] = []
    for token in (raw or "").replace("，", ",").split(","):
        token = token.strip()
        if not token:
            continue
        if token.isascii() and token.isdigit():
            out.append(int(token))
        else:
            logger.warning(
                "outage names a main that is not an id", extra={"outage_id": outage_id, "raw": token}
            )
    return tuple(out)


def network_main(feature: Feature, t: GisTables) -> NetworkMain:
    a = Attrs(feature.attributes)

    def f(name: str) -> str:
        return t.field("main", name)

    return NetworkMain(
        object_id=a.req_int(f("object_id")),
        segment_id=a.text(f("segment_id")),
        from_node=a.req_int(f("from_node")),
        to_node=a.req_int(f("to_node")),
        status=t.lookup("pipe_status", a.code(f("status")), PipeStatus),
        kind=t.lookup("main_kind", a.code(f("kind")), MainKind),
        diameter_mm=a.opt_int(f("diameter_mm")),
        road_name=a.opt_text(f("road_name")),
    )


def valve(feature: Feature, t: GisTables) -> Valve:
    """A position or operability the GIS leaves blank reads as the safe side for a trace: open (water
    passes) and inoperable (nobody counts on turning it)."""
    a = Attrs(feature.attributes)

    def f(name: str) -> str:
        return t.field("valve", name)

    return Valve(
        object_id=a.req_int(f("object_id")),
        asset_no=a.text(f("asset_no")),
        main_object_id=a.req_int(f("main_object_id")),
        protected_node=a.req_int(f("protected_node")),
        operable=a.opt_int(f("operable")) == 1,
        currently_open=a.opt_int(f("currently_open")) != 0,
        normally_open=a.opt_int(f("normally_open")) != 0,
        boundary=t.lookup("valve_boundary", a.code(f("boundary")), ValveBoundary),
        location=wire.point(feature.geometry),
    )


def water_source(feature: Feature, t: GisTables) -> WaterSource:
    a = Attrs(feature.attributes)

    def f(name: str) -> str:
        return t.field("source", name)

    object_id = a.req_int(f("object_id"))
    return WaterSource(
        object_id=object_id,
        asset_no=a.text(f("asset_no")),
        name=a.opt_text(f("name")) or a.text(f("asset_no")),
        kind=t.lookup("source_kind", a.code(f("kind")), SourceKind),
        node=a.req_int(f("node")),
        main_object_ids=main_ids(a.opt_text(f("main_object_ids")), f"source {object_id}"),
        pressure_zone=a.opt_text(f("pressure_zone")),
    )
