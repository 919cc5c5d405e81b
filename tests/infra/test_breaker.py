"""The circuit breaker against resilience4j's semantics, on a fake clock: exact, nothing sleeps.

Most tests drive the low-level API (`try_acquire`, `on_success`, `on_error`) the way resilience4j's
own tests do; the `call` tests check the wrapper records what the backend did and refuses without
calling it.
"""

# mypy keeps `cb.state` narrowed across the calls that change it; the tests read it again on purpose.
# mypy: disable-error-code="comparison-overlap"

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from infra.errors import BackendServerError, BackendTimeout, BackendUnavailable, NotFound
from infra.resilience import (
    BreakerConfig,
    CallNotPermitted,
    CircuitBreaker,
    SlidingWindowType,
    State,
)
from infra.resilience.window import Outcome, TimeWindow
from tests.support.clocks import FakeClock

TIMEOUT = BackendTimeout("billing", "no answer within 2000 ms")
NOT_FOUND = NotFound("billing", "户号不存在", vendor_code="1001")
WAIT_S = 10.0
PROBES = 3


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.25)


def make(clock: FakeClock, **overrides: Any) -> CircuitBreaker:
    """Window 5, minimum 5, 50%, 10 s open, 3 probes: small enough to count by hand."""
    settings: dict[str, Any] = {
        "sliding_window_size": 5,
        "minimum_number_of_calls": 5,
        "failure_rate_threshold": 50.0,
        "wait_duration_in_open_state_s": WAIT_S,
        "permitted_number_of_calls_in_half_open_state": PROBES,
    }
    listener = overrides.pop("on_state_change", None)
    rng = overrides.pop("rng", None)
    return CircuitBreaker(
        "billing", BreakerConfig(**(settings | overrides)), clock, rng, on_state_change=listener
    )


def record(cb: CircuitBreaker, *, failures: int = 0, successes: int = 0) -> None:
    for _ in range(failures):
        assert cb.try_acquire()
        cb.on_error(0.0, TIMEOUT)
    for _ in range(successes):
        assert cb.try_acquire()
        cb.on_success(0.0)


def open_breaker(cb: CircuitBreaker) -> None:
    record(cb, failures=5)
    assert cb.state is State.OPEN


def half_open(cb: CircuitBreaker, clock: FakeClock) -> None:
    """Open, wait it out, and take the first probe permit (the lazy transition needs an acquire)."""
    open_breaker(cb)
    clock.advance(WAIT_S)
    assert cb.try_acquire()
    assert cb.state is State.HALF_OPEN


async def fails() -> None:
    raise TIMEOUT


# -- CLOSED -------------------------------------------------------------------------------------


def test_opens_when_failure_rate_reaches_threshold(clock: FakeClock) -> None:
    cb = make(clock)
    record(cb, successes=2, failures=2)
    assert cb.state is State.CLOSED  # 4 calls: below the minimum, no verdict yet

    record(cb, failures=1)

    assert cb.state is State.OPEN
    assert cb.failure_rate == 60.0
    assert cb.metrics()["number_of_failed_calls"] == 3


def test_opens_at_exactly_the_threshold(clock: FakeClock) -> None:
    cb = make(clock, sliding_window_size=4, minimum_number_of_calls=4)
    record(cb, successes=2, failures=2)
    assert cb.state is State.OPEN  # 50% >= 50%


def test_stays_closed_below_threshold(clock: FakeClock) -> None:
    cb = make(clock)
    record(cb, failures=2, successes=3)
    assert cb.state is State.CLOSED
    assert cb.failure_rate == 40.0


def test_below_minimum_never_trips_and_reads_minus_one(clock: FakeClock) -> None:
    cb = make(clock)
    record(cb, failures=4)
    assert cb.state is State.CLOSED
    assert cb.failure_rate == -1
    assert cb.slow_call_rate == -1
    assert cb.metrics()["number_of_buffered_calls"] == 4


def test_count_window_forgets_the_oldest_calls(clock: FakeClock) -> None:
    cb = make(clock)
    record(cb, failures=2, successes=5)
    assert cb.failure_rate == 0.0  # both failures slid out of the last 5
    record(cb, failures=2)
    assert (cb.state, cb.failure_rate) == (State.CLOSED, 40.0)
    record(cb, failures=1)
    assert (cb.state, cb.failure_rate) == (State.OPEN, 60.0)


def test_minimum_is_capped_at_a_count_window(clock: FakeClock) -> None:
    cb = make(clock, minimum_number_of_calls=100)  # as in resilience4j, or a window of 5 never judges
    record(cb, failures=5)
    assert cb.state is State.OPEN


