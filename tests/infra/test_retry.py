"""Retries: only idempotent reads, only after the backend failed us, few, jittered, and never more
than 10% extra calls over the budget's window."""

from __future__ import annotations

import asyncio
import logging
import random

import httpx
import pytest

from backends.billing.client import BillingClient
from infra.deadline import deadline
from infra.errors import BackendError, BackendServerError, NotFound
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig
from infra.resilience.breaker import BreakerConfig, CallNotPermitted, State
from infra.resilience.bulkhead import BackendShed
from infra.resilience.priority import operation_class
from infra.resilience.rate_budget import RateBudgetConfig
from infra.resilience.retry import RetryBudget, RetryConfig, RetryPolicy
from tests.conftest import Simulators
from tests.support.admin import set_faults, stats
from tests.support.clocks import FakeTime
from tests.support.parse import billing_status as status

# Generous budget for the behaviour tests: a single call may be retried. The budget has its own tests.
LAVISH = RetryConfig(max_attempts=2, backoff_s=0.0, budget_ratio=1.0)


def backend(
    statuses: list[int], retry: RetryConfig = LAVISH, **config: object
) -> tuple[BackendHttp, list[str], FakeTime]:
    """A backend answering `statuses` in turn (the last one forever), and the paths it was sent."""
    sent: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(statuses[min(len(sent), len(statuses)) - 1], json={})

    time = FakeTime()
    backend_config = BackendConfig("billing", "http://billing.test", retry=retry, **config)  # type: ignore[arg-type]
    http = BackendHttp(backend_config, httpx.MockTransport(handler), clock=time.clock, sleep=time.sleep)
    return http, sent, time


async def test_a_read_that_fails_once_is_retried_and_succeeds() -> None:
    http, sent, _ = backend([503, 200])
    assert await http.fetch("GET", "/bills", status) == 200
    assert sent == ["/bills", "/bills"]
    assert http.retry is not None and http.retry.retries == 1


async def test_a_post_that_only_reads_says_so_and_is_retried() -> None:
    http, sent, _ = backend([500, 200])
    assert await http.fetch("POST", "/query", status, idempotent=True) == 200
    assert len(sent) == 2


async def test_a_write_is_tried_once() -> None:
    http, sent, _ = backend([500, 200])
    with pytest.raises(BackendServerError):
        await http.fetch("POST", "/orders", status)
    assert sent == ["/orders"]


async def test_a_rejection_is_not_retried() -> None:
    http, sent, _ = backend([404, 200])
    with pytest.raises(NotFound):
        await http.fetch("GET", "/accounts/1", status)
    assert len(sent) == 1


async def test_an_open_breaker_is_not_retried() -> None:
    breaker = BreakerConfig(
        sliding_window_size=2, minimum_number_of_calls=2, wait_duration_in_open_state_s=60
    )
    http, sent, _ = backend([200], breaker=breaker)
    assert http.breaker is not None and http.retry is not None
    for _ in range(2):
        http.breaker.on_error(0.0, BackendServerError("billing", "down"))
    assert http.breaker.state is State.OPEN
    with pytest.raises(CallNotPermitted):
        await http.fetch("GET", "/bills", status)
    assert sent == [] and http.retry.retries == 0


async def test_a_shed_call_is_not_retried() -> None:
    http, sent, _ = backend([200], rate=RateBudgetConfig(max_rps=1, burst=1, max_wait_s=0))
    with operation_class("sheddable"):
        await http.fetch("GET", "/history", status)
        with pytest.raises(BackendShed):
            await http.fetch("GET", "/history", status)
    assert len(sent) == 1 and http.retry is not None and http.retry.retries == 0


async def test_a_retry_after_the_breaker_opened_is_refused_not_sent() -> None:
    """The retry passes the breaker like any call: the first failure opened it, so it never leaves."""
    breaker = BreakerConfig(
        sliding_window_size=1, minimum_number_of_calls=1, wait_duration_in_open_state_s=60
    )
    http, sent, _ = backend([500, 200], breaker=breaker)
    with pytest.raises(CallNotPermitted):
        await http.fetch("GET", "/bills", status)
    assert len(sent) == 1


async def test_no_retry_when_the_deadline_is_nearly_spent() -> None:
    http, sent, _ = backend(
        [500, 200], retry=RetryConfig(backoff_s=0.0, budget_ratio=1.0, min_time_left_s=0.1)
    )
    with deadline(0.05), pytest.raises(BackendServerError):
        await http.fetch("GET", "/bills", status)
    assert len(sent) == 1
    assert http.retry is not None and http.retry.refused == {"deadline": 1}


