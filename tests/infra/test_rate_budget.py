"""The calls-per-second budget: the critical reserve holds, sheddable work runs out first, and a
shed call carries the bucket's own retry-after. Time is a fake clock that only `sleep` moves."""

from __future__ import annotations

import httpx
import pytest

from infra.deadline import deadline
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig
from infra.resilience.bulkhead import BackendShed
from infra.resilience.priority import operation_class
from infra.resilience.rate_budget import RateBudget, RateBudgetConfig
from infra.resilience.ratelimit import RateLimiter
from tests.support.clocks import FakeTime

# 10 calls/s with a burst of 10; normal work at most 6/s (burst 6), sheddable at most 3/s (burst 3).
CONFIG = RateBudgetConfig(max_rps=10, critical_reserve_rps=4, sheddable_max_rps=3, burst=10, max_wait_s=0)


def budget(config: RateBudgetConfig = CONFIG) -> tuple[RateBudget, FakeTime]:
    time = FakeTime()
    return RateBudget("billing", config, clock=time.clock, sleep=time.sleep), time


async def burst(rate: RateBudget, cls: str | None, n: int) -> list[float]:
    """`n` calls of one class, one after another; the retry-after of each one shed."""
    retry_after: list[float] = []
    with operation_class(cls):
        for _ in range(n):
            try:
                await rate.acquire()
            except BackendShed as exc:
                assert exc.code == "RATE_LIMITED"
                retry_after.append(exc.retry_after_s)
    return retry_after


async def test_a_burst_sheds_sheddable_first_and_leaves_the_critical_reserve() -> None:
    rate, time = budget()
    shed_sheddable = await burst(rate, "sheddable", 10)
    shed_normal = await burst(rate, "normal", 10)
    with deadline(0.05):  # far shorter than one token's wait (0.1 s): past the reserve, critical is shed
        shed_critical = await burst(rate, "critical", 10)
    assert rate.admitted == {"sheddable": 3, "normal": 3, "critical": 4}
    assert rate.shed == {"sheddable": 7, "normal": 7, "critical": 6}
    # Each waits for its own tier's next token: 1/3 s, 1/6 s, 1/10 s.
    assert shed_sheddable == pytest.approx([1 / 3] * 7, abs=1e-5)
    assert shed_normal == pytest.approx([1 / 6] * 7, abs=1e-5)
    assert shed_critical == pytest.approx([0.1] * 6, abs=1e-5)
    assert time.sleeps == []


async def test_normal_work_cannot_take_the_critical_reserve() -> None:
    rate, time = budget()
    await burst(rate, "normal", 10)
    await burst(rate, "sheddable", 5)  # the noncritical tier is spent: sheddable gets nothing either
    with deadline(0.05):
        assert await burst(rate, "critical", 4) == []  # the reserve: 10 - 6
    assert rate.admitted == {"normal": 6, "critical": 4}
    assert rate.shed == {"normal": 4, "sheddable": 5}
    assert time.sleeps == []


async def test_critical_work_without_a_deadline_waits_for_its_token() -> None:
    rate, time = budget()
    assert await burst(rate, "critical", 16) == []
    assert await burst(rate, None, 1) == []  # unclassified (tests, tools) behaves as critical
    assert rate.admitted == {"critical": 16, "unclassified": 1} and not rate.shed
    assert time.sleeps == pytest.approx([0.1] * 7, abs=1e-5)  # 10 at once, then one per 100 ms


async def test_non_critical_work_waits_up_to_max_wait_then_is_shed() -> None:
    patient, time = budget(RateBudgetConfig(max_rps=10, critical_reserve_rps=4, burst=10, max_wait_s=0.2))
    assert await burst(patient, "normal", 8) == []  # 6 at once, then two each waited 1/6 s
    assert time.sleeps == pytest.approx([1 / 6] * 2, abs=1e-5)
    hasty, time = budget(RateBudgetConfig(max_rps=10, critical_reserve_rps=4, burst=10, max_wait_s=0.1))
    assert await burst(hasty, "normal", 8) == pytest.approx([1 / 6] * 2, abs=1e-5)
    assert time.sleeps == []  # the token would come after max_wait: shed at once, no pointless wait


async def test_an_unknown_class_is_held_to_the_normal_ceiling() -> None:
    rate, _ = budget()
    await burst(rate, "batch", 10)
    assert rate.admitted == {"batch": 6} and rate.shed == {"batch": 4}