# -- what counts as a failure -------------------------------------------------------------------


async def test_business_errors_count_as_successes(clock: FakeClock) -> None:
    cb = make(clock)

    async def not_found() -> None:
        raise NOT_FOUND

    for _ in range(5):
        with pytest.raises(NotFound):
            await cb.call(not_found)

    assert cb.state is State.CLOSED
    assert cb.failure_rate == 0.0
    assert cb.metrics()["number_of_successful_calls"] == 5


async def test_timeouts_and_server_errors_count_as_failures(clock: FakeClock) -> None:
    cb = make(clock)

    async def server_error() -> None:
        raise BackendServerError("billing", "SOAP fault 9999", vendor_code="9999")

    for fn in (fails, server_error, fails):
        with pytest.raises(BackendUnavailable):
            await cb.call(fn)
    assert cb.failure_rate == -1
    for _ in range(2):
        with pytest.raises(BackendTimeout):
            await cb.call(fails)

    assert cb.state is State.OPEN
    assert cb.failure_rate == 100.0


def test_record_failure_is_configurable(clock: FakeClock) -> None:
    cb = make(clock, record_failure=lambda exc: isinstance(exc, ValueError))
    for _ in range(5):
        assert cb.try_acquire()
        cb.on_error(0.0, TIMEOUT)
    assert (cb.state, cb.failure_rate) == (State.CLOSED, 0.0)
    for _ in range(3):
        cb.on_error(0.0, ValueError("ours"))
    assert cb.state is State.OPEN


# -- slow calls ---------------------------------------------------------------------------------


async def test_slow_calls_open_the_breaker_by_slow_call_rate(clock: FakeClock) -> None:
    cb = make(clock, slow_call_duration_threshold_s=2.0, slow_call_rate_threshold=60.0)

    async def taking(seconds: float) -> str:
        clock.advance(seconds)
        return "ok"

    assert await cb.call(lambda: taking(1.75)) == "ok"  # dyadic durations: exact on a float clock
    assert await cb.call(lambda: taking(0.125)) == "ok"
    for _ in range(2):
        await cb.call(lambda: taking(2.0))  # at the threshold counts as slow
    assert cb.state is State.CLOSED
    assert cb.metrics()["number_of_slow_calls"] == 2

    await cb.call(lambda: taking(30.0))

    assert cb.state is State.OPEN
    assert (cb.failure_rate, cb.slow_call_rate) == (0.0, 60.0)
    assert cb.metrics()["number_of_slow_successful_calls"] == 3


def test_slow_failures_count_toward_both_rates(clock: FakeClock) -> None:
    cb = make(clock, slow_call_duration_threshold_s=1.0, failure_rate_threshold=100.0)
    record(cb, successes=3)
    for _ in range(2):
        assert cb.try_acquire()
        cb.on_error(5.0, TIMEOUT)
    assert (cb.state, cb.failure_rate, cb.slow_call_rate) == (State.CLOSED, 40.0, 40.0)
    assert cb.metrics()["number_of_slow_failed_calls"] == 2


# -- OPEN ---------------------------------------------------------------------------------------


async def test_open_refuses_without_calling_the_backend(clock: FakeClock) -> None:
    cb = make(clock)
    open_breaker(cb)
    called = False

    async def backend() -> str:
        nonlocal called
        called = True
        return "answer"

    clock.advance(4.0)
    with pytest.raises(CallNotPermitted) as refused:
        await cb.call(backend)

    assert not called
    assert refused.value.retry_after_s == pytest.approx(6.0)
    assert refused.value.code == "BACKEND_UNAVAILABLE"
    assert refused.value.backend == "billing"
    assert isinstance(refused.value, BackendUnavailable)  # callers handling a down backend handle this
    assert cb.metrics()["number_of_not_permitted_calls"] == 1
    assert cb.failure_rate == 100.0  # the window that tripped it stays readable


def test_late_results_while_open_are_counted_but_never_judged(clock: FakeClock) -> None:
    seen: list[tuple[str, State, State]] = []
    cb = make(clock, on_state_change=lambda *change: seen.append(change))
    open_breaker(cb)

    clock.advance(5.0)
    cb.on_success(0.0)  # admitted while CLOSED, answered after the breaker opened

    assert cb.metrics()["number_of_successful_calls"] == 1
    assert seen == [("billing", State.CLOSED, State.OPEN)]  # 80% failed, yet no new verdict
    clock.advance(5.0)
    assert cb.try_acquire()  # and the wait was not restarted


