"""The work-order client's create-answer parsing (`wire.py`) over httpx's MockTransport, for the shapes
the simulator never sends. What the port promises (filing under a reference, finding it again, one
order per reference) is `tests/contracts/test_workorders_port.py`, against the simulator and the fake."""

from __future__ import annotations

import httpx
import pytest

from backends.workorders.client import WorkOrderClient
from domain.drafts import TicketDraft
from domain.enums import TicketCategory, TicketPriority
from domain.geo import GeoPoint
from infra.errors import BackendProtocolError, InvalidRequest
from infra.http.config import BackendConfig


def _draft(ref: str) -> TicketDraft:
    return TicketDraft(
        category=TicketCategory.LEAK,
        priority=TicketPriority.URGENT,
        description="阀门井冒水",
        client_ref=ref,
        location=GeoPoint(120.0, 30.0),
        grid_code="G03",
        worker_id="W003",
        client_fingerprint="f" * 64,
    )


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
