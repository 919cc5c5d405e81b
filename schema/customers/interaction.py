"""Interaction: one contact with the utility, filled from the CRM's record by field name."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from domain.enums import InteractionChannel, InteractionOutcome, InteractionType
from domain.records import Interaction as InteractionRecord
from schema.directives import MaskKind, mask
from schema.from_record import from_record, record_field
from schema.info import Info


@strawberry.type(description="One contact with the utility: a call, a chat, a counter visit, a note.")
class Interaction:
    customer_no: strawberry.Private[str]
    id: strawberry.ID = record_field(source="interaction_id")
    at: datetime
    channel: InteractionChannel
    type: InteractionType = record_field(source="kind")
    outcome: InteractionOutcome
    agent_id: str | None
    summary: str = record_field(
        description="What was said, as written; phone, ID and card numbers in it masked.",
        directives=[mask(MaskKind.FREE_TEXT)],
    )
    duration_seconds: int = record_field(source="duration_s")
    account_no: str | None

    @classmethod
    def of(cls, record: InteractionRecord, customer_no: str) -> Self:
        """`customer_no`: whose contact history it is (the CRM's record does not say)."""
        return from_record(cls, record, customer_no=customer_no)

    def owner_customer_no(self, info: Info) -> str | None:
        return self.customer_no
