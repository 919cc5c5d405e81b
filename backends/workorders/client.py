"""The work-order system's REST API: tickets by customer, by number, and the open ones."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from backends.rest import RestApi
from backends.workorders import mapping, wire
from domain.drafts import TicketDraft
from domain.enums import TicketStatus
from domain.records import FieldWorker, Ticket, TicketStatusChange
from infra.errors import BackendProtocolError, InvalidRequest, NotFound
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig
from infra.resilience.guards import GuardState
from infra.telemetry import NO_TELEMETRY, BackendTelemetry

API = "/wo/api"
PAGE_SIZE = 200
MAX_PAGES = 25  # 5,000 orders: far beyond any one customer set; a bound, not a hope
_TICKET_ID = re.compile(r"[A-Za-z0-9-]{1,40}")
OPEN = frozenset(s for s in TicketStatus if s.is_open)
# The next step towards COMPLETED from each status the system allows it from (its lifecycle table).
TOWARDS_DONE = {
    TicketStatus.ACCEPTED: TicketStatus.DISPATCHED,
    TicketStatus.RETURNED: TicketStatus.DISPATCHED,
    TicketStatus.DISPATCHED: TicketStatus.ACKNOWLEDGED,
    TicketStatus.ACKNOWLEDGED: TicketStatus.IN_PROGRESS,
    TicketStatus.ON_HOLD: TicketStatus.IN_PROGRESS,
    TicketStatus.IN_PROGRESS: TicketStatus.COMPLETED,
}
DONE = frozenset(
    {TicketStatus.COMPLETED, TicketStatus.FOLLOW_UP, TicketStatus.CLOSED, TicketStatus.CANCELLED}
)


class WorkOrderClient:
    name = "workorders"
    MAX_BATCH = 50

    def __init__(
        self,
        config: BackendConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        tables_path: Path | None = None,
        telemetry: BackendTelemetry = NO_TELEMETRY,
    ) -> None:
        tables = mapping.load_tables(tables_path or mapping.TABLES_PATH)
        self.api = RestApi(
            BackendHttp(config, transport, telemetry=telemetry),
            tables,
            message_key=wire.MESSAGE_KEY,
            max_batch=self.MAX_BATCH,
        )

    def status_change(self, event: Mapping[str, Any], event_id: str) -> TicketStatusChange | None:
        """A webhook's event in our vocabulary (the body's fields and codes are this system's)."""
        return mapping.status_change(self.api.tables, event, event_id)

    async def tickets_by_customers(self, customer_nos: Sequence[str]) -> dict[str, list[Ticket]]:
        """Every ticket of up to 50 customers (newest first), in as few pages as the system allows."""
        self.api.check_batch(customer_nos)
        codes = ",".join(mapping.to_vendor_customer_no(n) for n in customer_nos)
        out: dict[str, list[Ticket]] = {n: [] for n in customer_nos}
        for ticket in await self._list({"cust_code": codes}):
            if ticket.customer_no in out:
                out[ticket.customer_no].append(ticket)
        return out

    async def open_tickets(self) -> list[Ticket]:
        """Every ticket still owed to a customer, across the district."""
        codes = mapping.vendor_status_codes(self.api.tables, OPEN)
        return await self._list({"status": ",".join(codes)})

    async def tickets(self, statuses: frozenset[TicketStatus], limit: int) -> list[Ticket]:
        """The newest `limit` tickets in any of `statuses`, across the district."""
        codes = mapping.vendor_status_codes(self.api.tables, statuses)
        return (await self._list({"status": ",".join(codes)}, limit))[:limit]

    async def ticket(self, ticket_id: str) -> Ticket:
        if not _TICKET_ID.fullmatch(ticket_id):
            raise NotFound(self.name, f"no ticket {ticket_id!r}")
        body = await self.api.get("getOrder", f"{API}/orders/{ticket_id}")
        return self.api.record(mapping.ticket, body, "getOrder")

    async def create_ticket(self, draft: TicketDraft) -> Ticket:
        """One POST, never retried here. The system keeps one order per `client_ref`: a create under a
        reference already used is refused with the existing order's number, and that order (read back)
        is the answer, whoever made it. A caller that loses the answer finds the order with
        `ticket_by_client_ref`, or simply creates again."""
        answer = await self.api.http.fetch(
            "POST",
            f"{API}/orders",
            lambda r: wire.created(self.name, r, "createOrder"),
            idempotent=False,
            json=mapping.order_body(self.api.tables, draft),
        )
        if isinstance(answer, wire.ExistingOrder):
            return await self.ticket(answer.order_no)
        return self.api.record(mapping.ticket, answer, "createOrder")

    async def ticket_by_client_ref(self, client_ref: str) -> Ticket | None:
        """The order created with this reference, or None (the system keeps one per reference; should a
        system without that rule hold several, the first one made)."""
        found = await self._list({"client_ref": client_ref})
        return min(found, key=lambda t: (t.created_at, t.ticket_id)) if found else None

    async def children(self, ticket_id: str) -> list[Ticket]:
        """The child tasks filed under a master order, oldest first."""
        if not _TICKET_ID.fullmatch(ticket_id):
            return []
        found = await self._list({"parent_no": ticket_id})
        return sorted(found, key=lambda t: (t.created_at, t.ticket_id))

    async def complete_ticket(self, ticket_id: str, remark: str) -> Ticket:
        """Walk the order through the system's lifecycle to COMPLETED (完工), one transition at a
        time; an order already done (or cancelled) is answered as it is. The field crew may move the
        order meanwhile: a refused step re-reads it and carries on from where it now stands."""
        ticket = await self.ticket(ticket_id)
        for _ in range(2 * len(TOWARDS_DONE)):
            if ticket.status in DONE:
                return ticket
            step = TOWARDS_DONE.get(ticket.status)
            if step is None:
                raise BackendProtocolError(self.name, f"no way to complete {ticket_id} from {ticket.status}")
            try:
                body = await self.api.post(
                    "transitionOrder",
                    f"{API}/orders/{ticket_id}/transition",
                    mapping.transition_body(self.api.tables, step, remark),
                )
                ticket = self.api.record(mapping.ticket, body, "transitionOrder")
            except InvalidRequest:
                ticket = await self.ticket(ticket_id)  # moved by someone else: look again
        raise BackendProtocolError(self.name, f"{ticket_id} did not reach COMPLETED")

    async def grid_workers(self) -> dict[str, FieldWorker]:
        """Grid code -> the field worker this system dispatches that grid's orders to."""
        body = await self.api.get("listGrids", f"{API}/grids")
        return {w.grid_code or "": w for w in self.api.rows(body, "list", mapping.grid_worker, "listGrids")}

    def guard_state(self) -> GuardState:
        """This client's breaker, bulkhead and rate budget now (for the supervisor's board)."""
        return self.api.http.guard_state()

    def share(self, replicas: int) -> None:
        """This replica's part of the fleet's bulkhead and rate budget (`infra.fleet`)."""
        self.api.http.share(replicas)

    async def aclose(self) -> None:
        await self.api.http.aclose()

    async def _list(self, params: dict[str, str | int], limit: int | None = None) -> list[Ticket]:
        tickets: list[Ticket] = []
        for page in range(1, MAX_PAGES + 1):
            body = await self.api.get(
                "listOrders", f"{API}/orders", {**params, "page": page, "size": PAGE_SIZE}
            )
            rows = self.api.rows(body, "list", mapping.ticket, "listOrders")
            tickets += rows
            total = self.api.field(body, "total", int, "listOrders")
            if not rows or len(tickets) >= total or (limit is not None and len(tickets) >= limit):
                break
        return tickets