def test_half_opens_lazily_once_the_wait_has_elapsed(clock: FakeClock) -> None:
    cb = make(clock)
    open_breaker(cb)

    clock.advance(WAIT_S - 0.5)
    assert not cb.try_acquire()
    clock.advance(0.5)
    assert cb.state is State.OPEN  # nothing happens until someone asks

    assert cb.try_acquire()
    assert cb.state is State.HALF_OPEN
    assert cb.metrics()["number_of_buffered_calls"] == 0  # probes are judged on their own


@pytest.mark.parametrize("seed", range(20))
async def test_jittered_wait_stays_within_its_range(clock: FakeClock, seed: int) -> None:
    cb = make(clock, wait_jitter=0.1, rng=random.Random(seed))
    wait = WAIT_S * random.Random(seed).uniform(0.9, 1.1)
    assert 9.0 <= wait <= 11.0
    opened_at = clock.now
    open_breaker(cb)

    clock.now = opened_at + wait - 1e-6
    with pytest.raises(CallNotPermitted) as refused:
        await cb.call(fails)
    assert refused.value.retry_after_s == pytest.approx(1e-6)
    clock.now = opened_at + wait
    assert cb.try_acquire()


def test_jitter_draws_a_new_wait_each_time_it_opens(clock: FakeClock) -> None:
    cb = make(clock, wait_jitter=0.5, rng=random.Random(42))
    expected = random.Random(42)
    open_breaker(cb)
    for _ in range(3):
        opened_at, wait = clock.now, WAIT_S * expected.uniform(0.5, 1.5)
        clock.now = opened_at + wait - 1e-6
        assert not cb.try_acquire()
        clock.now = opened_at + wait
        assert cb.try_acquire()
        cb.on_error(0.0, TIMEOUT)
        record(cb, failures=PROBES - 1)
        assert cb.state is State.OPEN


# -- HALF_OPEN ----------------------------------------------------------------------------------


async def test_half_open_admits_exactly_the_permitted_probes(clock: FakeClock) -> None:
    cb = make(clock)
    half_open(cb, clock)
    assert cb.try_acquire()
    assert cb.try_acquire()

    assert not cb.try_acquire()
    with pytest.raises(CallNotPermitted) as refused:
        await cb.call(fails)
    assert refused.value.retry_after_s > 0
    assert cb.metrics()["number_of_not_permitted_calls"] == 2


def test_probes_that_succeed_close_with_a_fresh_window(clock: FakeClock) -> None:
    cb = make(clock)
    half_open(cb, clock)
    cb.on_success(0.0)
    record(cb, successes=1)
    assert cb.state is State.HALF_OPEN  # waits for all 3 probes
    record(cb, successes=1)

    assert cb.state is State.CLOSED
    assert cb.failure_rate == -1
    assert cb.metrics()["number_of_buffered_calls"] == 0
    record(cb, failures=4)
    assert cb.state is State.CLOSED  # a new window: the minimum applies again


def test_probes_below_threshold_close(clock: FakeClock) -> None:
    cb = make(clock)
    half_open(cb, clock)
    cb.on_error(0.0, TIMEOUT)
    record(cb, successes=2)
    assert cb.state is State.CLOSED  # 1 of 3 = 33% < 50%


def test_probes_at_or_above_threshold_reopen_for_a_new_wait(clock: FakeClock) -> None:
    cb = make(clock)
    half_open(cb, clock)
    cb.on_success(0.0)
    record(cb, failures=1)
    assert cb.state is State.HALF_OPEN
    record(cb, failures=1)

    assert cb.state is State.OPEN
    assert cb.failure_rate == pytest.approx(200 / 3)
    clock.advance(WAIT_S - 0.5)
    assert not cb.try_acquire()
    clock.advance(0.5)
    assert cb.try_acquire()


def test_max_wait_in_half_open_reopens_when_probes_hang(clock: FakeClock) -> None:
    cb = make(clock, max_wait_duration_in_half_open_state_s=5.0)
    half_open(cb, clock)  # one probe out, never answers

    clock.advance(4.5)
    assert cb.state is State.HALF_OPEN
    clock.advance(0.5)
    assert cb.state is State.OPEN

    cb.on_success(0.0)  # the hung probe finally answers: counted, not judged
    assert cb.state is State.OPEN
    assert not cb.try_acquire()


