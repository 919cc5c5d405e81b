"""`WorkOrdersPort`: the work-order client over the simulator and `InMemoryWorkOrders` answer alike.

The writes (moved here from the client's own tests): a ticket is filed under our reference, found
again by it, and a second create under it answers with the first ticket.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pytest

from backends.workorders.client import WorkOrderClient
from domain.drafts import TicketDraft
from domain.enums import TicketCategory, TicketPriority, TicketStatus
from domain.geo import GeoPoint
from domain.keys import customer_no
from domain.ports import WorkOrdersPort
from domain.records import TicketStatusChange
from domain.timestamps import SHANGHAI
from infra.errors import InvalidRequest, NotFound
from infra.http.config import BackendConfig
from tests.conftest import Simulators
from tests.contracts import IMPLEMENTATIONS
from tests.fakes.workorders import InMemoryWorkOrders
from tests.support.admin import stats
from tests.support.world import seeded_world


@dataclass(frozen=True)
class Known:
    """Customers with tickets on file: what both implementations hold."""

    customer_nos: tuple[str, ...]


@pytest.fixture(scope="module")
def known() -> Known:
    return Known(tuple(customer_no(c.customer_no) for c in seeded_world().customers[:50]))


def _client(sims: Simulators) -> WorkOrderClient:
    return WorkOrderClient(BackendConfig("workorders", sims["workorders"].url, timeout_s=5.0))


@pytest.fixture(scope="module")
async def recorded(sims: Simulators, known: Known) -> InMemoryWorkOrders:
    """The fake's records, read once through the adapter: the known customers' tickets and the district's
    open ones (its own filter then decides what is open), and the grid workers."""
    client = _client(sims)
    try:
        by_customer = await client.tickets_by_customers(list(known.customer_nos))
        tickets = {t.ticket_id: t for rows in by_customer.values() for t in rows}
        tickets |= {t.ticket_id: t for t in await client.open_tickets()}
        workers = await client.grid_workers()
    finally:
        await client.aclose()
    return InMemoryWorkOrders(filed=list(tickets.values()), workers=workers)


@pytest.fixture(params=IMPLEMENTATIONS)
async def port(
    request: pytest.FixtureRequest, clean_sims: Simulators, recorded: InMemoryWorkOrders
) -> AsyncIterator[WorkOrdersPort]:
    if request.param == "fake":
        yield InMemoryWorkOrders(filed=list(recorded.filed), workers=dict(recorded.workers))
        return
    client = _client(clean_sims)
    try:
        yield client
    finally:
        await client.aclose()


def _ref() -> str:
    return f"TG{uuid.uuid4().hex[:30].upper()}"


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


async def test_tickets_by_customer_have_every_customer_a_key_newest_first(
    port: WorkOrdersPort, known: Known
) -> None:
    found = await port.tickets_by_customers(list(known.customer_nos))
    assert set(found) == set(known.customer_nos)
    assert sum(len(rows) for rows in found.values()) > 0
    for no, rows in found.items():
        assert all(t.customer_no == no for t in rows)
        assert [t.created_at for t in rows] == sorted((t.created_at for t in rows), reverse=True)


async def test_a_batch_of_none_or_too_many_customers_is_refused(port: WorkOrdersPort) -> None:
    with pytest.raises(ValueError):
        await port.tickets_by_customers([])
    with pytest.raises(ValueError):
        await port.tickets_by_customers([customer_no(n + 1) for n in range(port.MAX_BATCH + 1)])


async def test_open_tickets_are_the_ones_still_owed(port: WorkOrdersPort) -> None:
    opened = await port.open_tickets()
    assert opened and all(t.status.is_open for t in opened)


async def test_tickets_by_status_are_bounded(port: WorkOrdersPort) -> None:
    wanted = frozenset({TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS})
    found = await port.tickets(wanted, 3)
    assert 0 < len(found) <= 3 and all(t.status in wanted for t in found)


async def test_a_ticket_by_id_and_an_unknown_id_not_found(port: WorkOrdersPort) -> None:
    some = (await port.open_tickets())[0]
    assert await port.ticket(some.ticket_id) == some
    with pytest.raises(NotFound):
        await port.ticket("GD0000000000000")


async def test_grid_workers_are_keyed_by_their_grid(port: WorkOrdersPort) -> None:
    workers = await port.grid_workers()
    assert {g.code for g in seeded_world().grids} <= set(workers)
    assert all(w.grid_code == code for code, w in workers.items())


async def test_an_order_filed_under_a_reference_is_found_by_it(port: WorkOrdersPort) -> None:
    ref = _ref()
    assert await port.ticket_by_client_ref(ref) is None
    filed = await port.create_ticket(_draft(ref))
    assert (filed.client_ref, filed.client_fingerprint, filed.status) == (
        ref,
        "f" * 64,
        TicketStatus.DISPATCHED,
    )
    assert await port.ticket_by_client_ref(ref) == filed
    assert await port.ticket_by_client_ref(_ref()) is None


async def test_a_second_create_under_the_reference_answers_with_the_first_order(port: WorkOrdersPort) -> None:
    ref = _ref()
    first = await port.create_ticket(_draft(ref))
    second = await port.create_ticket(_draft(ref, "另一单", fingerprint="e" * 64))
    assert second == first  # the first order as filed, its fingerprint included: the caller compares
    assert [t.ticket_id for t in [await port.ticket_by_client_ref(ref)] if t] == [first.ticket_id]


async def test_the_adapter_sends_both_creates_to_the_system(clean_sims: Simulators) -> None:
    """Adapter only: the fake has no system behind it to count. The client dedupes nothing itself (the
    system does), so both creates reach the system."""
    client = _client(clean_sims)
    try:
        ref = _ref()
        await client.create_ticket(_draft(ref))
        await client.create_ticket(_draft(ref, "另一单"))
    finally:
        await client.aclose()
    assert stats(clean_sims["workorders"].url)["operations"]["createOrder"]["requests"] == 2


async def test_an_order_without_a_fingerprint_reads_as_none(port: WorkOrdersPort) -> None:
    filed = await port.create_ticket(_draft(_ref(), fingerprint=None))
    assert filed.client_fingerprint is None
    assert (await port.ticket(filed.ticket_id)).client_fingerprint is None


async def test_child_tasks_hang_under_their_master_and_are_listed_by_it(port: WorkOrdersPort) -> None:
    master = await port.create_ticket(_draft(_ref(), "主管爆管抢修"))
    assert master.parent_id is None and await port.children(master.ticket_id) == []
    first = await port.create_ticket(replace(_draft(_ref(), "关阀 FM-1"), parent_id=master.ticket_id))
    second = await port.create_ticket(replace(_draft(_ref(), "关阀 FM-2"), parent_id=master.ticket_id))
    assert (first.parent_id, second.parent_id) == (master.ticket_id, master.ticket_id)
    assert [t.ticket_id for t in await port.children(master.ticket_id)] == [first.ticket_id, second.ticket_id]
    assert (await port.ticket(first.ticket_id)).parent_id == master.ticket_id


async def test_a_child_needs_a_master_that_is_no_child_itself(port: WorkOrdersPort) -> None:
    with pytest.raises(InvalidRequest):
        await port.create_ticket(replace(_draft(_ref()), parent_id="GD0000000000000"))
    master = await port.create_ticket(_draft(_ref()))
    child = await port.create_ticket(replace(_draft(_ref()), parent_id=master.ticket_id))
    with pytest.raises(InvalidRequest):
        await port.create_ticket(replace(_draft(_ref()), parent_id=child.ticket_id))


async def test_completing_walks_an_order_to_completed_once(port: WorkOrdersPort) -> None:
    filed = await port.create_ticket(_draft(_ref()))
    done = await port.complete_ticket(filed.ticket_id, "已恢复供水")
    assert done.status is TicketStatus.COMPLETED and done.ticket_id == filed.ticket_id
    again = await port.complete_ticket(filed.ticket_id, "已恢复供水")
    assert again.status is TicketStatus.COMPLETED and len(again.history) == len(done.history)
    with pytest.raises(NotFound):
        await port.complete_ticket("GD0000000000000", "x")


# Pushed status changes: each implementation reads its own wire shape; both answer in our vocabulary.
_AT = datetime(2026, 11, 26, 10, 0, 0, 123000, tzinfo=SHANGHAI)
_CHANGE = TicketStatusChange(
    ticket_id="WO202611260001",
    customer_no="KH00000042",
    status=TicketStatus.IN_PROGRESS,
    sequence=3,
    changed_at=_AT,
    event_id="msg_1",
)


def _pushed(port: WorkOrdersPort, change: TicketStatusChange) -> dict[str, Any]:
    """The event as the system behind `port` pushes it."""
    if isinstance(port, InMemoryWorkOrders):
        return InMemoryWorkOrders.event(change)
    return {  # the work-order system's own shape (simulators/workorders/events.py)
        "type": "order.status_changed",
        "order_no": change.ticket_id,
        "cust_code": "KH-00000042",
        "status": "05",
        "seq": change.sequence,
        "changed_at": int(change.changed_at.timestamp() * 1000),
    }


async def test_a_pushed_status_change_reads_in_our_vocabulary(port: WorkOrdersPort) -> None:
    assert port.status_change(_pushed(port, _CHANGE), "msg_1") == _CHANGE


async def test_a_pushed_event_of_another_kind_is_not_a_change(port: WorkOrdersPort) -> None:
    event = _pushed(port, _CHANGE)
    event["type" if "type" in event else "kind"] = "order.assigned"
    assert port.status_change(event, "msg_2") is None


async def test_a_status_change_without_its_sequence_is_refused(port: WorkOrdersPort) -> None:
    event = _pushed(port, _CHANGE)
    event.pop("seq" if "seq" in event else "sequence")
    with pytest.raises(ValueError):
        port.status_change(event, "msg_3")
