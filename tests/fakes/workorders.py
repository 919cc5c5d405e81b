"""An in-memory work-order system behind `WorkOrdersPort`."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain.drafts import TicketDraft
from domain.enums import TicketStatus
from domain.records import FieldWorker, Ticket, TicketEvent, TicketStatusChange
from domain.timestamps import SHANGHAI
from infra.errors import InvalidRequest, NotFound
from tests.fakes.calls import CallLog, check_batch


@dataclass
class InMemoryWorkOrders:
    """Tickets in filing order; answers list them newest first, as the system does. One ticket per
    `client_ref`: a second create under a reference answers with the first ticket."""

    filed: list[Ticket] = field(default_factory=list)
    workers: dict[str, FieldWorker] = field(default_factory=dict)  # grid code -> worker
    log: CallLog = field(default_factory=CallLog)
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    MAX_BATCH: int = 50
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(90_001), repr=False)

    async def tickets_by_customers(self, customer_nos: Sequence[str]) -> dict[str, list[Ticket]]:
        self.log.record("tickets_by_customers")
        check_batch(customer_nos, self.MAX_BATCH, "tickets_by_customers", empty_ok=False)
        return {n: [t for t in self._newest_first() if t.customer_no == n] for n in customer_nos}

    async def open_tickets(self) -> list[Ticket]:
        self.log.record("open_tickets")
        return [t for t in self._newest_first() if t.status.is_open]

    async def tickets(self, statuses: frozenset[TicketStatus], limit: int) -> list[Ticket]:
        self.log.record("tickets")
        return [t for t in self._newest_first() if t.status in statuses][:limit]

    async def ticket(self, ticket_id: str) -> Ticket:
        self.log.record("ticket")
        for ticket in self.filed:
            if ticket.ticket_id == ticket_id:
                return ticket
        raise NotFound("workorders", f"no ticket {ticket_id!r}")

    async def create_ticket(self, draft: TicketDraft) -> Ticket:
        self.log.record("create_ticket")
        existing = self._by_ref(draft.client_ref)
        if existing is not None:
            return existing
        worker = next((w for w in self.workers.values() if w.worker_id == draft.worker_id), None)
        status = TicketStatus.DISPATCHED if worker else TicketStatus.ACCEPTED
        ticket = Ticket(
            ticket_id=f"GD{self.now:%Y%m%d}{next(self._ids):05d}",
            customer_no=draft.customer_no,
            account_no=draft.account_no,
            category=draft.category,
            priority=draft.priority,
            status=status,
            description=draft.description,
            address=draft.address,
            location=draft.location,
            grid_code=draft.grid_code,
            assignee=worker,
            client_ref=draft.client_ref,
            created_at=self.now,
            updated_at=self.now,
            history=(TicketEvent(status, self.now, None, None),),
            client_fingerprint=draft.client_fingerprint,
            parent_id=draft.parent_id,
        )
        if draft.parent_id is not None:
            master = next((t for t in self.filed if t.ticket_id == draft.parent_id), None)
            if master is None or master.parent_id is not None:
                raise InvalidRequest("workorders", f"no master order {draft.parent_id!r}")
        self.filed.append(ticket)
        return ticket

    async def ticket_by_client_ref(self, client_ref: str) -> Ticket | None:
        self.log.record("ticket_by_client_ref")
        return self._by_ref(client_ref)

    async def grid_workers(self) -> dict[str, FieldWorker]:
        self.log.record("grid_workers")
        return dict(self.workers)

    async def children(self, ticket_id: str) -> list[Ticket]:
        self.log.record("children")
        return sorted(
            (t for t in self.filed if t.parent_id == ticket_id), key=lambda t: (t.created_at, t.ticket_id)
        )

    async def complete_ticket(self, ticket_id: str, remark: str) -> Ticket:
        self.log.record("complete_ticket")
        ticket = await self.ticket(ticket_id)
        if not ticket.status.is_open or ticket.status is TicketStatus.COMPLETED:
            return ticket
        done = replace(
            ticket,
            status=TicketStatus.COMPLETED,
            updated_at=self.now,
            history=(*ticket.history, TicketEvent(TicketStatus.COMPLETED, self.now, "tidegate", remark)),
        )
        self.filed[self.filed.index(ticket)] = done
        return done

    def status_change(self, event: Mapping[str, Any], event_id: str) -> TicketStatusChange | None:
        """The fake's pushed events are our vocabulary as JSON (`event(...)` builds one)."""
        if event.get("kind") != "status":
            return None
        try:
            return TicketStatusChange(
                ticket_id=str(event["ticketId"]),
                customer_no=event.get("customerNo"),
                status=TicketStatus(event["status"]),
                sequence=int(event["sequence"]),
                changed_at=datetime.fromisoformat(event["at"]),
                event_id=event_id,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"bad status event: {exc}") from None

    @staticmethod
    def event(change: TicketStatusChange) -> dict[str, Any]:
        return {
            "kind": "status",
            "ticketId": change.ticket_id,
            "customerNo": change.customer_no,
            "status": change.status.value,
            "sequence": change.sequence,
            "at": change.changed_at.isoformat(),
        }

    def _by_ref(self, client_ref: str) -> Ticket | None:
        return next((t for t in self.filed if t.client_ref == client_ref), None)

    def _newest_first(self) -> list[Ticket]:
        return sorted(self.filed, key=lambda t: t.created_at, reverse=True)
