"""What billing keeps under an account: bills with tier lines, payments, the meter, the mandate.

Each is filled from billing's record by field name (`schema.from_record`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

import strawberry

from domain import records
from domain.enums import BillStatus, DirectDebitStatus, MeterReadStatus, PaymentMethod
from schema.directives import CUSTOMER_DATA, MaskKind, mask
from schema.from_record import from_record
from schema.info import Info
from schema.scalars import Money


@strawberry.type(description="One annual price tier's share of a bill (阶梯水价).")
class TierLine:
    tier: int
    volume_m3: int
    unit_price: Money = strawberry.field(description="Per cubic metre.")
    amount: Money


@strawberry.type
class Bill:
    bill_no: str
    period: str = strawberry.field(description='Billing period, "YYYY-MM".')
    read_at: datetime | None
    usage_m3: int
    water: Money = strawberry.field(description="水费.")
    sewage: Money = strawberry.field(description="污水处理费.")
    resource: Money = strawberry.field(description="水资源费.")
    total: Money
    paid: Money
    outstanding: Money
    status: BillStatus
    issued_on: date | None
    due_on: date | None
    paid_at: datetime | None
    tiers: list[TierLine]

    @classmethod
    def of(cls, record: records.Bill) -> Self:
        return from_record(cls, record)


@strawberry.type
class Payment:
    serial: str
    paid_at: datetime | None
    amount: Money
    method: PaymentMethod
    bill_no: str | None

    @classmethod
    def of(cls, record: records.Payment) -> Self:
        return from_record(cls, record)


@strawberry.type
class MeterRead:
    read_at: datetime | None
    previous_reading: int | None
    reading: int
    usage_m3: int
    status: MeterReadStatus
    reader: str | None


@strawberry.type
class Meter:
    meter_no: str
    size_mm: int | None
    installed_on: date | None
    reads: list[MeterRead] = strawberry.field(description="Newest first.")

    @classmethod
    def of(cls, record: records.Meter) -> Self:
        return from_record(cls, record)


@strawberry.type(description="A bank direct-debit mandate (代扣).", directives=[CUSTOMER_DATA])
class DirectDebit:
    bank_code: str
    bank_name: str
    bank_account: str = strawberry.field(directives=[mask(MaskKind.BANK_ACCOUNT)])
    holder: str = strawberry.field(directives=[mask(MaskKind.NAME)])
    status: DirectDebitStatus
    signed_on: date | None
    owner: strawberry.Private[str | None] = None  # the account holder's customer number

    def owner_customer_no(self, info: Info) -> str | None:
        return self.owner

    @classmethod
    def of(cls, record: records.DirectDebit, owner: str | None) -> Self:
        return from_record(cls, record, owner=owner)
