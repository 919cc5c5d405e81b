"""The root Mutation: writes the workbench makes, each idempotent under a client-chosen key."""

from __future__ import annotations

import strawberry

from backends.domain.enums import TicketCategory
from resolvers import mutations
from resolvers.access import TICKET_WRITE
from schema.directives import RequiresScopes
from schema.info import Info
from schema.ticket import Ticket

TICKET_WRITES = RequiresScopes(scopes=[[TICKET_WRITE]])


@strawberry.input(
    description="A repair ticket to file. Say where: `lat`/`lon`, an account (its service connection), "
    "a customer with one account, or an `address` (filed undispatched: addresses are not geocoded)."
)
class CreateTicketInput:
    category: TicketCategory
    description: str = strawberry.field(description="What is wrong, in the caller's words (≤ 2000).")
    customer_id: strawberry.ID | None = strawberry.field(default=None, description="e.g. KH00000001")
    account_no: str | None = strawberry.field(default=None, description="户号, leading zeros optional")
    address: str | None = None
    lat: float | None = None
    lon: float | None = None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="File a repair ticket for the grid's field worker. Retry with the same "
        "`idempotencyKey` (a UUID per ticket) after any failure: the same input gets the same ticket, "
        "never a second one; another input under that key is IDEMPOTENCY_KEY_REUSED.",
        directives=[TICKET_WRITES],
    )
    async def create_ticket(self, info: Info, input: CreateTicketInput, idempotency_key: str) -> Ticket:
        request = mutations.ticket_request(
            input.category,
            input.description,
            str(input.customer_id) if input.customer_id is not None else None,
            input.account_no,
            input.address,
            input.lat,
            input.lon,
        )
        return Ticket(record=await mutations.create_ticket(info.context, request, idempotency_key))