def test_zero_max_wait_waits_for_the_probes_forever(clock: FakeClock) -> None:
    cb = make(clock)
    half_open(cb, clock)
    clock.advance(86_400)
    assert cb.state is State.HALF_OPEN


async def test_cancelled_probe_returns_its_permit(clock: FakeClock) -> None:
    cb = make(clock, permitted_number_of_calls_in_half_open_state=1)
    open_breaker(cb)
    clock.advance(WAIT_S)

    async def cancelled() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await cb.call(cancelled)

    assert cb.state is State.HALF_OPEN
    assert cb.metrics()["number_of_buffered_calls"] == 0
    assert cb.try_acquire()


async def test_a_call_admitted_before_opening_is_not_judged_as_a_probe(clock: FakeClock) -> None:
    cb = make(clock)
    gate = asyncio.Event()

    async def stuck_then_fails() -> None:
        await gate.wait()
        raise TIMEOUT

    straggler = asyncio.create_task(cb.call(stuck_then_fails))
    await asyncio.sleep(0)  # admitted while CLOSED
    half_open(cb, clock)

    gate.set()
    with pytest.raises(BackendTimeout):
        await straggler

    assert cb.state is State.HALF_OPEN
    assert cb.metrics()["number_of_buffered_calls"] == 0


# -- TIME_BASED window --------------------------------------------------------------------------


def test_time_window_forgets_calls_older_than_the_window(clock: FakeClock) -> None:
    cb = make(clock, sliding_window_type=SlidingWindowType.TIME_BASED, sliding_window_size=10)
    record(cb, failures=4)  # at 1000.25: bucket 1000

    clock.advance(9.5)  # 1009.75: bucket 1000 is still the oldest of the last 10
    assert cb.metrics()["number_of_buffered_calls"] == 4
    clock.advance(0.25)  # 1010.0: bucket 1000 is recycled
    assert cb.metrics()["number_of_buffered_calls"] == 0

    record(cb, failures=1)
    assert (cb.state, cb.failure_rate) == (State.CLOSED, -1)


def test_time_window_opens_on_calls_within_the_window(clock: FakeClock) -> None:
    cb = make(clock, sliding_window_type="TIME_BASED", sliding_window_size=10)
    for _ in range(4):
        record(cb, failures=1)
        clock.advance(2.0)
    assert cb.state is State.CLOSED
    record(cb, failures=1)  # at 1008.25: the first, at 1000.25, still counts
    assert cb.state is State.OPEN


def test_time_window_buckets_by_second() -> None:
    clock = FakeClock(0.0)
    window = TimeWindow(3, clock)
    window.record(Outcome.ERROR)
    clock.advance(1.5)
    window.record(Outcome.SLOW_SUCCESS)
    clock.advance(1.0)  # 2.5: buckets 0, 1, 2
    assert window.snapshot().total_calls == 2
    clock.advance(0.5)  # 3.0: bucket 0 leaves
    snap = window.snapshot()
    assert (snap.total_calls, snap.failed_calls, snap.slow_calls) == (1, 0, 1)
    clock.advance(10_000.0)  # a long quiet spell recycles each bucket once
    assert window.snapshot().total_calls == 0
    window.record(Outcome.SLOW_ERROR)
    assert window.snapshot().slow_failed_calls == 1


# -- billing --------------------------------------------------------------------------------------


def test_billing_default() -> None:
    cfg = BreakerConfig.billing_default()
    assert cfg.sliding_window_type is SlidingWindowType.TIME_BASED
    assert (cfg.sliding_window_size, cfg.minimum_number_of_calls) == (10, 20)
    assert (cfg.failure_rate_threshold, cfg.wait_jitter) == (10.0, 0.1)
    assert cfg.record_failure(TIMEOUT) and not cfg.record_failure(NOT_FOUND)


@pytest.mark.parametrize(
    ("calls", "failures", "opens"),
    [(20, 2, True), (25, 3, True), (19, 2, False), (19, 19, False), (20, 1, False), (40, 3, False)],
)
def test_billing_opens_at_ten_percent_of_twenty_calls_in_ten_seconds(
    clock: FakeClock, calls: int, failures: int, opens: bool
) -> None:
    cb = CircuitBreaker("billing", BreakerConfig.billing_default(), clock)
    step = 9.0 / calls  # all within the last 10 s
    record(cb, successes=calls - failures)
    for _ in range(failures):
        clock.advance(step)
        record(cb, failures=1)
    assert (cb.state is State.OPEN) is opens


