"""FeeAdjustment: a request queued in billing for a clerk's approval, as billing acknowledged it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain import enums as d
from domain.drafts import FeeAdjustmentRequest
from schema.directives import RequiresScopes
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
    record: strawberry.Private[FeeAdjustmentRequest]

    @strawberry.field(description="Billing's request number (申请单号), e.g. TZ20261126000001.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.request_no)

    @strawberry.field
    def account_no(self) -> str:
        return self.record.account_no

    @strawberry.field
    def reason(self) -> d.FeeAdjustmentReason:
        return self.record.reason

    @strawberry.field(description="Signed: negative lowers what the account owes.")
    def amount(self) -> Money:
        return Money.of(self.record.amount)

    @strawberry.field
    def explanation(self) -> str:
        return self.record.explanation

    @strawberry.field
    def bill_no(self) -> str | None:
        return self.record.bill_no

    @strawberry.field
    def status(self) -> d.FeeAdjustmentStatus:
        return self.record.status

    @strawberry.field
    def submitted_at(self) -> datetime | None:
        return self.record.submitted_at

    @strawberry.field(description="Our reference, written into billing's reason text: search for it there.")
    def client_ref(self) -> str:
        return self.record.client_ref
