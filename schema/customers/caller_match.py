"""CallerMatch: whether Tidegate knows who is calling. "No match" is an answer, not an error."""

from __future__ import annotations

from typing import Self

import strawberry

from schema import refs
from schema.customers.customer import Customer
from schema.directives import CUSTOMER_DATA
from schema.info import Info
from services import caller_match

strawberry.enum(
    caller_match.MatchStatus,
    name="CallerMatchStatus",
    description="MATCHED: the calling number found customers. NO_MATCH: nobody on it (yet: see "
    "`searching`); offer identification. WITHHELD: no caller id. IDENTIFIED: the agent verified the "
    "caller and bound the call to them.",
)
strawberry.enum(
    caller_match.MatchSource,
    name="CallerMatchSource",
    description="PHONE: the calling number, within the pop's deadline. PHONE_BILLING_LATE: billing's "
    "slower phone search, after the pop said no match. IDENTIFIED: the agent's verification. "
    "UNKNOWN: a value this client does not know yet.",
)


@strawberry.type(
    description="Whether Tidegate knows who is calling on a call, said explicitly within the pop's "
    "deadline. Agents: their current call's only."
)
class CallerMatch:
    result: strawberry.Private[caller_match.CallerMatch]
    call_id: strawberry.ID
    status: caller_match.MatchStatus
    searching: bool = strawberry.field(
        description="True while billing's slower phone search still runs for this number: a match it "
        "finds arrives as a new `screenPop` event (source PHONE_BILLING_LATE)."
    )
    source: caller_match.MatchSource | None

    @classmethod
    def of(cls, result: caller_match.CallerMatch) -> Self:
        return cls(
            result=result,
            call_id=strawberry.ID(result.call_id),
            status=result.status,
            searching=result.searching,
            source=result.source,
        )

    @strawberry.field(
        description="The customers the call is bound to (each read with the caller's access).",
        directives=[CUSTOMER_DATA],
    )
    async def customers(self, info: Info) -> list[Customer | None] | None:
        return refs.readable_customers(info, self.result.customer_nos)
