"""The root Mutation: writes the workbench makes, each idempotent under a client-chosen key."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.enums import FeeAdjustmentReason, OutageKind, TicketCategory
from schema.accounts.adjustment import BILLING_ADJUSTS, FeeAdjustment
from schema.customers.caller_match import CallerMatch
from schema.customers.identification import BindCallerInput, CallerVerification, VerifyCallerInput
from schema.customers.interaction import Interaction
from schema.customers.revealed import RevealedCustomerPii
from schema.directives import OUTAGE_DECLARES, RequiresScopes
from schema.free_text import mask_free_text
from schema.info import Info
from schema.network.outage_declaration import OutageDeclaration, OutageRestoration
from schema.tickets.ticket import Ticket
from services import adjustments, identify, mutations, notes, outages, reveal
from services.access import CUSTOMER_READ, INTERACTION_WRITE, PII_REVEAL, TICKET_WRITE

TICKET_WRITES = RequiresScopes(scopes=[[TICKET_WRITE]])
IDENTIFIES = RequiresScopes(scopes=[[CUSTOMER_READ]])  # agents, on their own call
INTERACTION_WRITES = RequiresScopes(scopes=[[INTERACTION_WRITE]])
PII_REVEALS = RequiresScopes(scopes=[[PII_REVEAL]])


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


@strawberry.input(description="A fee adjustment for billing's clerks to approve.")
class FeeAdjustmentInput:
    account_no: str = strawberry.field(description="户号, leading zeros optional")
    reason: FeeAdjustmentReason
    amount_fen: int = strawberry.field(
        description="Signed fen, never 0: negative lowers what the account owes (-1250 is 12.50 yuan off)."
    )
    explanation: str = strawberry.field(description="Why, for the approver (≤ 200).")
    bill_no: str | None = strawberry.field(default=None, description="The bill it corrects, if one.")


@strawberry.input(description="A note on a customer's contact history in the CRM.")
class AddInteractionNoteInput:
    customer_id: strawberry.ID = strawberry.field(description="e.g. KH00000001")
    text: str = strawberry.field(description="What was said or agreed (≤ 1900).")


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
            _as_written(info, input.description),
            str(input.customer_id) if input.customer_id is not None else None,
            input.account_no,
            input.address,
            input.lat,
            input.lon,
        )
        return Ticket.of(await mutations.create_ticket(info.context, request, idempotency_key))

    @strawberry.mutation(
        description="Ask billing to adjust what an account owes; a billing clerk approves it. Retry with "
        "the same `idempotencyKey` after a failure. Billing cannot be searched for requests, so if its "
        "answer was lost the key stays IDEMPOTENCY_OUTCOME_UNKNOWN (check billing's queue for `clientRef`); "
        "refused during billing's nightly settlement (BACKEND_REJECTED, reason SETTLEMENT_WINDOW).",
        directives=[BILLING_ADJUSTS],
    )
    async def request_fee_adjustment(
        self, info: Info, input: FeeAdjustmentInput, idempotency_key: str
    ) -> FeeAdjustment:
        request = adjustments.adjustment_request(
            input.account_no,
            input.reason,
            input.amount_fen,
            _as_written(info, input.explanation),
            input.bill_no,
        )
        return FeeAdjustment.of(
            await adjustments.request_fee_adjustment(info.context, request, idempotency_key)
        )

    @strawberry.mutation(
        description="Add a note to a customer's contact history (an agent: the caller on their current "
        "call). Retry with the same `idempotencyKey` after any failure: the note is never added twice.",
        directives=[INTERACTION_WRITES],
    )
    async def add_interaction_note(
        self, info: Info, input: AddInteractionNoteInput, idempotency_key: str
    ) -> Interaction:
        request = notes.note_request(str(input.customer_id), _as_written(info, input.text))
        added = await notes.add_interaction_note(info.context, request, idempotency_key)
        return Interaction.of(added, request.customer_no)

    @strawberry.mutation(
        description="Check the caller's answers (last four of the ID number, the street) against a "
        "candidate from `identificationCandidates`, on your current call. Wrong answers count; after "
        "the last one the call is locked for identification (IDENTIFICATION_LOCKED).",
        directives=[IDENTIFIES],
    )
    async def verify_caller(self, info: Info, input: VerifyCallerInput) -> CallerVerification:
        found = await identify.verify(
            info.context, str(input.candidate_id), input.id_card_last4, input.street
        )
        return CallerVerification.of(found)

    @strawberry.mutation(
        description="Bind your current call to the verified candidate's customer (audited with your "
        "reason): the call's customers become that one alone, for every agent on it, and the pop "
        "updates. IDENTIFICATION_NOT_VERIFIED unless `verifyCaller` said yes for this candidate.",
        directives=[IDENTIFIES],
    )
    async def bind_caller(self, info: Info, input: BindCallerInput) -> CallerMatch:
        return CallerMatch.of(await identify.bind(info.context, str(input.candidate_id), input.reason))

    @strawberry.mutation(
        description="Show one customer's PII in clear, on purpose: `reason` (4-200 characters) is "
        "written to the audit trail with the customer and fields (never the values). An agent: the "
        "customer on their current call only (FORBIDDEN otherwise). Reads nothing new; not idempotent "
        "because it changes nothing but the audit trail.",
        directives=[PII_REVEALS],
    )
    async def reveal_customer_pii(
        self, info: Info, customer_id: strawberry.ID, reason: str
    ) -> RevealedCustomerPii:
        return RevealedCustomerPii.of(
            await reveal.reveal_customer_pii(info.context, str(customer_id), reason)
        )

    @strawberry.mutation(
        description="Declare an outage on a main (supervisors): runs the valve-isolation trace, files the "
        "repair as ONE master work order with a child task per valve to close, publishes the 停水 notice "
        "on the GIS, and texts every affected customer once. Declaring a main whose outage is still "
        "active answers with that outage (whatever the key); retry with the same `idempotencyKey`. "
        "Afterwards, createTicket from an affected customer answers with the master order.",
        directives=[OUTAGE_DECLARES],
    )
    async def declare_outage(
        self,
        info: Info,
        main_id: strawberry.ID,
        kind: OutageKind,
        estimated_restore: datetime,
        reason: str,
        idempotency_key: str,
    ) -> OutageDeclaration:
        request = outages.outage_request(str(main_id), kind, estimated_restore, reason)
        return OutageDeclaration.of(await outages.declare_outage(info.context, request, idempotency_key))

    @strawberry.mutation(
        description="Restore a declared outage (supervisors): closes the GIS notice, completes the master "
        "order and its tasks, and sends the all-clear once per customer. OUTAGE_NOT_ACTIVE for a "
        "scheduled or cancelled notice; restoring a restored one answers with it.",
        directives=[OUTAGE_DECLARES],
    )
    async def restore_outage(
        self, info: Info, outage_id: strawberry.ID, idempotency_key: str
    ) -> OutageRestoration:
        found = await outages.restore_outage(info.context, str(outage_id), idempotency_key)
        return OutageRestoration.of(found)


def _as_written(info: Info, text: str) -> str:
    """Free text as the back office will keep it: as typed (the record), or with its phone, ID and
    card numbers masked when `TIDEGATE_REDACT_FREE_TEXT_AT_WRITE` says so. Reads mask it either way."""
    return mask_free_text(text) if info.context.redact_free_text_at_write else text
