"""RevealedCustomerPii: what `revealCustomerPii` answers, in clear by design (no @mask: the agent
asked for it with a reason, and `services.reveal` audited it)."""

from __future__ import annotations

from typing import Self

import strawberry

from services.reveal import RevealedPii


@strawberry.type(description="A customer's PII in clear, revealed on purpose with a reason (audited).")
class RevealedCustomerPii:
    customer_id: strawberry.ID = strawberry.field(description="e.g. KH00000001")
    name: str
    mobile: str | None
    landline: str | None
    id_card: str | None

    @classmethod
    def of(cls, revealed: RevealedPii) -> Self:
        return cls(
            customer_id=strawberry.ID(revealed.customer_no),
            name=revealed.name,
            mobile=revealed.mobile,
            landline=revealed.landline,
            id_card=revealed.id_card,
        )
