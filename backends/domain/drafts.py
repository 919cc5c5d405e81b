"""What we ask a back office to create, in our vocabulary: the write-side twins of `records`."""

from __future__ import annotations

from dataclasses import dataclass

from backends.domain.enums import TicketCategory, TicketPriority
from backends.domain.geo import GeoPoint


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """A repair ticket to file. `client_ref` is our reference for finding it again when the create's
    answer is lost: the work-order system has no idempotency of its own."""

    category: TicketCategory
    priority: TicketPriority
    description: str
    client_ref: str
    customer_no: str | None = None
    account_no: str | None = None
    address: str | None = None
    location: GeoPoint | None = None
    grid_code: str | None = None
    worker_id: str | None = None
    reporter_phone: str | None = None
