"""RedactedTicket: a ticket you may know exists and nothing more (filled from the access check's stub)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from domain.enums import TicketCategory, TicketPriority, TicketStatus
from schema.from_record import from_record
from services import authorize


@strawberry.type(
    description="A ticket you may know exists and nothing more: no id, customer, account, description, "
    "address, location or assignee."
)
class RedactedTicket:
    category: TicketCategory
    priority: TicketPriority
    status: TicketStatus
    created_at: datetime

    @classmethod
    def of(cls, stub: authorize.RedactedTicket) -> Self:
        return from_record(cls, stub)
