"""The billing client against the real simulator process: values agree with the seeded world."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta, timezone
from typing import Any

import httpx
import pytest

from backends.billing.client import BillingClient
from domain.enums import (
    AccountStatus,
    BillStatus,
    DirectDebitStatus,
    MeterReadStatus,
    PaymentMethod,
    WaterUseType,
)
from domain.money import Money
from domain.records import Account, Bill, DirectDebit, Meter, MeterRead, Payment, TierLine
from infra.errors import BackendProtocolError, BackendServerError, BackendTimeout, NotFound
from infra.http.config import BackendConfig
from simulators.world import World
from tests.support.processes import SimProcess
from tests.support.world import seeded_world

# The code meanings the 营收 manual gives, written out independently of codes.yaml.
STATUS = {"1": "ACTIVE", "2": "SUSPENDED", "3": "CLOSED", "4": "ARREARS_NOTICE"}
USE = {"01": "RESIDENTIAL", "02": "PUBLIC_INSTITUTION", "03": "COMMERCIAL", "04": "SPECIAL_INDUSTRY"}
PAY = {"1": "COUNTER", "2": "DIRECT_DEBIT", "3": "DOOR_TO_DOOR", "4": "ONLINE", "5": "PREPAID_DEDUCTION"}
READ = {
    **{"00": "NORMAL", "01": "ESTIMATED", "02": "METER_BROKEN", "03": "NO_ACCESS"},
    **{"04": "ZERO_USAGE", "05": "REVERSED", "06": "METER_STOPPED", "07": "METER_REPLACED"},
}
SETTLE = {"0": "UNPAID", "1": "PAID", "2": "PARTIALLY_PAID", "3": "REVERSED"}
LATE_FEE_RATE, LATE_FEE_CAP = 0.003, 1.0  # the simulator's defaults (docs/simulators.md)
UNKNOWN_NO = "0000000001"
CST = timezone(timedelta(hours=8))  # the world's dates are all after 1991: no DST


@pytest.fixture(scope="module")
def world() -> World:
    return seeded_world()


@pytest.fixture
def url(sims: dict[str, SimProcess]) -> str:
    return sims["billing"].url


@pytest.fixture
def clean_url(clean_sims: dict[str, SimProcess]) -> Iterator[str]:
    yield clean_sims["billing"].url


def billing(url: str, timeout_s: float = 5.0) -> BillingClient:
    return BillingClient(BackendConfig("billing", url, timeout_s=timeout_s))


async def _admin(url: str, method: str, what: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url) as admin:
        response = await admin.request(method, f"/_sim/{what}", json=body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


async def _faults(url: str, **knobs: object) -> None:
    await _admin(url, "PATCH", "faults", knobs)


def digits(phone: str | None) -> str | None:
    return re.sub(r"\D", "", phone) if phone else None


def expected_account(world: World, account_no: str) -> Account:
    a = world.account_by_no[account_no]
    c = world.customer_by_no[a.customer_no]
    h = world.history(account_no)
    return Account(
        account_no=account_no,
        customer_no=f"KH{c.customer_no:08d}",
        holder_name=c.name,
        address=a.premises.address,
        status=AccountStatus[STATUS.get(a.status, "UNKNOWN")],
        use_type=WaterUseType[USE.get(a.use_type, "UNKNOWN")],
        pay_method=PaymentMethod[PAY[a.pay_method]],
        mobile=digits(c.mobile),
        landline=digits(c.landline),
        id_card=c.id_card,
        balance=Money(h.balance_fen),
        arrears=Money(h.arrears_fen()),
        late_fee=Money(h.late_fee_fen(world.as_of, LATE_FEE_RATE, LATE_FEE_CAP)),
        current_tier=h.current_tier,
        year_to_date_m3=h.ytd_usage_m3,
        opened_on=a.opened,
        meter_no=a.meter_no,
        direct_debit=a.direct_debit,
    )


def expected_bills(world: World, account_no: str) -> list[Bill]:
    h = world.history(account_no)
    paid_at = {p.bill_no: p.paid_at.replace(tzinfo=CST) for p in h.payments}
    return [
        Bill(
            bill_no=b.bill_no,
            period=f"{b.period[:4]}-{b.period[4:]}",
            read_at=b.read_at.replace(tzinfo=CST),
            usage_m3=b.usage_m3,
            water=Money(b.water_fen),
            sewage=Money(b.sewage_fen),
            resource=Money(b.resource_fen),
            total=Money(b.total_fen),
            paid=Money(b.paid_fen),
            outstanding=Money(b.unpaid_fen),
            status=BillStatus[SETTLE[b.settle_status]],
            issued_on=b.issued,
            due_on=b.due,
            paid_at=paid_at.get(b.bill_no),
            tiers=tuple(
                TierLine(t.tier, t.volume_m3, Money(t.price_fen), Money(t.amount_fen)) for t in b.tiers
            ),
        )
        for b in reversed(h.bills)
    ]


async def test_shared_phone_finds_accounts_of_several_customers(url: str, world: World) -> None:
    phone, owners = next((p, c) for p, c in sorted(world.customers_by_phone.items()) if len(c) > 1)
    expected = [a.account_no for c in owners for a in world.accounts_of[c]]
    async with billing(url) as client:
        found = await client.accounts_by_phone(phone)
        assert await client.accounts_by_phone("10000000000") == []
    assert len({a.customer_no for a in found}) >= 2
    assert found == [expected_account(world, n) for n in expected]


async def test_landline_lookup(url: str, world: World) -> None:
    customer = next(c for c in world.customers if c.landline)
    phone = digits(customer.landline)
    assert phone is not None
    async with billing(url) as client:
        found = await client.accounts_by_phone(phone)
    assert customer.customer_no in {int(a.customer_no[2:]) for a in found}
    assert {a.landline for a in found if int(a.customer_no[2:]) == customer.customer_no} == {phone}


async def test_fifty_accounts_are_one_get_accounts_call(clean_url: str, world: World) -> None:
    rogue = [a.account_no for a in world.accounts if a.use_type not in USE or a.status not in STATUS]
    numbers = [a.account_no for a in world.accounts[: 49 - len(rogue)]] + rogue + [UNKNOWN_NO]
    assert len(numbers) == 50
    async with billing(clean_url) as client:
        found = await client.accounts(numbers)
    stats = await _admin(clean_url, "GET", "stats")
    assert stats["operations"]["GetAccounts"]["batch_sizes"] == [50]
    assert stats["operations"]["GetAccounts"]["requests"] == 1
    assert list(found) == numbers[:-1]
    assert found == {n: expected_account(world, n) for n in numbers[:-1]}
    if not rogue:
        pytest.skip("no rogue-coded account (用水性质 05, 户状态 7) in this world")
    for n in rogue:
        raw = world.account_by_no[n]
        assert (found[n].use_type is WaterUseType.UNKNOWN) == (raw.use_type not in USE)
        assert (found[n].status is AccountStatus.UNKNOWN) == (raw.status not in STATUS)


def _with_settle_status(world: World, status: str) -> str:
    return next(
        a.account_no
        for a in world.accounts
        if status in {b.settle_status for b in world.history(a.account_no).bills}
    )


async def test_bills_match_the_world(url: str, world: World) -> None:
    debtor = next(a.account_no for a in world.accounts if a.status == "4")
    partial, reversed_ = _with_settle_status(world, "2"), _with_settle_status(world, "3")
    async with billing(url) as client:
        for account_no in (debtor, partial, reversed_):
            assert await client.bills(account_no, 200) == expected_bills(world, account_no)
        latest = await client.bills(debtor, 3)
        with pytest.raises(NotFound) as err:
            await client.bills(UNKNOWN_NO, 12)
    assert latest == expected_bills(world, debtor)[:3]
    assert any(b.outstanding.fen > 0 and b.status is BillStatus.UNPAID for b in latest)
    assert err.value.vendor_code == "1001"


async def test_payments_match_the_world_newest_first(url: str, world: World) -> None:
    payer = next(a for a in world.accounts if len(world.history(a.account_no).payments) > 6)
    payments = world.history(payer.account_no).payments
    expected = [
        Payment(
            p.serial,
            p.paid_at.replace(tzinfo=CST),
            Money(p.amount_fen),
            PaymentMethod[PAY[p.method]],
            p.bill_no,
        )
        for p in sorted(payments, key=lambda p: p.paid_at, reverse=True)
    ]
    async with billing(url) as client:
        assert await client.payments(payer.account_no, 5) == expected[:5]
        assert await client.payments(payer.account_no, 1000) == expected


async def test_meter_and_reads_match_the_world(url: str, world: World) -> None:
    account = next(
        a for a in world.accounts if {"07", "03"} <= {r.status for r in world.history(a.account_no).reads}
    )
    reads = world.history(account.account_no).reads
    swaps = [r.read_at.date() for r in reads if r.status == "07"]
    expected_reads = tuple(
        MeterRead(
            read_at=datetime.combine(r.read_at.date(), time(), CST),
            previous_reading=r.reading - r.usage_m3,
            reading=r.reading,
            usage_m3=r.usage_m3,
            status=MeterReadStatus[READ[r.status]],
            reader=r.reader,
        )
        for r in reversed(reads)
    )
    async with billing(url) as client:
        meter = await client.meter(account.account_no, 120)
        short = await client.meter(account.account_no, 4)
        bare = await client.meter(account.account_no, 0)
        with pytest.raises(NotFound):
            await client.meter(UNKNOWN_NO, 3)
    assert meter == Meter(account.meter_no, account.meter_size_mm, swaps[-1], expected_reads)
    assert short.reads == expected_reads[:4] and bare.reads == ()
    assert {r.status for r in meter.reads} >= {MeterReadStatus.METER_REPLACED, MeterReadStatus.NO_ACCESS}


async def test_direct_debit_signed_cancelled_and_none(url: str, world: World) -> None:
    signed = next(a for a in world.accounts if world.history(a.account_no).direct_debit and a.direct_debit)
    cancelled = next(
        (a for a in world.accounts if world.history(a.account_no).direct_debit and not a.direct_debit), None
    )
    without = next(a for a in world.accounts if world.history(a.account_no).direct_debit is None)
    async with billing(url) as client:
        for account in (signed, cancelled) if cancelled else (signed,):
            dd = world.history(account.account_no).direct_debit
            assert dd is not None
            status = DirectDebitStatus.ACTIVE if dd.status == "1" else DirectDebitStatus.CANCELLED
            expected = DirectDebit(dd.bank_code, dd.bank_name, dd.bank_account, dd.holder, status, dd.signed)
            assert await client.direct_debit(account.account_no) == expected
        assert await client.direct_debit(without.account_no) is None


async def test_injected_errors_are_server_errors(clean_url: str, world: World) -> None:
    await _faults(clean_url, error_rate=1.0)
    async with billing(clean_url) as client:
        with pytest.raises(BackendServerError) as err:
            await client.bills(world.accounts[0].account_no, 12)
        with pytest.raises(BackendServerError):
            await client.meter(world.accounts[0].account_no, 3)
    assert err.value.vendor_code == "9999"


async def test_garbled_answers_are_protocol_errors(clean_url: str, world: World) -> None:
    await _faults(clean_url, garble_rate=1.0)
    async with billing(clean_url) as client:
        with pytest.raises(BackendProtocolError, match="GetBills"):
            await client.bills(world.accounts[0].account_no, 12)
        with pytest.raises(BackendProtocolError, match="GetMeter"):
            await client.meter(world.accounts[0].account_no, 3)


async def test_slow_operation_times_out(clean_url: str, world: World) -> None:
    await _faults(clean_url, ops={"GetBills": {"latency_ms": 500}})
    async with billing(clean_url, timeout_s=0.2) as client:
        with pytest.raises(BackendTimeout):
            await client.bills(world.accounts[0].account_no, 12)
        assert await client.accounts([world.accounts[0].account_no])  # other operations unaffected
