"""Identifying a caller the number did not: candidates (always masked) and the verification's answer."""

from __future__ import annotations

from typing import Self

import strawberry

from schema.masking import mask_address, mask_name, star
from services.identify import Candidate, Verification


@strawberry.type(
    description="Someone the caller may be, as far as an agent may know before verifying: masked "
    "always (whatever the caller's scopes), with an id that works on this call only."
)
class IdentificationCandidate:
    candidate_id: strawberry.ID = strawberry.field(
        description="Pass to `verifyCaller` and `bindCaller` on this call."
    )
    account_no: str = strawberry.field(description="户号, masked: the first three and last two digits.")
    holder_name: str = strawberry.field(description="户名, masked.")
    address: str | None = strawberry.field(description="Down to the 小区, never the building or flat.")

    @classmethod
    def of(cls, found: Candidate) -> Self:
        a = found.account
        return cls(
            candidate_id=strawberry.ID(found.candidate_id),
            account_no=star(a.account_no, 3, 2),
            holder_name=mask_name(a.holder_name),
            address=mask_address(a.address) if a.address else None,
        )


@strawberry.type(description="What the caller's answers showed. Wrong answers count on the call.")
class CallerVerification:
    verified: bool
    attempts_left: int = strawberry.field(description="Wrong answers left before the call locks.")
    locked: bool = strawberry.field(
        description="True: identification is over on this call (IDENTIFICATION_LOCKED from now on)."
    )

    @classmethod
    def of(cls, result: Verification) -> Self:
        return cls(verified=result.verified, attempts_left=result.attempts_left, locked=result.locked)


@strawberry.input(description="What the caller says, checked against the candidate's record.")
class VerifyCallerInput:
    candidate_id: strawberry.ID
    id_card_last4: str = strawberry.field(description="The last four characters of their ID number.")
    street: str = strawberry.field(description="The street of their address, e.g. 新华路.")


@strawberry.input(description="Bind the call to a verified candidate.")
class BindCallerInput:
    candidate_id: strawberry.ID
    reason: str = strawberry.field(description="Why, for the audit trail (≤ 200).")
