"""Domain records: frozen, typed, in our vocabulary. Times are aware datetimes, money is fen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.enums import (
    AccountStatus,
    BillStatus,
    CustomerKind,
    DirectDebitStatus,
    InteractionChannel,
    InteractionOutcome,
    InteractionType,
    MeterReadStatus,
    OutageKind,
    OutageStatus,
    PaymentMethod,
    PipeMaterial,
    PipeStatus,
    TicketCategory,
    TicketPriority,
    TicketStatus,
    WaterUseType,
)
from domain.geo import GeoPoint, in_rings
from domain.money import Money


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer as the CRM knows them; `customer_no` is the utility's number, e.g. KH00000001."""

    customer_no: str
    crm_id: str
    name: str
    kind: CustomerKind
    mobiles: tuple[str, ...]
    landlines: tuple[str, ...]
    account_nos: tuple[str, ...]
    vip: bool
    tags: tuple[str, ...]
    since: datetime | None


@dataclass(frozen=True, slots=True)
class Account:
    """A billing account (户): who holds it, where, and what is owed as of now."""

    account_no: str
    customer_no: str
    holder_name: str
    address: str | None
    status: AccountStatus
    use_type: WaterUseType
    pay_method: PaymentMethod
    mobile: str | None
    landline: str | None
    id_card: str | None
    balance: Money
    arrears: Money
    late_fee: Money
    current_tier: int | None
    year_to_date_m3: int | None
    opened_on: date | None
    meter_no: str | None
    direct_debit: bool


@dataclass(frozen=True, slots=True)
class TierLine:
    tier: int
    volume_m3: int
    unit_price: Money
    amount: Money


@dataclass(frozen=True, slots=True)
class Bill:
    bill_no: str
    period: str  # "2026-10"
    read_at: datetime | None
    usage_m3: int
    water: Money
    sewage: Money
    resource: Money
    total: Money
    paid: Money
    outstanding: Money
    status: BillStatus
    issued_on: date | None
    due_on: date | None
    paid_at: datetime | None
    tiers: tuple[TierLine, ...]


@dataclass(frozen=True, slots=True)
class Payment:
    serial: str
    paid_at: datetime | None
    amount: Money
    method: PaymentMethod
    bill_no: str | None


@dataclass(frozen=True, slots=True)
class MeterRead:
    read_at: datetime | None
    previous_reading: int | None
    reading: int
    usage_m3: int
    status: MeterReadStatus
    reader: str | None


@dataclass(frozen=True, slots=True)
class Meter:
    meter_no: str
    size_mm: int | None
    installed_on: date | None
    reads: tuple[MeterRead, ...]  # newest first


@dataclass(frozen=True, slots=True)
class DirectDebit:
    bank_code: str
    bank_name: str
    bank_account: str
    holder: str
    status: DirectDebitStatus
    signed_on: date | None


@dataclass(frozen=True, slots=True)
class Interaction:
    interaction_id: str
    at: datetime
    channel: InteractionChannel
    kind: InteractionType
    outcome: InteractionOutcome
    agent_id: str | None
    summary: str
    duration_s: int
    account_no: str | None


@dataclass(frozen=True, slots=True)
class FieldWorker:
    worker_id: str
    name: str
    mobile: str | None
    grid_code: str | None


@dataclass(frozen=True, slots=True)
class TicketEvent:
    status: TicketStatus
    at: datetime
    operator: str | None
    remark: str | None


@dataclass(frozen=True, slots=True)
class Ticket:
    ticket_id: str
    customer_no: str | None
    account_no: str | None
    category: TicketCategory
    priority: TicketPriority
    status: TicketStatus
    description: str
    address: str | None
    location: GeoPoint | None
    grid_code: str | None
    assignee: FieldWorker | None
    client_ref: str | None
    created_at: datetime
    updated_at: datetime
    history: tuple[TicketEvent, ...]
    # The fingerprint of the request that filed it (createTicket's key's input and caller), kept at the
    # work-order system: how a key reused for another input is told apart without our own records.
    client_fingerprint: str | None = None
    # The master order this ticket is a child task of (an outage's valve closure), if any.
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class PipeSegment:
    """A water main between two junctions; `segment_id` is its asset number, e.g. GS-000205."""

    segment_id: str
    object_id: int
    road_name: str | None
    material: PipeMaterial
    diameter_mm: int | None
    installed_on: date | None
    pressure_zone: str | None
    dma: str | None
    status: PipeStatus
    length_m: float | None
    path: tuple[GeoPoint, ...]


@dataclass(frozen=True, slots=True)
class ServiceConnection:
    account_no: str
    location: GeoPoint
    main_object_id: int | None
    grid_code: str | None


@dataclass(frozen=True, slots=True)
class Grid:
    code: str
    name: str
    worker: FieldWorker | None


@dataclass(frozen=True, slots=True)
class Outage:
    outage_id: str
    kind: OutageKind
    status: OutageStatus
    reason: str | None
    starts_at: datetime | None
    estimated_restore_at: datetime | None
    main_object_ids: tuple[int, ...]
    area: tuple[tuple[GeoPoint, ...], ...]
    affected_accounts: int | None
    # The valves the outage closed (GIS `VALVE_IDS`): where the trace of who is without water starts.
    valve_object_ids: tuple[int, ...] = ()

    def covers(self, point: GeoPoint) -> bool:
        return in_rings(point, self.area)


@dataclass(frozen=True, slots=True)
class TicketStatusChange:
    """One status a ticket took, as the work-order system reported it (mapped to our vocabulary)."""

    ticket_id: str
    customer_no: str | None  # canonical, KH00000001
    status: TicketStatus
    sequence: int  # the vendor's per-ticket sequence number: higher is newer
    changed_at: datetime
    event_id: str  # the delivery's webhook id
