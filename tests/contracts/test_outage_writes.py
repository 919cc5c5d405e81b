"""The outage writes of `GisPort` (publish a 停水 notice, change its status) and `CrmPort` (the SMS
outbox), against the adapters over simulators of their own (these writes change what the shared
ones answer) and against the fakes alike."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from backends.crm.client import CrmClient
from backends.gis.client import GisClient
from domain.drafts import OutageDraft, SmsDraft
from domain.enums import OutageKind, OutageStatus
from domain.geo import GeoPoint
from domain.ports import CrmPort, GisPort
from domain.timestamps import SHANGHAI
from infra.errors import NotFound
from infra.http.config import BackendConfig
from tests.contracts import IMPLEMENTATIONS
from tests.fakes.crm import InMemoryCrm
from tests.fakes.gis import InMemoryGis
from tests.support.processes import SimProcess, start_simulator

START = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def own_sims() -> Iterator[dict[str, SimProcess]]:
    started = {name: start_simulator(name) for name in ("gis", "crm")}
    try:
        yield started
    finally:
        for sim in started.values():
            sim.stop()


@pytest.fixture(params=IMPLEMENTATIONS)
async def gis(request: pytest.FixtureRequest, own_sims: dict[str, SimProcess]) -> AsyncIterator[GisPort]:
    if request.param == "fake":
        yield InMemoryGis()
        return
    client = GisClient(BackendConfig("gis", own_sims["gis"].url, timeout_s=5.0))
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(params=IMPLEMENTATIONS)
async def crm(request: pytest.FixtureRequest, own_sims: dict[str, SimProcess]) -> AsyncIterator[CrmPort]:
    if request.param == "fake":
        yield InMemoryCrm()
        return
    client = CrmClient(BackendConfig("crm", own_sims["crm"].url, timeout_s=5.0))
    try:
        yield client
    finally:
        await client.aclose()


def _draft(outage_id: str) -> OutageDraft:
    ring = (
        GeoPoint(118.78, 32.04),
        GeoPoint(118.781, 32.04),
        GeoPoint(118.781, 32.041),
        GeoPoint(118.78, 32.041),
    )
    return OutageDraft(
        outage_id=outage_id,
        kind=OutageKind.EMERGENCY,
        status=OutageStatus.ACTIVE,
        reason="主管爆管抢修",
        starts_at=START,
        estimated_restore_at=START + timedelta(hours=6),
        main_object_ids=(55, 277),
        valve_object_ids=(65, 66, 306),
        affected_accounts=42,
        area=ring,
    )


def _id() -> str:
    return f"TG-T{uuid.uuid4().hex[:8].upper()}"


async def test_a_published_outage_is_read_back_with_what_it_carries(gis: GisPort) -> None:
    outage_id = _id()
    assert await gis.outage(outage_id) is None
    published = await gis.publish_outage(_draft(outage_id))
    assert (published.outage_id, published.kind, published.status) == (
        outage_id,
        OutageKind.EMERGENCY,
        OutageStatus.ACTIVE,
    )
    assert (published.main_object_ids, published.valve_object_ids, published.affected_accounts) == (
        (55, 277),
        (65, 66, 306),
        42,
    )
    assert published.estimated_restore_at == START + timedelta(hours=6)
    assert published.covers(GeoPoint(118.7805, 32.0405)) and not published.covers(GeoPoint(118.79, 32.05))
    assert await gis.outage(outage_id) == published
    assert outage_id in {o.outage_id for o in await gis.outages(active=True)}


async def test_a_second_publish_under_the_id_answers_with_the_first(gis: GisPort) -> None:
    outage_id = _id()
    first = await gis.publish_outage(_draft(outage_id))
    second = await gis.publish_outage(replace(_draft(outage_id), reason="另一次"))
    assert second == first
    assert [o.outage_id for o in await gis.outages()].count(outage_id) == 1


async def test_restoring_closes_the_notice(gis: GisPort) -> None:
    outage_id = _id()
    await gis.publish_outage(_draft(outage_id))
    restored = await gis.set_outage_status(outage_id, OutageStatus.RESTORED)
    assert restored.status is OutageStatus.RESTORED
    assert outage_id not in {o.outage_id for o in await gis.outages(active=True)}
    assert outage_id in {o.outage_id for o in await gis.outages(active=False)}
    with pytest.raises(NotFound):
        await gis.set_outage_status(_id(), OutageStatus.RESTORED)


async def test_sms_go_out_once_per_reference(crm: CrmPort) -> None:
    prefix = f"T{uuid.uuid4().hex[:8]}-"
    batch = [SmsDraft(f"{prefix}{n}", f"KH{n:08d}", f"1390000{n:04d}", "停水通知") for n in range(1, 6)]
    first = await crm.send_sms(batch)
    assert (first.accepted, first.duplicates) == (5, 0)
    again = await crm.send_sms([*batch[3:], SmsDraft(f"{prefix}9", "KH00000009", "13900009999", "停水通知")])
    assert (again.accepted, again.duplicates) == (1, 2)
    assert await crm.sms_sent(prefix) == 6
    assert await crm.sms_sent(f"{prefix}9") == 1


async def test_an_sms_batch_of_none_or_too_many_is_refused(crm: CrmPort) -> None:
    with pytest.raises(ValueError):
        await crm.send_sms([])
    with pytest.raises(ValueError):
        await crm.send_sms(
            [SmsDraft(f"r{n}", "KH00000001", "13900000000", "x") for n in range(crm.MAX_BATCH + 1)]
        )