def test_each_replica_takes_its_share() -> None:
    share = RateBudgetConfig(max_rps=50, critical_reserve_rps=15, sheddable_max_rps=20, burst=10).share(4)
    assert (share.max_rps, share.critical_reserve_rps, share.sheddable_max_rps, share.burst) == (
        12.5,
        3.75,
        5.0,
        2,
    )
    assert RateBudgetConfig(max_rps=5, burst=3).share(8).burst == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_rps": 0},
        {"max_rps": 10, "critical_reserve_rps": 10},
        {"max_rps": 10, "critical_reserve_rps": 4, "sheddable_max_rps": 7},
        {"max_rps": 10, "burst": 0},
    ],
)
def test_config_is_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RateBudgetConfig(**kwargs)  # type: ignore[arg-type]


async def test_a_shed_call_never_reaches_the_backend() -> None:
    sent: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200)

    time = FakeTime()
    config = BackendConfig(
        "billing", "http://billing.test", rate=RateBudgetConfig(max_rps=1, burst=2, max_wait_s=0)
    )
    http = BackendHttp(config, httpx.MockTransport(handler), clock=time.clock, sleep=time.sleep)
    with operation_class("sheddable"):
        assert await http.fetch("GET", "/a", lambda r: r.status_code) == 200
        assert await http.fetch("GET", "/b", lambda r: r.status_code) == 200
        with pytest.raises(BackendShed) as shed:
            await http.fetch("GET", "/c", lambda r: r.status_code)
    assert shed.value.retry_after_s == pytest.approx(1.0)
    assert sent == ["/a", "/b"]


async def test_replicas_on_the_fleets_shared_buckets_draw_on_one_budget() -> None:
    """Two replicas' budgets on one `SharedRate` (a `RateLimiter`; in service on Redis): together they
    admit the one budget's burst, not one each, and the fleet's size does not divide it (the limiter's
    own fallback share does that while Redis is away)."""
    time = FakeTime()
    fleet = RateLimiter(None, clock=time.clock)
    a, b = (RateBudget("billing", CONFIG, clock=time.clock, sleep=time.sleep, shared=fleet) for _ in range(2))
    with deadline(0.05):
        shed_a = await burst(a, "critical", 7)
        shed_b = await burst(b, "critical", 7)
    assert (a.admitted["critical"], b.admitted["critical"]) == (7, 3)
    assert (len(shed_a), len(shed_b)) == (0, 4)
    http = BackendHttp(BackendConfig("billing", "http://127.0.0.1:9", rate=CONFIG, shared_rate=fleet))
    http.share(3)
    assert http.rate is not None and http.rate.config == CONFIG  # whole: the buckets are the fleet's
    await http.aclose()


async def test_a_budget_of_its_own_is_divided_among_the_replicas() -> None:
    http = BackendHttp(BackendConfig("billing", "http://127.0.0.1:9", rate=CONFIG))
    http.share(2)
    assert http.rate is not None and http.rate.config == CONFIG.share(2)
    await http.aclose()


def test_try_acquire_takes_a_free_token_and_refuses_without_spending_when_none_is_left() -> None:
    """The synchronous half `BackendHttp` tries first: it admits exactly as `acquire` would while a
    token is free, and a refusal neither counts as shed nor moves the bucket (then `acquire` decides)."""
    decisions: list[tuple[str, str]] = []
    time = FakeTime()
    rate = RateBudget(
        "billing", CONFIG, clock=time.clock, sleep=time.sleep, on_decision=lambda *d: decisions.append(d)
    )
    with operation_class("sheddable"):
        taken = [rate.try_acquire() for _ in range(5)]
    assert taken == [True, True, True, False, False]  # the sheddable tier's burst is 3
    assert rate.admitted == {"sheddable": 3} and not rate.shed
    assert decisions == [("sheddable", "admitted")] * 3
    with operation_class("critical"):  # the refusals spent nothing: the other tiers are whole
        assert all(rate.try_acquire() for _ in range(7))
    assert rate.admitted == {"sheddable": 3, "critical": 7}


async def test_try_acquire_leaves_a_fleet_budget_to_acquire() -> None:
    time = FakeTime()
    fleet = RateLimiter(None, clock=time.clock)
    rate = RateBudget("billing", CONFIG, clock=time.clock, sleep=time.sleep, shared=fleet)
    assert not rate.try_acquire() and not rate.admitted  # the fleet's buckets are asked by `acquire`
    await rate.acquire()
    assert rate.admitted == {"unclassified": 1}
