"""FeeAdjustment: a request queued in billing for a clerk's approval, as billing acknowledged it."""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError

from backends.domain import enums as d
from backends.domain.drafts import FeeAdjustmentRequest
from resolvers import accounts
from resolvers.access import BILLING_ADJUST
from schema.directives import MaskKind, RequiresScopes, mask
from schema.info import Info
from schema.scalars import Money

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

    async def owner_customer_no(self, info: Info) -> str | None:
        """The account holder (billing's account record, through the request's loader); None if it
        cannot be read, which keeps the explanation masked."""
        try:
            return (await accounts.record(info.context, self.record.account_no)).customer_no
        except GraphQLError:
            return None

    @strawberry.field(
        description="The supervisor's words; phone, ID and card numbers in them masked.",
        directives=[mask(MaskKind.FREE_TEXT)],
    )
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
