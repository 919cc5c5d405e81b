"""Fee adjustments: a supervisor asks billing to change what an account owes; a billing clerk approves.

Idempotent under the client's key like every write (`services.idempotency`), with one difference billing
forces on us: it takes no client reference and has no query for adjustment requests, so a submission
whose answer was lost (a timeout, a dropped or garbled answer) cannot be reconciled. Its key stays
uncertain and every retry is IDEMPOTENCY_OUTCOME_UNKNOWN, never a blind second submission: a person
checks billing's approval queue for our reference (in the reason text, `[TG…]`) and, if it is not
there, files again under a new key. A SOAP Fault is billing's own answer that nothing was queued (its
ledger call is one transaction), so it frees the key. During 日结 (23:30-00:30 Shanghai) billing refuses
writes: BACKEND_REJECTED with `reason: SETTLEMENT_WINDOW` and `retryAfter`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from domain.drafts import FeeAdjustmentDraft, FeeAdjustmentRequest
from domain.enums import FeeAdjustmentReason
from domain.money import Money
from infra.deadline import deadline
from infra.errors import BackendServerError, OutcomeUnknown, TemporarilyRefused
from services.accounts import normalize_account_no
from services.authorize import require_account
from services.context import RequestContext
from services.errors import ErrorCode, guarded, public_error
from services.idempotency import InDoubt, fingerprint, scoped_key, side_effect
from services.mutations import idempotency_of

MUTATION = "requestFeeAdjustment"
EXPLANATION_MAX = 200  # a reason for the approver, not a letter
AMOUNT_MAX_FEN = 999_999_999  # TZJE takes at most nine digits
SETTLEMENT_WINDOW = "SETTLEMENT_WINDOW"
_BILL_NO = re.compile(r"[A-Za-z0-9-]{1,32}")


@dataclass(frozen=True, slots=True)
class AdjustmentRequest:
    """What the supervisor asked for, normalised: the canonical input the key's fingerprint is taken of."""

    account_no: str
    reason: FeeAdjustmentReason
    amount_fen: int
    explanation: str
    bill_no: str | None = None


def adjustment_request(
    account_no: str,
    reason: FeeAdjustmentReason,
    amount_fen: int,
    explanation: str,
    bill_no: str | None = None,
) -> AdjustmentRequest:
    """The input checked and normalised (BAD_USER_INPUT otherwise), before the key is looked at."""
    if reason is FeeAdjustmentReason.UNKNOWN:
        raise _bad("reason UNKNOWN cannot be requested: use OTHER")
    if amount_fen == 0 or abs(amount_fen) > AMOUNT_MAX_FEN:
        raise _bad(f"amountFen is a non-zero number of fen, at most {AMOUNT_MAX_FEN} either way")
    text = explanation.strip()
    if not text or len(text) > EXPLANATION_MAX:
        raise _bad(f"explanation is required, at most {EXPLANATION_MAX} characters")
    bill = bill_no.strip() if bill_no and bill_no.strip() else None
    if bill is not None and not _BILL_NO.fullmatch(bill):
        raise _bad(f"not a bill number: {bill_no!r}")
    return AdjustmentRequest(normalize_account_no(account_no), reason, amount_fen, text, bill)


@guarded
async def request_fee_adjustment(
    ctx: RequestContext, request: AdjustmentRequest, idempotency_key: str
) -> FeeAdjustmentRequest:
    # Whoever may adjust an account must be allowed to read it (before the key: a replay is an answer).
    require_account(ctx, request.account_no)
    principal, idempotency = ctx.access.principal, idempotency_of(ctx)
    assert principal is not None  # @requiresScopes let nobody else in
    key = scoped_key(principal.client_id, MUTATION, idempotency_key)
    print_ = fingerprint(MUTATION, principal.subject, principal.agent_id, request)
    draft = FeeAdjustmentDraft(
        account_no=request.account_no,
        reason=request.reason,
        amount=Money(request.amount_fen),
        explanation=request.explanation,
        operator=principal.agent_id or principal.subject,
        client_ref=key.reference,
        bill_no=request.bill_no,
    )
    try:
        with deadline(None):  # a write gets billing's own timeout, not what is left of a budget
            return await idempotency.run(
                key, print_, FeeAdjustmentRequest, find=_unsearchable, perform=lambda: _submit(ctx, draft)
            )
    except TemporarilyRefused as exc:  # billing's 日结: its adapter's SettlementInProgress
        raise public_error(
            f"billing refuses writes during its nightly settlement (日结): {exc.message}",
            ErrorCode.BACKEND_REJECTED,
            backend=exc.backend,
            reason=SETTLEMENT_WINDOW,
            retryAfter=max(1, math.ceil(exc.retry_after_s or 60)),
        ) from None
    except OutcomeUnknown:
        raise public_error(
            f"billing may have queued this adjustment and cannot be asked whether it did: look for "
            f"{key.reference} in its approval queue (待审批); only if it is not there, file again under a "
            "new idempotencyKey",
            ErrorCode.IDEMPOTENCY_OUTCOME_UNKNOWN,
            backend="billing",
            reference=key.reference,
        ) from None


async def _submit(ctx: RequestContext, draft: FeeAdjustmentDraft) -> FeeAdjustmentRequest:
    """The one write. A Fault (9999 included) is billing answering that it failed: nothing was queued."""
    try:
        return await side_effect(ctx.backends.billing.submit_fee_adjustment(draft))
    except InDoubt as doubt:
        if isinstance(doubt.cause, BackendServerError) and doubt.cause.vendor_code is not None:
            raise doubt.cause from None
        raise


async def _unsearchable() -> FeeAdjustmentRequest | None:
    raise OutcomeUnknown("billing", "SubmitFeeAdjustment has no lookup: a lost answer cannot be found")


def _bad(message: str) -> Exception:
    return public_error(message, ErrorCode.BAD_USER_INPUT)
