"""What a ticket holds besides its own fields: its field worker, its history, its pushed live status."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.enums import TicketStatus
from schema.directives import MaskKind, mask
from schema.from_record import record_field
from schema.info import Info


@strawberry.type(description="A field worker (网格员) responsible for one grid.")
class FieldWorker:
    id: strawberry.ID = record_field(source="worker_id")
    name: str
    mobile: str | None = strawberry.field(
        description="Their work mobile: masked unless the caller holds staff:contact.",
        directives=[mask(MaskKind.STAFF_MOBILE)],
    )
    grid_code: str | None


@strawberry.type
class TicketEvent:
    status: TicketStatus
    at: datetime
    operator: str | None
    remark: str | None = strawberry.field(
        description="The operator's words; phone, ID and card numbers in them masked.",
        directives=[mask(MaskKind.FREE_TEXT)],
    )
    owner: strawberry.Private[str | None] = None

    def owner_customer_no(self, info: Info) -> str | None:
        return self.owner


@strawberry.type(
    description="The newest status the work-order system pushed for a ticket (webhook), as Tidegate keeps it."
)
class TicketLiveStatus:
    status: TicketStatus
    changed_at: datetime = strawberry.field(description="When the work-order system made the change.")
    sequence: int = strawberry.field(description="The change's number in the ticket's history, from 1.")