async def test_at_most_max_attempts_with_full_jitter_backoff() -> None:
    retry = RetryConfig(max_attempts=3, backoff_s=0.02, budget_ratio=1.0)
    http, sent, time = backend([200, 200, 500], retry=retry)
    for _ in range(2):  # at most one retry per first attempt: these two pay for the second retry
        await http.fetch("GET", "/bills", status)
    with pytest.raises(BackendServerError):
        await http.fetch("GET", "/bills", status)
    assert len(sent) == 5
    first, second = time.sleeps
    assert 0 <= first <= 0.02 and 0 <= second <= 0.04


async def test_the_budget_allows_ten_percent_extra_calls() -> None:
    http, sent, time = backend([500], retry=RetryConfig(max_attempts=3, backoff_s=0.0, budget_ratio=0.1))
    for _ in range(100):
        with pytest.raises(BackendServerError):
            await http.fetch("GET", "/bills", status)
    assert http.retry is not None
    assert http.retry.retries == 10 and len(sent) == 110
    time.now += 10  # the window has slid past every one of them: the budget starts again
    for _ in range(10):
        with pytest.raises(BackendServerError):
            await http.fetch("GET", "/bills", status)
    assert http.retry.retries == 11 and len(sent) == 121


def test_the_budget_window_slides() -> None:
    now = [0.0]
    budget = RetryBudget(ratio=0.1, window_s=10, clock=lambda: now[0])
    for _ in range(10):
        budget.deposit()
    assert budget.try_withdraw() and not budget.try_withdraw()
    now[0] = 9.5  # still inside the window
    budget.deposit()
    assert not budget.try_withdraw()
    now[0] = 10.0  # the first second's deposits (and its retry) have left the window
    for _ in range(9):
        budget.deposit()
    assert budget.try_withdraw()


async def test_each_retry_is_logged_with_structured_fields(caplog: pytest.LogCaptureFixture) -> None:
    http, _, _ = backend([503, 200])
    with caplog.at_level(logging.INFO, logger="tidegate.retry"):
        await http.fetch("GET", "/bills", status)
    (record,) = caplog.records
    assert record.name == "tidegate.retry"
    fields = {k: getattr(record, k) for k in ("backend", "call", "attempt", "error_code", "error_type")}
    assert fields == {
        "backend": "billing",
        "call": "GET /bills",
        "attempt": 2,
        "error_code": "BACKEND_ERROR",
        "error_type": "BackendServerError",
    }


async def test_the_policy_on_its_own_passes_other_errors_through() -> None:
    policy = RetryPolicy("crm", LAVISH, sleep=FakeTime().sleep, rng=random.Random(1))
    calls = 0

    async def broken() -> int:
        nonlocal calls
        calls += 1
        raise ValueError("a bug, not a backend")

    with pytest.raises(ValueError):
        await policy.call(broken, idempotent=True)
    assert calls == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": 4},
        {"budget_ratio": 1.5},
        {"backoff_s": -1},
        {"budget_window_s": 0},
    ],
)
def test_config_is_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryConfig(**kwargs)  # type: ignore[arg-type]


async def test_transient_billing_faults_cost_at_most_ten_percent_extra_calls(clean_sims: Simulators) -> None:
    """Against the real simulator: 30% of calls fail with 9999; the retries it sees stay within 10%."""
    url = clean_sims["billing"].url
    set_faults(url, error_rate=0.3)
    config = BackendConfig("billing", url, timeout_s=5.0, retry=RetryConfig())
    calls, outcomes = 200, {"ok": 0, "failed": 0}

    async def one(account_no: str) -> None:
        try:
            await client.accounts([account_no])
            outcomes["ok"] += 1
        except BackendError:
            outcomes["failed"] += 1

    async with BillingClient(config) as client:
        for start in range(0, calls, 10):
            await asyncio.gather(*(one(f"{n:010d}") for n in range(10_000_000 + start, 10_000_010 + start)))
        policy = client._http.retry
    assert policy is not None
    seen = stats(url)
    assert outcomes["ok"] + outcomes["failed"] == calls
    assert seen["operations"]["GetAccounts"]["requests"] == calls + policy.retries
    assert 1 <= policy.retries <= calls // 10
    assert policy.refused["budget"] > 0  # far more than 10% failed: the budget, not luck, held the line
