"""What we ask a back office to create, in our vocabulary: the write-side twins of `records`, and the
receipts a back office gives for requests it only queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.enums import FeeAdjustmentReason, FeeAdjustmentStatus, TicketCategory, TicketPriority
from domain.geo import GeoPoint
from domain.money import Money


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """A repair ticket to file. `client_ref` is our reference for finding it again when the create's
    answer is lost (the work-order system keeps one order per reference); `client_fingerprint`, stored
    beside it, says what the reference was first used for."""

    category: TicketCategory
    priority: TicketPriority
    description: str
    client_ref: str
    customer_no: str | None = None
    account_no: str | None = None
    address: str | None = None
    location: GeoPoint | None = None
    grid_code: str | None = None
    worker_id: str | None = None
    reporter_phone: str | None = None
    client_fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class FeeAdjustmentDraft:
    """An adjustment for billing's clerks to approve. `amount` is signed: negative lowers what the
    account owes. Billing takes no client reference and cannot be searched for requests, so
    `client_ref` travels in the free-text reason, where the approver (and a person reconciling) sees it."""

    account_no: str
    reason: FeeAdjustmentReason
    amount: Money
    explanation: str
    operator: str
    client_ref: str
    bill_no: str | None = None


@dataclass(frozen=True, slots=True)
class FeeAdjustmentRequest:
    """Billing's receipt (申请单) for a queued adjustment, with what we asked for beside it: billing
    echoes only the number, account, status and time."""

    request_no: str
    account_no: str
    status: FeeAdjustmentStatus
    submitted_at: datetime | None
    reason: FeeAdjustmentReason
    amount: Money
    explanation: str
    bill_no: str | None
    client_ref: str


@dataclass(frozen=True, slots=True)
class NoteDraft:
    """A note for a CRM contact's history. The CRM has no client reference either: `client_ref` is
    appended to the note's text so a lost answer can be found again in the contact's history."""

    contact_id: str
    text: str
    agent_id: str
    client_ref: str
