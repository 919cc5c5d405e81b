"""What we ask a back office to create, in our vocabulary: the write-side twins of `records`, and the
receipts a back office gives for requests it only queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.enums import (
    FeeAdjustmentReason,
    FeeAdjustmentStatus,
    OutageKind,
    OutageStatus,
    TicketCategory,
    TicketPriority,
)
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
    # The master order this one is a task of (an outage's valve closures under its repair order).
    parent_id: str | None = None


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


@dataclass(frozen=True, slots=True)
class OutageDraft:
    """A 停水 notice to publish on the GIS's outage layer. `outage_id` is ours and unique on the layer
    (a second publish under it answers with the first); `area` is one ring around the dry mains."""

    outage_id: str
    kind: OutageKind
    status: OutageStatus
    reason: str
    starts_at: datetime
    estimated_restore_at: datetime
    main_object_ids: tuple[int, ...]
    valve_object_ids: tuple[int, ...]
    affected_accounts: int
    area: tuple[GeoPoint, ...]


@dataclass(frozen=True, slots=True)
class SmsDraft:
    """One text message for the CRM's SMS gateway. `client_ref` is unique at the CRM: a second send
    under it is counted as a duplicate and not sent (one notice per outage and customer)."""

    client_ref: str
    customer_no: str
    mobile: str  # national digits
    text: str


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    """What the CRM did with a batch: queued for sending, or refused as already sent under its ref."""

    accepted: int
    duplicates: int
