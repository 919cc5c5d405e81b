"""`BillingPort`: the billing client over the simulator and `InMemoryBilling` answer alike."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from backends.billing.client import BillingClient
from domain.drafts import FeeAdjustmentDraft
from domain.enums import FeeAdjustmentReason, FeeAdjustmentStatus
from domain.money import Money
from domain.ports import BillingPort
from infra.errors import NotFound
from infra.http.config import BackendConfig
from tests.conftest import Simulators
from tests.contracts import IMPLEMENTATIONS
from tests.fakes.billing import InMemoryBilling
from tests.support.admin import set_faults
from tests.support.world import seeded_world

UNKNOWN_NO = "0000000001"


@dataclass(frozen=True)
class Known:
    """Keys both implementations hold: an account with a signed mandate and one that never had one,
    a phone shared by several customers' accounts."""

    with_mandate: str
    without_mandate: str
    shared_phone: str
    account_nos: tuple[str, ...]


@pytest.fixture(scope="module")
def known() -> Known:
    world = seeded_world()
    phone, owners = next((p, c) for p, c in sorted(world.customers_by_phone.items()) if len(c) > 1)
    signed = next(a for a in world.accounts if world.history(a.account_no).direct_debit and a.direct_debit)
    without = next(a for a in world.accounts if world.history(a.account_no).direct_debit is None)
    shared = [a.account_no for c in owners for a in world.accounts_of[c]]
    rich = [a.account_no for a in world.accounts if len(world.history(a.account_no).payments) > 6][:3]
    numbers = tuple(dict.fromkeys([signed.account_no, without.account_no, *shared, *rich]))
    return Known(signed.account_no, without.account_no, phone, numbers)


def _client(sims: Simulators) -> BillingClient:
    return BillingClient(BackendConfig("billing", sims["billing"].url, timeout_s=5.0))


@pytest.fixture(scope="module")
async def recorded(sims: Simulators, known: Known) -> InMemoryBilling:
    """The fake's records, read once through the adapter: the same world, held in memory."""
    async with _client(sims) as client:
        accounts = await client.accounts(list(known.account_nos))
        fake = InMemoryBilling(accounts_by_no=accounts)
        for no in accounts:
            fake.bills_by_account[no] = await client.bills(no, 200)
            fake.payments_by_account[no] = await client.payments(no, 1000)
            fake.meters[no] = await client.meter(no, 120)
            mandate = await client.direct_debit(no)
            if mandate is not None:
                fake.mandates[no] = mandate
    return fake


@pytest.fixture(params=IMPLEMENTATIONS)
async def port(
    request: pytest.FixtureRequest, clean_sims: Simulators, recorded: InMemoryBilling
) -> AsyncIterator[BillingPort]:
    if request.param == "fake":
        yield InMemoryBilling(
            accounts_by_no=dict(recorded.accounts_by_no),
            bills_by_account=dict(recorded.bills_by_account),
            payments_by_account=dict(recorded.payments_by_account),
            meters=dict(recorded.meters),
            mandates=dict(recorded.mandates),
        )
        return
    # Billing refuses writes 23:30-00:30 Shanghai by the real clock: off for the write case.
    set_faults(clean_sims["billing"].url, settlement_window=False)
    async with _client(clean_sims) as client:
        yield client


async def test_accounts_are_keyed_by_number_and_unknown_ones_are_absent(
    port: BillingPort, known: Known
) -> None:
    wanted = [*known.account_nos, UNKNOWN_NO, known.account_nos[0]]
    found = await port.accounts(wanted)
    assert list(found) == list(known.account_nos)
    assert all(account.account_no == no for no, account in found.items())
    assert await port.accounts([UNKNOWN_NO]) == {}


async def test_more_accounts_than_one_batch_are_refused(port: BillingPort) -> None:
    with pytest.raises(ValueError):
        await port.accounts([f"{n:010d}" for n in range(port.MAX_BATCH + 1)])


async def test_accounts_by_phone_are_the_accounts_on_that_number(port: BillingPort, known: Known) -> None:
    found = await port.accounts_by_phone(known.shared_phone)
    assert len({a.customer_no for a in found}) >= 2
    assert all(known.shared_phone in (a.mobile, a.landline) for a in found)
    assert await port.accounts_by_phone("10000000000") == []


async def test_bills_are_bounded_and_newest_first(port: BillingPort, known: Known) -> None:
    every = await port.bills(known.with_mandate, 200)
    latest = await port.bills(known.with_mandate, 3)
    assert len(every) > 3 and latest == every[:3]
    assert [b.period for b in every] == sorted((b.period for b in every), reverse=True)
    with pytest.raises(ValueError):
        await port.bills(known.with_mandate, 0)


async def test_payments_are_bounded_and_newest_first(port: BillingPort, known: Known) -> None:
    every = await port.payments(known.account_nos[-1], 1000)
    assert len(every) > 6 and await port.payments(known.account_nos[-1], 5) == every[:5]
    times = [p.paid_at for p in every if p.paid_at is not None]
    assert times == sorted(times, reverse=True)


async def test_meter_reads_are_bounded(port: BillingPort, known: Known) -> None:
    full = await port.meter(known.with_mandate, 120)
    short = await port.meter(known.with_mandate, 2)
    bare = await port.meter(known.with_mandate, 0)
    assert len(full.reads) > 2 and short.reads == full.reads[:2] and bare.reads == ()
    assert short.meter_no == full.meter_no == bare.meter_no


@pytest.mark.parametrize("call", ["bills", "payments", "meter", "direct_debit"])
async def test_an_unknown_account_is_not_found(port: BillingPort, call: str) -> None:
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "bills": lambda: port.bills(UNKNOWN_NO, 3),
        "payments": lambda: port.payments(UNKNOWN_NO, 3),
        "meter": lambda: port.meter(UNKNOWN_NO, 3),
        "direct_debit": lambda: port.direct_debit(UNKNOWN_NO),
    }
    with pytest.raises(NotFound):
        await calls[call]()


async def test_a_mandate_or_none(port: BillingPort, known: Known) -> None:
    mandate = await port.direct_debit(known.with_mandate)
    assert mandate is not None and mandate.bank_account
    assert await port.direct_debit(known.without_mandate) is None


async def test_each_fee_adjustment_is_queued_as_its_own_request(port: BillingPort, known: Known) -> None:
    draft = FeeAdjustmentDraft(
        account_no=known.without_mandate,
        reason=FeeAdjustmentReason.LATE_FEE_WAIVER,
        amount=Money(-500),
        explanation="滞纳金减免",
        operator="agent-7",
        client_ref=f"TG{uuid.uuid4().hex[:30].upper()}",
    )
    first = await port.submit_fee_adjustment(draft)
    second = await port.submit_fee_adjustment(draft)
    assert first.request_no != second.request_no
    assert (first.account_no, first.status, first.amount, first.reason, first.client_ref) == (
        draft.account_no,
        FeeAdjustmentStatus.PENDING_APPROVAL,
        draft.amount,
        draft.reason,
        draft.client_ref,
    )
