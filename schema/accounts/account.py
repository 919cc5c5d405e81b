"""Account: a billing account, its fields loaded from billing's record when first asked for."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import records
from domain.enums import AccountStatus, PaymentMethod, WaterUseType
from domain.money import Money as DomainMoney
from schema import refs
from schema.accounts.billing import Bill, DirectDebit, Meter, Payment
from schema.directives import CUSTOMER_DATA, NETWORK_DATA, MaskKind, key, mask
from schema.freshness import Freshness
from schema.from_record import loaded_field
from schema.info import Info
from schema.scalars import GeoPoint, Money
from services import accounts, entities

if TYPE_CHECKING:
    from schema.customers.customer import Customer
    from schema.network.outage import Outage
    from schema.network.outage_impact import OutageImpact


def _amount_due(account: records.Account) -> DomainMoney:
    return DomainMoney(max(account.arrears.fen + account.late_fee.fen - account.balance.fen, 0))


@strawberry.type(
    description="A billing account (户). Its fields load lazily and are nullable, so its parts arrive in "
    "parallel and a failing backend blanks only the fields it owns.",
    directives=[CUSTOMER_DATA, key("accountNo")],
)
class Account:
    account_no: str = strawberry.field(description="户号: 10 digits with leading zeros.")
    # The record, once this object (made for one request, after its access check) has loaded it: its
    # other fields, its mask's owner and the amount due read it here, not through the loader again.
    _record: strawberry.Private[records.Account | None] = None

    @classmethod
    async def resolve_reference(cls, info: Info, accountNo: str) -> Account:
        """A router's `_entities` (the argument is named as the key is): the same access check and
        loader as `account(accountNo)`."""
        return cls(account_no=await entities.account(info.context, accountNo))

    async def load_record(self, info: Info) -> records.Account:
        record = self._record
        if record is None:  # its stale copy, if it is one, noted at this object's path, once
            record = self._record = await accounts.record(info.context, self.account_no, info.path.prev)
        return record

    def owner_customer_no(self, info: Info) -> str | Awaitable[str | None] | None:
        """The holder, at once when the record is here (a masked field read from it); else loaded."""
        record = self._record
        return record.customer_no if record is not None else self._loaded_owner(info)

    async def _loaded_owner(self, info: Info) -> str | None:
        return (await self.load_record(info)).customer_no

    async def _customer(self, info: Info) -> Customer:
        return refs.readable_customer(info, (await self.load_record(info)).customer_no)

    async def _freshness(self, info: Info) -> Freshness:
        return Freshness.of(await accounts.cached_record(info.context, self.account_no))

    # Declared in the schema's field order: resolvers given here, not decorated methods (Strawberry
    # would put those after every declared field).
    customer: Annotated[Customer, strawberry.lazy("schema.customers.customer")] | None = strawberry.field(
        resolver=_customer
    )
    freshness: Freshness | None = strawberry.field(
        resolver=_freshness,
        description="How current the account's balance and arrears are: billing's answer is cached for a "
        "minute, and served older (stale: true) when billing is slow, failing or at capacity.",
    )
    holder_name: str | None = loaded_field(description="户名.", directives=[mask(MaskKind.NAME)])
    address: str | None = loaded_field(directives=[mask(MaskKind.ADDRESS)])
    status: AccountStatus | None = loaded_field()
    use_type: WaterUseType | None = loaded_field()
    pay_method: PaymentMethod | None = loaded_field()
    mobile: str | None = loaded_field(directives=[mask(MaskKind.MOBILE)])
    landline: str | None = loaded_field(directives=[mask(MaskKind.LANDLINE)])
    balance: Money | None = loaded_field(description="Prepaid balance (预存余额).")
    arrears: Money | None = loaded_field(description="Unpaid bills (欠费), excluding late fees.")
    late_fee: Money | None = loaded_field(description="Late fees (滞纳金) accrued to date.")
    amount_due: Money | None = loaded_field(
        compute=_amount_due,
        description="Arrears plus late fees, less the prepaid balance; never below zero.",
    )
    current_tier: int | None = loaded_field(
        description="The annual price tier (阶梯) this year's usage has reached."
    )
    year_to_date_usage_m3: int | None = loaded_field(source="year_to_date_m3")
    opened_on: date | None = loaded_field()
    direct_debit_enabled: bool | None = loaded_field(source="direct_debit")
    meter_no: str | None = loaded_field(
        description="The meter's number, from the account record (no extra call)."
    )

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
        return DirectDebit.of(found, owner=await self._loaded_owner(info)) if found else None

    @strawberry.field(description="Where the service connection taps the main.")
    async def location(self, info: Info) -> GeoPoint | None:
        found = await accounts.connection(info.context, self.account_no, info.path)
        return GeoPoint.of(found.location) if found else None

    @strawberry.field(description="The grid (网格) the service connection lies in.")
    async def grid_code(self, info: Info) -> str | None:
        found = await accounts.connection(info.context, self.account_no, info.path)
        return found.grid_code if found else None

    @strawberry.field(directives=[NETWORK_DATA])
    async def active_outages(
        self, info: Info
    ) -> list[Annotated[Outage, strawberry.lazy("schema.network.outage")]] | None:
        return [
            refs.outage(o) for o in await accounts.active_outages(info.context, self.account_no, info.path)
        ]

    @strawberry.field(
        description="The active outages leaving this customer's water off, each with why: the main, "
        "shut or downstream of the closure, and the valves closed (the trace; `activeOutages` lists "
        "the same outages).",
        directives=[NETWORK_DATA],
    )
    async def outage_impacts(
        self, info: Info
    ) -> list[Annotated[OutageImpact, strawberry.lazy("schema.network.outage_impact")]] | None:
        return [
            refs.outage_impact(o)
            for o in await accounts.outage_impacts(info.context, self.account_no, info.path)
        ]


refs.account.register(lambda account_no: Account(account_no=account_no))
