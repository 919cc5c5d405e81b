"""Interaction notes: what the caller said, written on the customer's contact history in the CRM.

An agent notes only the customer on their current call; supervisors note anyone. Idempotent under the
client's key (`services.idempotency`). The CRM takes no client reference, so ours rides at the end of
the note's text (` [TG…]`, stripped again whenever a history is read): a note whose answer was lost is
found in the contact's latest interactions by it, never added twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.drafts import NoteDraft
from domain.records import Interaction
from infra.deadline import deadline
from services.authorize import require_customer
from services.context import RequestContext
from services.errors import ErrorCode, guarded, public_error
from services.idempotency import fingerprint, scoped_key, side_effect
from services.mutations import idempotency_of

MUTATION = "addInteractionNote"
TEXT_MAX = 1_900  # the CRM takes 2,000 characters; our reference needs 35 of them
_CUSTOMER_NO = re.compile(r"KH\d{8}")


@dataclass(frozen=True, slots=True)
class NoteRequest:
    """The note, normalised: the canonical input the key's fingerprint is taken of."""

    customer_no: str
    text: str


def note_request(customer_id: str, text: str) -> NoteRequest:
    """The input checked and normalised (BAD_USER_INPUT otherwise), before the key is looked at."""
    customer = customer_id.strip().upper()
    if not _CUSTOMER_NO.fullmatch(customer):
        raise _bad(f"a customer id looks like KH00000001, got {customer_id!r}")
    body = text.strip()
    if not body or len(body) > TEXT_MAX:
        raise _bad(f"text is required, at most {TEXT_MAX} characters")
    return NoteRequest(customer, body)


@guarded
async def add_interaction_note(
    ctx: RequestContext, request: NoteRequest, idempotency_key: str
) -> Interaction:
    require_customer(ctx, request.customer_no)  # an agent: the caller on their current call only
    principal, idempotency = ctx.access.principal, idempotency_of(ctx)
    assert principal is not None  # @requiresScopes let nobody else in
    key = scoped_key(principal.client_id, MUTATION, idempotency_key)
    print_ = fingerprint(MUTATION, principal.subject, principal.agent_id, request)
    author = principal.agent_id or principal.subject

    async def find() -> Interaction | None:
        return await ctx.backends.crm.note_by_reference(await _contact_id(ctx, request), key.reference)

    async def add() -> Interaction:
        draft = NoteDraft(await _contact_id(ctx, request), request.text, author, key.reference)
        return await side_effect(ctx.backends.crm.add_note(draft))

    with deadline(None):  # a write gets the CRM's own timeout, not what is left of a budget
        return await idempotency.run(key, print_, Interaction, find=find, perform=add)


async def _contact_id(ctx: RequestContext, request: NoteRequest) -> str:
    """The CRM's id for the customer (the request's loader asks once, for `find` and the write both)."""
    customer = await ctx.loaders.customer_by_no.load(request.customer_no)
    if customer is None or not customer.crm_id:
        raise public_error(f"no customer {request.customer_no}", ErrorCode.NOT_FOUND)
    return customer.crm_id


def _bad(message: str) -> Exception:
    return public_error(message, ErrorCode.BAD_USER_INPUT)
