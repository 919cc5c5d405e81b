"""The work-order client's writes against the real simulator process: an order is filed under our
reference, found again by it, and a second create under it answers with the first order. Then the
create's answer parsing (`wire.py`) over httpx's MockTransport, for the shapes the simulator never sends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from backends.config import BackendConfig
from backends.errors import BackendProtocolError, InvalidRequest
from backends.workorders.client import WorkOrderClient
from domain.drafts import TicketDraft
from domain.enums import TicketCategory, TicketPriority, TicketStatus
from domain.geo import GeoPoint
from tests.conftest import Simulators
from tests.support.admin import stats
from tests.support.world import seeded_world


@pytest.fixture
async def workorders(clean_sims: Simulators) -> AsyncIterator[WorkOrderClient]:
    client = WorkOrderClient(BackendConfig("workorders", clean_sims["workorders"].url, timeout_s=5.0))
    try:
        yield client
    finally:
        await client.aclose()


def _draft(ref: str, text: str = "阀门井冒水", fingerprint: str | None = "f" * 64) -> TicketDraft:
    grid = seeded_world().grids[3]
    xs, ys = [p[0] for p in grid.ring], [p[1] for p in grid.ring]
    return TicketDraft(
        category=TicketCategory.LEAK,
        priority=TicketPriority.URGENT,
        description=text,
        client_ref=ref,
        location=GeoPoint((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2),
        grid_code=grid.code,
        worker_id=grid.worker.worker_id,
        client_fingerprint=fingerprint,
    )


def _creates(sims: Simulators) -> int:
    return int(stats(sims["workorders"].url)["operations"].get("createOrder", {}).get("requests", 0))


async def test_an_order_filed_under_a_reference_is_found_by_it(
    workorders: WorkOrderClient, clean_sims: Simulators
) -> None:
    ref = f"TG{uuid.uuid4().hex[:30].upper()}"
    assert await workorders.ticket_by_client_ref(ref) is None
    filed = await workorders.create_ticket(_draft(ref))
    assert (filed.client_ref, filed.client_fingerprint, filed.status) == (
        ref,
        "f" * 64,
        TicketStatus.DISPATCHED,
    )
    assert await workorders.ticket_by_client_ref(ref) == filed
    assert await workorders.ticket_by_client_ref(f"TG{uuid.uuid4().hex[:30].upper()}") is None


async def test_a_second_create_under_the_reference_answers_with_the_first_order(
    workorders: WorkOrderClient, clean_sims: Simulators
) -> None:
    ref = f"TG{uuid.uuid4().hex[:30].upper()}"
    first = await workorders.create_ticket(_draft(ref))
    second = await workorders.create_ticket(_draft(ref, "另一单", fingerprint="e" * 64))
    assert second == first  # the first order as filed, its fingerprint included: the caller compares
    assert _creates(clean_sims) == 2
    assert [t.ticket_id for t in [await workorders.ticket_by_client_ref(ref)] if t] == [first.ticket_id]


async def test_an_order_without_a_fingerprint_reads_as_none(
    workorders: WorkOrderClient, clean_sims: Simulators
) -> None:
    ref = f"TG{uuid.uuid4().hex[:30].upper()}"
    filed = await workorders.create_ticket(_draft(ref, fingerprint=None))
    assert filed.client_fingerprint is None
    assert (await workorders.ticket(filed.ticket_id)).client_fingerprint is None


def _answering(status: int, body: bytes) -> WorkOrderClient:
    transport = httpx.MockTransport(lambda _: httpx.Response(status, content=body))
    return WorkOrderClient(BackendConfig("workorders", "http://wo.test", timeout_s=1.0), transport=transport)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (409, b'{"errcode": 40903, "errmsg": "client_ref \\u5df2\\u5b58\\u5728"}', BackendProtocolError),
        (409, b'{"errcode": 40903, "errmsg": "x", "order_no": "../etc"}', BackendProtocolError),
        (409, b'{"errcode": 40901, "errmsg": "state"}', InvalidRequest),  # another conflict: a refusal
        (409, b"<html>conflict</html>", BackendProtocolError),
        (201, b"[]", BackendProtocolError),
    ],
)
async def test_create_answers_that_are_not_an_order(status: int, body: bytes, error: type[Exception]) -> None:
    client = _answering(status, body)
    try:
        with pytest.raises(error):
            await client.create_ticket(_draft("TG1"))
    finally:
        await client.aclose()