def test_billing_ignores_failures_older_than_ten_seconds(clock: FakeClock) -> None:
    cb = CircuitBreaker("billing", BreakerConfig.billing_default(), clock)
    record(cb, failures=2, successes=8)
    clock.advance(10.0)
    record(cb, successes=18)
    assert cb.metrics()["number_of_buffered_calls"] == 18
    record(cb, failures=1, successes=1)
    assert (cb.state, cb.failure_rate) == (State.CLOSED, 5.0)


# -- listener, config, metrics ------------------------------------------------------------------


def test_state_change_listener_sees_every_transition(clock: FakeClock) -> None:
    seen: list[tuple[str, State, State]] = []
    cb = make(clock, on_state_change=lambda *change: seen.append(change))

    half_open(cb, clock)
    record(cb, successes=2)
    cb.on_success(0.0)

    assert seen == [
        ("billing", State.CLOSED, State.OPEN),
        ("billing", State.OPEN, State.HALF_OPEN),
        ("billing", State.HALF_OPEN, State.CLOSED),
    ]


def test_a_failing_listener_does_not_break_the_breaker(clock: FakeClock) -> None:
    def broken(name: str, old: State, new: State) -> None:
        raise RuntimeError("metrics exporter down")

    cb = make(clock, on_state_change=broken)
    open_breaker(cb)
    assert not cb.try_acquire()


def test_defaults_are_resilience4js() -> None:
    cfg = BreakerConfig()
    assert cfg.sliding_window_type is SlidingWindowType.COUNT_BASED
    assert (cfg.sliding_window_size, cfg.minimum_number_of_calls) == (100, 100)
    assert (cfg.failure_rate_threshold, cfg.slow_call_rate_threshold) == (50.0, 100.0)
    assert (cfg.slow_call_duration_threshold_s, cfg.wait_duration_in_open_state_s) == (60.0, 60.0)
    assert cfg.permitted_number_of_calls_in_half_open_state == 10
    assert (cfg.max_wait_duration_in_half_open_state_s, cfg.wait_jitter) == (0.0, 0.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"sliding_window_size": 0},
        {"minimum_number_of_calls": 0},
        {"failure_rate_threshold": 0},
        {"failure_rate_threshold": 101},
        {"slow_call_rate_threshold": 0},
        {"slow_call_duration_threshold_s": 0},
        {"wait_duration_in_open_state_s": 0},
        {"wait_jitter": 1.0},
        {"wait_jitter": -0.1},
        {"permitted_number_of_calls_in_half_open_state": 0},
        {"max_wait_duration_in_half_open_state_s": -1},
        {"sliding_window_type": "SESSION_BASED"},
    ],
)
def test_config_is_validated(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        BreakerConfig(**bad)


def test_metrics_reads_like_resilience4j(clock: FakeClock) -> None:
    cb = make(clock, slow_call_duration_threshold_s=1.0)
    record(cb, successes=2)
    cb.on_success(3.0)
    assert cb.metrics() == {
        "name": "billing",
        "state": "CLOSED",
        "failure_rate": -1.0,
        "slow_call_rate": -1.0,
        "number_of_buffered_calls": 3,
        "number_of_failed_calls": 0,
        "number_of_successful_calls": 3,
        "number_of_slow_calls": 1,
        "number_of_slow_failed_calls": 0,
        "number_of_slow_successful_calls": 1,
        "number_of_not_permitted_calls": 0,
    }


def test_enter_and_exit_are_call_in_two_halves(clock: FakeClock) -> None:
    """What `BackendHttp` drives in its own frame: `enter` admits or refuses as `call` does, `exit`
    judges the outcome by the state that admitted it, and a cancellation returns the permit."""
    cb = make(clock, permitted_number_of_calls_in_half_open_state=1)
    first = cb.enter()
    clock.advance(0.5)
    cb.exit(first, None)
    assert cb.metrics()["number_of_successful_calls"] == 1
    late = cb.enter()  # admitted while closed, still out when the breaker opens
    record(cb, failures=4)  # with the success: 5 calls, 80% failed
    assert cb.state is State.OPEN
    with pytest.raises(CallNotPermitted):
        cb.enter()
    cb.exit(late, TIMEOUT)  # judged by the state that admitted it: not at all
    assert cb.metrics()["number_of_buffered_calls"] == 5
    clock.advance(WAIT_S)
    probe = cb.enter()
    assert cb.state is State.HALF_OPEN and not cb.try_acquire()  # the one probe is out
    cb.exit(probe, asyncio.CancelledError())
    assert cb.try_acquire()  # a cancelled probe gave its permit back
