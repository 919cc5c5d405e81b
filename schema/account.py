"""Account and what billing knows about it: money owed, bills with tier lines, payments, meter."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import records
from domain.enums import (
    AccountStatus,
    BillStatus,
    DirectDebitStatus,
    MeterReadStatus,
    PaymentMethod,
    WaterUseType,
)
from domain.money import Money as DomainMoney
from schema.directives import CUSTOMER_DATA, NETWORK_DATA, MaskKind, key, mask
from schema.freshness import Freshness
from schema.info import Info
from schema.scalars import GeoPoint, Money
from services import accounts, entities
from services.customers import CustomerRef

if TYPE_CHECKING:
    from schema.customer import Customer
    from schema.network import Outage


@strawberry.type(
    description="A billing account (户). Its fields load lazily and are nullable, so its parts arrive in "
    "parallel and a failing backend blanks only the fields it owns.",
    directives=[CUSTOMER_DATA, key("accountNo")],
)
class Account:
    account_no: str = strawberry.field(description="户号: 10 digits with leading zeros.")

    @classmethod
    async def resolve_reference(cls, info: Info, accountNo: str) -> Account:
        """A router's `_entities` (the argument is named as the key is): the same access check and
        loader as `account(accountNo)`."""
        return cls(account_no=await entities.account(info.context, accountNo))

    async def _record(self, info: Info) -> records.Account:
        return await accounts.record(info.context, self.account_no, info.path.prev)

    async def owner_customer_no(self, info: Info) -> str | None:
        return (await self._record(info)).customer_no

    @strawberry.field
    async def customer(self, info: Info) -> Annotated[Customer, strawberry.lazy("schema.customer")] | None:
        from schema.customer import Customer

        return Customer(ref=CustomerRef((await self._record(info)).customer_no))

    @strawberry.field(
        description="How current the account's balance and arrears are: billing's answer is cached for a "
        "minute, and served older (stale: true) when billing is slow, failing or at capacity."
    )
    async def freshness(self, info: Info) -> Freshness | None:
        return Freshness.of(await accounts.cached_record(info.context, self.account_no))

    @strawberry.field(description="户名.", directives=[mask(MaskKind.NAME)])
    async def holder_name(self, info: Info) -> str | None:
        return (await self._record(info)).holder_name

    @strawberry.field(directives=[mask(MaskKind.ADDRESS)])
    async def address(self, info: Info) -> str | None:
        return (await self._record(info)).address

    @strawberry.field
    async def status(self, info: Info) -> AccountStatus | None:
        return (await self._record(info)).status

    @strawberry.field
    async def use_type(self, info: Info) -> WaterUseType | None:
        return (await self._record(info)).use_type

    @strawberry.field
    async def pay_method(self, info: Info) -> PaymentMethod | None:
        return (await self._record(info)).pay_method

    @strawberry.field(directives=[mask(MaskKind.MOBILE)])
    async def mobile(self, info: Info) -> str | None:
        return (await self._record(info)).mobile

    @strawberry.field(directives=[mask(MaskKind.LANDLINE)])
    async def landline(self, info: Info) -> str | None:
        return (await self._record(info)).landline

    @strawberry.field(description="Prepaid balance (预存余额).")
    async def balance(self, info: Info) -> Money | None:
        return Money.of((await self._record(info)).balance)

    @strawberry.field(description="Unpaid bills (欠费), excluding late fees.")
    async def arrears(self, info: Info) -> Money | None:
        return Money.of((await self._record(info)).arrears)

    @strawberry.field(description="Late fees (滞纳金) accrued to date.")
    async def late_fee(self, info: Info) -> Money | None:
        return Money.of((await self._record(info)).late_fee)

    @strawberry.field(description="Arrears plus late fees, less the prepaid balance; never below zero.")
    async def amount_due(self, info: Info) -> Money | None:
        a = await self._record(info)
        return Money.of(DomainMoney(max(a.arrears.fen + a.late_fee.fen - a.balance.fen, 0)))

    @strawberry.field(description="The annual price tier (阶梯) this year's usage has reached.")
    async def current_tier(self, info: Info) -> int | None:
        return (await self._record(info)).current_tier

    @strawberry.field
    async def year_to_date_usage_m3(self, info: Info) -> int | None:
        return (await self._record(info)).year_to_date_m3

    @strawberry.field
    async def opened_on(self, info: Info) -> date | None:
        return (await self._record(info)).opened_on

    @strawberry.field
    async def direct_debit_enabled(self, info: Info) -> bool | None:
        return (await self._record(info)).direct_debit

    @strawberry.field(description="The meter's number, from the account record (no extra call).")
    async def meter_no(self, info: Info) -> str | None:
        return (await self._record(info)).meter_no

    @strawberry.field(description="The meter, with its latest reads (at most 50): two more billing calls.")
    async def meter(self, info: Info, reads: int = 3) -> Meter | None:
        return Meter.of(await accounts.meter(info.context, self.account_no, reads))

    @strawberry.field(description="Bills, newest first (at most 50).")
    async def bills(self, info: Info, last: int = 6) -> list[Bill] | None:
        return [Bill.of(b) for b in await accounts.bills(info.context, self.account_no, last)]

    @strawberry.field(description="Payments, newest first (at most 50).")
    async def payments(self, info: Info, last: int = 6) -> list[Payment] | None:
        return [Payment.of(p) for p in await accounts.payments(info.context, self.account_no, last)]

    @strawberry.field(description="The bank direct-debit mandate (代扣), if any.")
    async def direct_debit(self, info: Info) -> DirectDebit | None:
        found = await accounts.direct_debit(info.context, self.account_no)
        return DirectDebit.of(found, owner=await self.owner_customer_no(info)) if found else None

    @strawberry.field(description="Where the service connection taps the main.")
    async def location(self, info: Info) -> GeoPoint | None:
        found = await accounts.connection(info.context, self.account_no, info.path)
        return GeoPoint(lon=found.location.lon, lat=found.location.lat) if found else None

    @strawberry.field(description="The grid (网格) the service connection lies in.")
    async def grid_code(self, info: Info) -> str | None:
        found = await accounts.connection(info.context, self.account_no, info.path)
        return found.grid_code if found else None

    @strawberry.field(directives=[NETWORK_DATA])
    async def active_outages(
        self, info: Info
    ) -> list[Annotated[Outage, strawberry.lazy("schema.network")]] | None:
        from schema.network import Outage

        return [
            Outage(record=o) for o in await accounts.active_outages(info.context, self.account_no, info.path)
        ]


@strawberry.type(description="One annual price tier's share of a bill (阶梯水价).")
class TierLine:
    tier: int
    volume_m3: int
    unit_price: Money = strawberry.field(description="Per cubic metre.")
    amount: Money


@strawberry.type
class Bill:
    record: strawberry.Private[records.Bill]

    @classmethod
    def of(cls, record: records.Bill) -> Bill:
        return cls(record=record)

    @strawberry.field
    def bill_no(self) -> str:
        return self.record.bill_no

    @strawberry.field(description='Billing period, "YYYY-MM".')
    def period(self) -> str:
        return self.record.period

    @strawberry.field
    def read_at(self) -> datetime | None:
        return self.record.read_at

    @strawberry.field
    def usage_m3(self) -> int:
        return self.record.usage_m3

    @strawberry.field(description="水费.")
    def water(self) -> Money:
        return Money.of(self.record.water)

    @strawberry.field(description="污水处理费.")
    def sewage(self) -> Money:
        return Money.of(self.record.sewage)

    @strawberry.field(description="水资源费.")
    def resource(self) -> Money:
        return Money.of(self.record.resource)

    @strawberry.field
    def total(self) -> Money:
        return Money.of(self.record.total)

    @strawberry.field
    def paid(self) -> Money:
        return Money.of(self.record.paid)

    @strawberry.field
    def outstanding(self) -> Money:
        return Money.of(self.record.outstanding)

    @strawberry.field
    def status(self) -> BillStatus:
        return self.record.status

    @strawberry.field
    def issued_on(self) -> date | None:
        return self.record.issued_on

    @strawberry.field
    def due_on(self) -> date | None:
        return self.record.due_on

    @strawberry.field
    def paid_at(self) -> datetime | None:
        return self.record.paid_at

    @strawberry.field
    def tiers(self) -> list[TierLine]:
        return [
            TierLine(
                tier=t.tier,
                volume_m3=t.volume_m3,
                unit_price=Money.of(t.unit_price),
                amount=Money.of(t.amount),
            )
            for t in self.record.tiers
        ]


@strawberry.type
class Payment:
    serial: str
    paid_at: datetime | None
    amount: Money
    method: PaymentMethod
    bill_no: str | None

    @classmethod
    def of(cls, p: records.Payment) -> Payment:
        return cls(
            serial=p.serial, paid_at=p.paid_at, amount=Money.of(p.amount), method=p.method, bill_no=p.bill_no
        )


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
    def of(cls, m: records.Meter) -> Meter:
        reads = [
            MeterRead(
                read_at=r.read_at,
                previous_reading=r.previous_reading,
                reading=r.reading,
                usage_m3=r.usage_m3,
                status=r.status,
                reader=r.reader,
            )
            for r in m.reads
        ]
        return cls(meter_no=m.meter_no, size_mm=m.size_mm, installed_on=m.installed_on, reads=reads)


@strawberry.type(description="A bank direct-debit mandate (代扣).", directives=[CUSTOMER_DATA])
class DirectDebit:
    bank_code: str
    bank_name: str
    bank_account: str = strawberry.field(directives=[mask(MaskKind.BANK_ACCOUNT)])
    holder: str = strawberry.field(directives=[mask(MaskKind.NAME)])
    status: DirectDebitStatus
    signed_on: date | None
    owner: strawberry.Private[str | None] = None  # the account holder's customer number

    async def owner_customer_no(self, info: Info) -> str | None:
        return self.owner

    @classmethod
    def of(cls, d: records.DirectDebit, owner: str | None) -> DirectDebit:
        return cls(
            owner=owner,
            bank_code=d.bank_code,
            bank_name=d.bank_name,
            bank_account=d.bank_account,
            holder=d.holder,
            status=d.status,
            signed_on=d.signed_on,
        )
