"""requestFeeAdjustment against the real billing simulator: idempotency, the settlement window, supervisors
only, and a lost answer left unknown rather than submitted twice. Counts and states only."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from backends.billing.mapping import settlement_retry_after_s
from domain.timestamps import SHANGHAI
from infra.idempotency_store import MemoryIdempotencyStore
from services.access import BILLING_ADJUST, CUSTOMER_READ, TICKET_READ, Access, Principal
from services.idempotency import Idempotency, IdempotencyPolicy
from tests.conftest import Simulators
from tests.services.conftest import SUPERVISOR
from tests.support.admin import set_faults
from tests.support.clocks import FakeClock
from tests.support.world import seeded_world
from tests.support.writes import calls, codes, execute, extensions, finished, until

ADJUSTER = Principal(
    SUPERVISOR.subject, SUPERVISOR.client_id, "supervisor", SUPERVISOR.scopes | {BILLING_ADJUST}
)
REQUEST = """
mutation RequestFeeAdjustment($input: FeeAdjustmentInput!, $key: String!) {
  requestFeeAdjustment(input: $input, idempotencyKey: $key) {
    id accountNo reason amount { fen yuan } explanation billNo status submittedAt clientRef
  }
}
"""
SUBMIT = "SubmitFeeAdjustment"

Send = Callable[..., Awaitable[ExecutionResult]]


@pytest.fixture
def send(clean_sims: Simulators, schema: Any, clock: FakeClock) -> Send:
    idempotency = Idempotency(MemoryIdempotencyStore(clock=clock), IdempotencyPolicy(settle_s=30.0))
    # Billing refuses writes 23:30-00:30 Shanghai by the real clock: off, unless a test freezes writes.
    set_faults(clean_sims["billing"].url, settlement_window=False, ops={})

    async def run(
        input: Mapping[str, Any],
        key: str,
        access: Access | None = None,
        timeouts: Mapping[str, float] | None = None,
    ) -> ExecutionResult:
        return await execute(
            schema,
            clean_sims,
            REQUEST,
            {"input": dict(input), "key": key},
            access=access or Access(ADJUSTER),
            idempotency=idempotency,
            timeouts=timeouts,
        )

    return run


def _waiver(index: int = 0, fen: int = -1250, text: str = "滞纳金系停水所致, 减免") -> dict[str, Any]:
    account = seeded_world().accounts[index]
    return {
        "accountNo": account.account_no.lstrip("0"),
        "reason": "LATE_FEE_WAIVER",
        "amountFen": fen,
        "explanation": text,
    }


def _submitted(sims: Simulators) -> int:
    return calls(sims, "billing").get(SUBMIT, 0)


async def test_a_supervisor_s_request_is_queued_for_approval(send: Send, clean_sims: Simulators) -> None:
    world = seeded_world()
    account = world.accounts[3]
    bill = world.history(account.account_no).bills[-1]
    result = await send(
        {**_waiver(3, fen=-880), "reason": "CHARGE_REFUND", "billNo": bill.bill_no}, str(uuid.uuid4())
    )
    assert result.errors is None, result.errors
    answer = result.data["requestFeeAdjustment"]  # type: ignore[index]
    assert re.fullmatch(r"TZ\d{14}", answer["id"])
    assert (answer["accountNo"], answer["status"], answer["reason"]) == (
        account.account_no,
        "PENDING_APPROVAL",
        "CHARGE_REFUND",
    )
    assert answer["amount"] == {"fen": -880, "yuan": "-8.80"} and answer["billNo"] == bill.bill_no
    assert answer["submittedAt"].endswith("+08:00") and answer["clientRef"].startswith("TG")
    assert _submitted(clean_sims) == 1


async def test_same_key_same_input_replays_without_a_backend_call(send: Send, clean_sims: Simulators) -> None:
    key = str(uuid.uuid4())
    first = await send(_waiver(), key)
    assert first.errors is None, first.errors
    before = calls(clean_sims, "billing")
    again = await send(_waiver(), key)
    assert again.errors is None and again.data == first.data
    assert calls(clean_sims, "billing") == before == {SUBMIT: 1}


async def test_same_key_other_input_is_refused(send: Send, clean_sims: Simulators) -> None:
    key = str(uuid.uuid4())
    assert (await send(_waiver(), key)).errors is None
    other = await send(_waiver(fen=-1300), key)
    assert other.data is None and codes(other) == ["IDEMPOTENCY_KEY_REUSED"]
    assert _submitted(clean_sims) == 1


async def test_concurrent_same_key_submits_once(send: Send, clean_sims: Simulators) -> None:
    set_faults(clean_sims["billing"].url, settlement_window=False, ops={SUBMIT: {"latency_ms": 300}})
    key = str(uuid.uuid4())
    results = await asyncio.gather(*(send(_waiver(1), key) for _ in range(5)))
    answered = {r.data["requestFeeAdjustment"]["id"] for r in results if r.errors is None}  # type: ignore[index]
    assert len(answered) == 1
    assert all(codes(r) == ["IDEMPOTENCY_IN_PROGRESS"] for r in results if r.errors)
    late = await send(_waiver(1), key)
    assert late.errors is None and late.data["requestFeeAdjustment"]["id"] in answered  # type: ignore[index]
    assert _submitted(clean_sims) == 1


async def test_agents_and_readers_of_other_accounts_are_refused(send: Send, clean_sims: Simulators) -> None:
    agent = Principal(
        "agent-a1001", "workbench", "agent", frozenset({CUSTOMER_READ, TICKET_READ}), agent_id="A1001"
    )
    refused = await send(_waiver(), str(uuid.uuid4()), access=Access(agent))
    assert refused.data is None and codes(refused) == ["FORBIDDEN"]
    # The scope alone is not enough: whoever adjusts an account must be allowed to read it.
    blind = Principal("clerk", "workbench", "clerk", frozenset({BILLING_ADJUST, CUSTOMER_READ}))
    refused = await send(_waiver(), str(uuid.uuid4()), access=Access(blind))
    assert codes(refused) == ["FORBIDDEN"]
    assert _submitted(clean_sims) == 0


async def test_a_timed_out_request_is_never_submitted_again(
    send: Send, clean_sims: Simulators, clock: FakeClock
) -> None:
    """Billing takes 1.5 s and queues it; the BFF gave up at 0.5 s. Billing cannot be searched, so
    the key stays unknown: retries are told so, and nothing is submitted a second time."""
    billing = clean_sims["billing"].url
    key = str(uuid.uuid4())
    set_faults(billing, settlement_window=False, ops={SUBMIT: {"latency_ms": 1500}})
    first = await send(_waiver(2), key, timeouts={"billing": 0.5})
    assert codes(first) == ["BACKEND_TIMEOUT"] and extensions(first)["retryAfter"] == 30

    early = await send(_waiver(2), key)
    assert codes(early) == ["IDEMPOTENCY_IN_PROGRESS"] and extensions(early)["state"] == "UNCERTAIN"

    await until(lambda: finished(clean_sims, "billing", SUBMIT))  # it was queued after all
    set_faults(billing, settlement_window=False, ops={})
    clock.advance(31)
    for _ in range(2):  # and it stays so: no retry ever submits it again
        later = await send(_waiver(2), key)
        assert codes(later) == ["IDEMPOTENCY_OUTCOME_UNKNOWN"]
        assert extensions(later)["reference"] == extensions(later)["reference"].upper()
        assert extensions(later)["reference"] in (later.errors or [])[0].message
    assert _submitted(clean_sims) == 1
    other = await send(_waiver(2, text="另一笔"), key)  # the key still knows its input
    assert codes(other) == ["IDEMPOTENCY_KEY_REUSED"]


async def test_a_garbled_answer_is_left_unknown(send: Send, clean_sims: Simulators) -> None:
    """Billing queued it and its answer was cut in half: answered, but unreadable."""
    set_faults(clean_sims["billing"].url, settlement_window=False, ops={SUBMIT: {"garble_rate": 1.0}})
    key = str(uuid.uuid4())
    assert codes(await send(_waiver(4), key)) == ["BACKEND_ERROR"]
    set_faults(clean_sims["billing"].url, settlement_window=False, ops={})
    assert codes(await send(_waiver(4), key)) == ["IDEMPOTENCY_OUTCOME_UNKNOWN"]
    assert _submitted(clean_sims) == 1


async def test_a_fault_frees_the_key(send: Send, clean_sims: Simulators) -> None:
    """A SOAP Fault (9999) is billing answering that it failed: nothing was queued, a retry may submit."""
    set_faults(clean_sims["billing"].url, settlement_window=False, ops={SUBMIT: {"error_rate": 1.0}})
    key = str(uuid.uuid4())
    assert codes(await send(_waiver(5), key)) == ["BACKEND_ERROR"]
    set_faults(clean_sims["billing"].url, settlement_window=False, ops={})
    retry = await send(_waiver(5), key)
    assert retry.errors is None, retry.errors
    assert _submitted(clean_sims) == 2  # the refused one and the one that was queued


async def test_the_settlement_window_is_a_coded_refusal(send: Send, clean_sims: Simulators) -> None:
    set_faults(clean_sims["billing"].url, writes_frozen=True)
    key = str(uuid.uuid4())
    refused = await send(_waiver(6), key)
    assert codes(refused) == ["BACKEND_REJECTED"]
    ext = extensions(refused)
    assert ext["reason"] == "SETTLEMENT_WINDOW" and ext["backend"] == "billing"
    assert isinstance(ext["retryAfter"], int) and ext["retryAfter"] >= 1
    set_faults(clean_sims["billing"].url, writes_frozen=False, settlement_window=False)
    retry = await send(_waiver(6), key)  # refused is not written: the key is free
    assert retry.errors is None, retry.errors


@pytest.mark.parametrize(
    ("at", "seconds"),
    [
        (datetime(2026, 11, 26, 23, 30, tzinfo=SHANGHAI), 3600),
        (datetime(2026, 11, 26, 23, 59, 30, tzinfo=SHANGHAI), 1830),
        (datetime(2026, 11, 27, 0, 29, tzinfo=SHANGHAI), 60),
        (datetime(2026, 11, 27, 0, 30, tzinfo=SHANGHAI), 60),  # outside 日结: an unannounced freeze
        (datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI), 60),
    ],
)
def test_retry_after_points_past_the_settlement(at: datetime, seconds: int) -> None:
    assert settlement_retry_after_s(at) == seconds


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amountFen": 0}, "BAD_USER_INPUT"),
        ({"amountFen": 1_000_000_000}, "BAD_USER_INPUT"),
        ({"explanation": "  "}, "BAD_USER_INPUT"),
        ({"reason": "UNKNOWN"}, "BAD_USER_INPUT"),
        ({"accountNo": "12345678901"}, "BAD_USER_INPUT"),
        ({"billNo": "ZD 1"}, "BAD_USER_INPUT"),
        ({"billNo": "ZD2026010000001"}, "BAD_USER_INPUT"),  # billing: not this account's bill (1002)
        ({"accountNo": "9999999999"}, "NOT_FOUND"),  # billing: 户号不存在 (1001)
    ],
)
async def test_refused_input_submits_nothing_and_frees_the_key(
    send: Send, clean_sims: Simulators, change: dict[str, Any], code: str
) -> None:
    key = str(uuid.uuid4())
    assert codes(await send({**_waiver(7), **change}, key)) == [code]
    retry = await send(_waiver(7), key)  # nothing was written under the key: it is still free
    assert retry.errors is None, retry.errors
