"""Work-order JSON to domain records: pure functions, no I/O. Keys and codes come from codes.yaml."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from backends.codes import CodeTables, load_code_tables
from backends.vendor_times import from_epoch_millis
from domain.drafts import TicketDraft
from domain.enums import TicketCategory, TicketPriority, TicketStatus
from domain.geo import GeoPoint
from domain.keys import customer_digits
from domain.records import FieldWorker, Ticket, TicketEvent, TicketStatusChange

TABLES_PATH = Path(__file__).with_name("codes.yaml")
ENUMS = {
    "status": TicketStatus,
    "category": TicketCategory,
    "create_category": TicketCategory,
    "priority": TicketPriority,
}
FIELDS = frozenset(
    {
        "ticket_id",
        "customer_no",
        "account_no",
        "category",
        "priority",
        "status",
        "description",
        "address",
        "lon",
        "lat",
        "grid_code",
        "worker_id",
        "worker_name",
        "worker_mobile",
        "client_ref",
        "client_fingerprint",
        "created_at",
        "updated_at",
        "history",
        "event_status",
        "event_at",
        "event_operator",
        "event_remark",
        "create_category",
        "reporter_phone",
        "change_type",
        "change_sequence",
        "change_at",
        "parent_id",
        "transition_to",
        "transition_remark",
    }
)
STATUS_CHANGED = "order.status_changed"  # the one webhook event type we consume
_TICKET_ID = re.compile(r"[A-Za-z0-9-]{1,40}")


def load_tables(path: Path = TABLES_PATH) -> CodeTables:
    return load_code_tables("workorders", path, ENUMS, FIELDS)


def to_vendor_customer_no(customer_no: str) -> str:
    """The work-order system writes customer numbers with a dash: KH00000042 -> KH-00000042."""
    return f"KH-{customer_digits(customer_no)}"


def from_vendor_customer_no(raw: str | None) -> str | None:
    if not raw:
        return None
    digits = raw.removeprefix("KH-")
    return f"KH{digits}" if digits.isdigit() else None


def vendor_status_codes(t: CodeTables, statuses: frozenset[TicketStatus]) -> list[str]:
    return sorted(code for code, member in t.tables["status"].items() if member in statuses)


def vendor_code(t: CodeTables, table: str, member: Enum) -> str:
    """The one wire code meaning `member` (the tables map codes to members; writes go the other way)."""
    codes = sorted(code for code, m in t.tables[table].items() if m is member)
    if not codes:
        raise ValueError(f"workorders: no {table} code for {member}")
    return codes[0]


def order_body(t: CodeTables, draft: TicketDraft) -> dict[str, Any]:
    """The create call's JSON: letter type codes, `KH-` customer numbers, absent keys left out."""
    f = t.field
    body: dict[str, Any] = {
        f("create_category"): vendor_code(t, "create_category", draft.category),
        f("priority"): vendor_code(t, "priority", draft.priority),
        f("description"): draft.description,
        f("client_ref"): draft.client_ref,
    }
    optional = {
        "customer_no": to_vendor_customer_no(draft.customer_no) if draft.customer_no else None,
        "account_no": draft.account_no,
        "address": draft.address,
        "lon": draft.location.lon if draft.location else None,
        "lat": draft.location.lat if draft.location else None,
        "grid_code": draft.grid_code,
        "worker_id": draft.worker_id,
        "reporter_phone": draft.reporter_phone,
        "client_fingerprint": draft.client_fingerprint,
        "parent_id": draft.parent_id,
    }
    body |= {f(name): value for name, value in optional.items() if value is not None}
    return body


def transition_body(t: CodeTables, status: TicketStatus, remark: str) -> dict[str, Any]:
    """A status transition's JSON: the target as the system's status code."""
    return {
        t.field("transition_to"): vendor_code(t, "status", status),
        t.field("transition_remark"): remark,
        "operator": "tidegate",
    }


def grid_worker(t: CodeTables, row: dict[str, Any]) -> FieldWorker:
    """One row of `/grids`: the grid's code and the field worker the system dispatches it to."""
    f = t.field
    return FieldWorker(
        str(row[f("worker_id")]),
        str(row.get(f("worker_name")) or ""),
        row.get(f("worker_mobile")) or None,
        str(row[f("grid_code")]),
    )


def ticket(t: CodeTables, row: dict[str, Any]) -> Ticket:
    f = t.field
    lon, lat = row.get(f("lon")), row.get(f("lat"))
    worker_id = row.get(f("worker_id"))
    assignee = (
        FieldWorker(
            str(worker_id),
            str(row.get(f("worker_name")) or ""),
            row.get(f("worker_mobile")) or None,
            row.get(f("grid_code")) or None,
        )
        if worker_id
        else None
    )
    return Ticket(
        ticket_id=str(row[f("ticket_id")]),
        customer_no=from_vendor_customer_no(row.get(f("customer_no"))),
        account_no=row.get(f("account_no")) or None,
        category=t.lookup("category", row.get(f("category")), TicketCategory),
        priority=t.lookup("priority", row.get(f("priority")), TicketPriority),
        status=t.lookup("status", row.get(f("status")), TicketStatus),
        description=str(row.get(f("description")) or ""),
        address=row.get(f("address")) or None,
        location=GeoPoint(float(lon), float(lat)) if lon is not None and lat is not None else None,
        grid_code=row.get(f("grid_code")) or None,
        assignee=assignee,
        client_ref=row.get(f("client_ref")) or None,
        client_fingerprint=row.get(f("client_fingerprint")) or None,
        created_at=from_epoch_millis(row[f("created_at")]),
        updated_at=from_epoch_millis(row[f("updated_at")]),
        history=tuple(_event(t, e) for e in row.get(f("history")) or []),
        parent_id=row.get(f("parent_id")) or None,
    )


def _event(t: CodeTables, row: dict[str, Any]) -> TicketEvent:
    f = t.field
    return TicketEvent(
        status=t.lookup("status", row.get(f("event_status")), TicketStatus),
        at=from_epoch_millis(row[f("event_at")]),
        operator=row.get(f("event_operator")) or None,
        remark=row.get(f("event_remark")) or None,
    )


def status_change(t: CodeTables, event: Mapping[str, Any], event_id: str) -> TicketStatusChange | None:
    """A webhook's event as a status change; None for event types we do not consume (acknowledged
    and dropped, so the sender stops retrying). ValueError when a status change lacks what we need."""
    f = t.field
    if event.get(f("change_type")) != STATUS_CHANGED:
        return None
    ticket_id = event.get(f("ticket_id"))
    sequence = event.get(f("change_sequence"))
    at = event.get(f("change_at"))
    if not isinstance(ticket_id, str) or not _TICKET_ID.fullmatch(ticket_id):
        raise ValueError(f"{f('ticket_id')} must be an order number")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        raise ValueError(f"{f('change_sequence')} must be a positive integer")
    if not isinstance(at, int | float) or isinstance(at, bool):
        raise ValueError(f"{f('change_at')} must be epoch milliseconds")
    try:
        changed_at = from_epoch_millis(at)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"{f('change_at')} is out of range: {at}") from exc
    customer, status = event.get(f("customer_no")), event.get(f("status"))
    return TicketStatusChange(
        ticket_id=ticket_id,
        customer_no=from_vendor_customer_no(customer) if isinstance(customer, str) else None,
        status=t.lookup("status", status if isinstance(status, str) else None, TicketStatus),
        sequence=sequence,
        changed_at=changed_at,
        event_id=event_id,
    )
