"""ScreenPop: a call ringing at an agent's phone, filled from the CTI event by field name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Self

import strawberry

from domain.timestamps import SHANGHAI
from schema import refs
from schema.customers.caller_match import CallerMatch
from schema.customers.customer import Customer
from schema.directives import CUSTOMER_DATA, MaskKind, mask
from schema.from_record import from_record
from schema.info import Info
from services import subscriptions
from services.subscriptions import PopEvent


@strawberry.type(
    description="A call ringing at an agent's phone, and who is calling: pushed before they answer."
)
class ScreenPop:
    event: strawberry.Private[PopEvent]
    call_id: strawberry.ID
    agent_id: strawberry.ID
    caller: str | None = strawberry.field(
        description="The calling number as the CTI gave it.", directives=[mask(MaskKind.PHONE)]
    )
    ringing_at: datetime = strawberry.field(description="When the CTI reported the call ringing.")
    prefetched: bool = strawberry.field(
        description="True: served from the screen pop Tidegate ran when the phone rang (no back office "
        "asked now); false: looked up for this event."
    )

    @classmethod
    def of(cls, event: PopEvent) -> Self:
        """The CTI's epoch seconds become a time in the utility's zone; the rest is copied by name."""
        ringing_at = datetime.fromtimestamp(event.ringing_at, UTC).astimezone(SHANGHAI)
        return from_record(cls, event, event=event, ringing_at=ringing_at)

    def owner_customer_no(self, info: Info) -> str | None:
        """The caller's number is theirs only when it matched exactly one customer (else it stays masked)."""
        nos = self.event.customer_nos
        return nos[0] if nos is not None and len(nos) == 1 else None

    @strawberry.field(
        description="Whether the caller is known: NO_MATCH within the deadline for a number nobody "
        "knows (a later match arrives as a new event), WITHHELD without caller id.",
        directives=[CUSTOMER_DATA],
    )
    async def match(self, info: Info) -> CallerMatch:
        return CallerMatch.of(subscriptions.pop_match(info.context, self.event))

    @strawberry.field(
        description="The customers on the calling number, as `customerByPhone` returns them.",
        directives=[CUSTOMER_DATA],
    )
    async def customers(self, info: Info) -> list[Customer | None] | None:
        found = await subscriptions.pop_customers(info.context, self.event)
        return refs.readable_customers(info, [r.customer_no for r in found])
