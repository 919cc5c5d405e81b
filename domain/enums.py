"""Every coded value as an enum with an UNKNOWN member for codes the tables do not know."""

from __future__ import annotations

from enum import Enum


class AccountStatus(Enum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"
    ARREARS_NOTICE = "ARREARS_NOTICE"
    UNKNOWN = "UNKNOWN"


class WaterUseType(Enum):
    RESIDENTIAL = "RESIDENTIAL"
    PUBLIC_INSTITUTION = "PUBLIC_INSTITUTION"
    COMMERCIAL = "COMMERCIAL"
    SPECIAL_INDUSTRY = "SPECIAL_INDUSTRY"
    UNKNOWN = "UNKNOWN"


class PaymentMethod(Enum):
    COUNTER = "COUNTER"
    DIRECT_DEBIT = "DIRECT_DEBIT"
    DOOR_TO_DOOR = "DOOR_TO_DOOR"
    ONLINE = "ONLINE"
    PREPAID_DEDUCTION = "PREPAID_DEDUCTION"
    UNKNOWN = "UNKNOWN"


class MeterReadStatus(Enum):
    NORMAL = "NORMAL"
    ESTIMATED = "ESTIMATED"
    METER_BROKEN = "METER_BROKEN"
    NO_ACCESS = "NO_ACCESS"
    ZERO_USAGE = "ZERO_USAGE"
    REVERSED = "REVERSED"
    METER_STOPPED = "METER_STOPPED"
    METER_REPLACED = "METER_REPLACED"
    UNKNOWN = "UNKNOWN"


class BillStatus(Enum):
    UNPAID = "UNPAID"
    PAID = "PAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    REVERSED = "REVERSED"
    UNKNOWN = "UNKNOWN"


class DirectDebitStatus(Enum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"


class CustomerKind(Enum):
    INDIVIDUAL = "INDIVIDUAL"
    ORGANIZATION = "ORGANIZATION"
    UNKNOWN = "UNKNOWN"


class InteractionChannel(Enum):
    PHONE = "PHONE"
    WECHAT = "WECHAT"
    COUNTER = "COUNTER"
    APP = "APP"
    HOTLINE_12345 = "HOTLINE_12345"
    UNKNOWN = "UNKNOWN"


class InteractionType(Enum):
    INQUIRY = "INQUIRY"
    COMPLAINT = "COMPLAINT"
    REPAIR_REQUEST = "REPAIR_REQUEST"
    PAYMENT = "PAYMENT"
    NOTE = "NOTE"
    BILLING_DISPUTE = "BILLING_DISPUTE"
    UNKNOWN = "UNKNOWN"


class InteractionOutcome(Enum):
    RESOLVED = "RESOLVED"
    TRANSFERRED = "TRANSFERRED"
    AWAITING_CALLBACK = "AWAITING_CALLBACK"
    IN_PROGRESS = "IN_PROGRESS"
    UNKNOWN = "UNKNOWN"


class TicketStatus(Enum):
    ACCEPTED = "ACCEPTED"
    DISPATCHED = "DISPATCHED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    ON_HOLD = "ON_HOLD"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FOLLOW_UP = "FOLLOW_UP"
    CLOSED = "CLOSED"
    RETURNED = "RETURNED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_open(self) -> bool:
        """Work still owed to the customer: not completed, closed or cancelled."""
        return self in _OPEN_TICKETS


_OPEN_TICKETS = frozenset(
    {
        TicketStatus.ACCEPTED,
        TicketStatus.DISPATCHED,
        TicketStatus.ACKNOWLEDGED,
        TicketStatus.ON_HOLD,
        TicketStatus.IN_PROGRESS,
        TicketStatus.RETURNED,
    }
)


class TicketCategory(Enum):
    LEAK = "LEAK"
    BURST_MAIN = "BURST_MAIN"
    NO_WATER = "NO_WATER"
    LOW_PRESSURE = "LOW_PRESSURE"
    WATER_QUALITY = "WATER_QUALITY"
    METER_FAULT = "METER_FAULT"
    BILLING_DISPUTE = "BILLING_DISPUTE"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class TicketPriority(Enum):
    CRITICAL = "CRITICAL"
    URGENT = "URGENT"
    NORMAL = "NORMAL"
    UNKNOWN = "UNKNOWN"


class PipeMaterial(Enum):
    DUCTILE_IRON = "DUCTILE_IRON"
    PE = "PE"
    STEEL = "STEEL"
    GREY_CAST_IRON = "GREY_CAST_IRON"
    PVC = "PVC"
    UNKNOWN = "UNKNOWN"


class PipeStatus(Enum):
    IN_SERVICE = "IN_SERVICE"
    OUT_OF_SERVICE = "OUT_OF_SERVICE"
    PLANNED = "PLANNED"
    UNKNOWN = "UNKNOWN"


class OutageKind(Enum):
    PLANNED = "PLANNED"
    EMERGENCY = "EMERGENCY"
    UNKNOWN = "UNKNOWN"


class OutageStatus(Enum):
    SCHEDULED = "SCHEDULED"
    ACTIVE = "ACTIVE"
    RESTORED = "RESTORED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"


class FeeAdjustmentReason(Enum):
    """调整类型: why billing is asked to change what an account owes."""

    LATE_FEE_WAIVER = "LATE_FEE_WAIVER"
    VOLUME_CORRECTION = "VOLUME_CORRECTION"
    CHARGE_REFUND = "CHARGE_REFUND"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class FeeAdjustmentStatus(Enum):
    """申请状态 of an adjustment request: billing queues every one for a clerk's approval."""

    PENDING_APPROVAL = "PENDING_APPROVAL"
    UNKNOWN = "UNKNOWN"


class MainKind(Enum):
    """What a main carries: 配水管 feeds service connections, 输水管 carries water between works."""

    DISTRIBUTION = "DISTRIBUTION"
    TRANSMISSION = "TRANSMISSION"
    UNKNOWN = "UNKNOWN"


class ValveBoundary(Enum):
    """Whether a valve sits on a DMA or pressure-zone boundary (those stand normally closed)."""

    NONE = "NONE"
    DMA = "DMA"
    PRESSURE_ZONE = "PRESSURE_ZONE"
    UNKNOWN = "UNKNOWN"


class SourceKind(Enum):
    WATER_WORKS = "WATER_WORKS"  # 水厂
    CLEAR_WATER_RESERVOIR = "CLEAR_WATER_RESERVOIR"  # 清水池
    ELEVATED_TANK = "ELEVATED_TANK"  # 高位水池
    PUMP_STATION = "PUMP_STATION"  # 加压泵站
    UNKNOWN = "UNKNOWN"


class SensitiveCategory(Enum):
    """Why a customer must hear first when the water goes: care needs, not commercial weight."""

    HOSPITAL = "HOSPITAL"
    DIALYSIS = "DIALYSIS"  # home dialysis patient
    SCHOOL = "SCHOOL"
    ELDERLY_ALONE = "ELDERLY_ALONE"  # 孤老
    LOW_INCOME = "LOW_INCOME"  # 低保
    UNKNOWN = "UNKNOWN"
