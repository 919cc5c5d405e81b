"""An agent reveals one customer's PII, on purpose and with a reason: the audited exception to masking.

Agents see PII masked (`pii:unmask` is for supervisors). When the caller must be verified against a
full number, the agent asks with `pii:reveal` and a stated reason; least privilege still holds (the
customer on their current call only, `services.authorize`), and the audit trail gets a `pii_revealed`
record naming the customer, the fields and the reason, never the values.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.authorize import require_customer
from services.context import RequestContext
from services.customers import accounts, customer_ref, profile
from services.errors import ErrorCode, guarded, public_error

REASON_MIN, REASON_MAX = 4, 200
FIELDS = ("name", "mobile", "landline", "idCard")


@dataclass(frozen=True, slots=True)
class RevealedPii:
    customer_no: str
    name: str
    mobile: str | None
    landline: str | None
    id_card: str | None


def reveal_reason(reason: str) -> str:
    """The reason as it is audited (BAD_USER_INPUT when missing, too short or too long)."""
    cleaned = " ".join(reason.split())
    if not REASON_MIN <= len(cleaned) <= REASON_MAX:
        raise public_error(
            f"a reason of {REASON_MIN}-{REASON_MAX} characters is required to reveal PII",
            ErrorCode.BAD_USER_INPUT,
        )
    return cleaned


@guarded
async def reveal_customer_pii(ctx: RequestContext, customer_id: str, reason: str) -> RevealedPii:
    ref = customer_ref(customer_id)
    why = reveal_reason(reason)
    require_customer(ctx, ref.customer_no)  # the customer on the agent's current call, or FORBIDDEN
    customer = await profile(ctx, ref)
    owned = await accounts(ctx, ref)
    ctx.audit.revealed(ref.customer_no, list(FIELDS), why)
    return RevealedPii(
        customer_no=customer.customer_no,
        name=customer.name,
        mobile=customer.mobiles[0] if customer.mobiles else None,
        landline=customer.landlines[0] if customer.landlines else None,
        id_card=next((a.id_card for a in owned if a.id_card), None),
    )
