"""FeeAdjustment: a request queued in billing for a clerk's approval, as billing acknowledged it (filled from
billing's acknowledgement by field name)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from domain import enums as d
from domain.drafts import FeeAdjustmentRequest
from schema.directives import RequiresScopes
from schema.from_record import from_record, record_field
from schema.scalars import Money
from services.access import BILLING_ADJUST

_UNKNOWN = " UNKNOWN means a code our tables do not know yet (it is logged)."

FeeAdjustmentReason = strawberry.enum(d.FeeAdjustmentReason, description="调整类型." + _UNKNOWN)
FeeAdjustmentStatus = strawberry.enum(d.FeeAdjustmentStatus, description="申请状态." + _UNKNOWN)
BILLING_ADJUSTS = RequiresScopes(scopes=[[BILLING_ADJUST]])


@strawberry.type(
    description="A fee adjustment request (调整申请) in billing, waiting for a clerk's approval.",
    directives=[BILLING_ADJUSTS],
)
class FeeAdjustment:
    id: strawberry.ID = record_field(
        source="request_no", description="Billing's request number (申请单号), e.g. TZ20261126000001."
    )
    account_no: str
    reason: d.FeeAdjustmentReason
    amount: Money = strawberry.field(description="Signed: negative lowers what the account owes.")
    explanation: str
    bill_no: str | None
    status: d.FeeAdjustmentStatus
    submitted_at: datetime | None
    client_ref: str = strawberry.field(
        description="Our reference, written into billing's reason text: search for it there."
    )

    @classmethod
    def of(cls, record: FeeAdjustmentRequest) -> Self:
        return from_record(cls, record)
