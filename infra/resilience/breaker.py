"""A circuit breaker with resilience4j's semantics and names, so its docs and dashboards read across.

A backend that is down should cost the caller one refused call, not a full timeout per field:
once enough recent calls failed (or were slow) the breaker OPENs and refuses at once with
`CallNotPermitted`, then after a wait lets a few probe calls through (HALF_OPEN) and closes again
only if they went well.

    CLOSED ──failure or slow-call rate ≥ threshold──▶ OPEN ──wait (± jitter) elapsed──▶ HALF_OPEN
      ▲   (once minimum_number_of_calls are in the window)                    │
      └────────────── probes below both thresholds ◀─────────────────────────┤
                         probes at/above a threshold, or max wait elapsed ───▶ OPEN

Defaults (`BreakerConfig()`, resilience4j's own):

    sliding_window_type                            COUNT_BASED
    sliding_window_size                            100 calls (seconds when TIME_BASED)
    minimum_number_of_calls                        100 (capped at the window size when COUNT_BASED)
    failure_rate_threshold                         50 %   (opens at >=)
    slow_call_rate_threshold                       100 %  (opens at >=)
    slow_call_duration_threshold_s                 60 s   (a call this long or longer is slow)
    wait_duration_in_open_state_s                  60 s
    wait_jitter                                    0      (0.1 draws the wait from ±10 %)
    permitted_number_of_calls_in_half_open_state   10
    max_wait_duration_in_half_open_state_s         0      (wait for the probes forever)
    record_failure                                 isinstance(exc, BackendUnavailable)

Only `BackendUnavailable` (timeouts, 5xx, SOAP 9999, malformed answers) counts as a failure: a
`BackendRejected` such as NotFound is the backend working and is recorded as a success.

No background task: OPEN becomes HALF_OPEN lazily, on the first `try_acquire` after the wait (so
`state` reads OPEN until someone asks), and the half-open max wait is checked on every access.
Durations, the wait and the time-based window all use the injected clock.

As in resilience4j, HALF_OPEN records its probes in a count window of their own and gives its
verdict once min(minimum_number_of_calls, permitted probes) are in; OPEN keeps showing the window
that tripped it; CLOSED starts from an empty window.

Where it differs from resilience4j, on purpose:
- a call lasting exactly `slow_call_duration_threshold_s` is slow, and HALF_OPEN begins exactly when
  the wait ends (resilience4j: strictly longer, strictly after; the same thing on a float clock);
- `call` records a result only in the state that admitted it (resilience4j records late results
  into whatever state is current, so a straggler from CLOSED could be judged as a probe);
- a cancelled `call` returns its permit and records nothing, like resilience4j's ignored exceptions,
  so a half-open probe abandoned by its caller does not hold a permit forever.

Concurrency: built for one event loop. Every method is synchronous and `call` never awaits between
the permission check and the bookkeeping that follows it, so no lock is needed. Not thread-safe:
give each thread or loop its own breaker.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from infra.errors import BackendUnavailable
from infra.resilience.window import OUTCOMES, CountWindow, SlidingWindow, Snapshot, TimeWindow

T = TypeVar("T")

log = logging.getLogger(__name__)

# A refusal in HALF_OPEN means the probes are still out; their verdict is usually a call away.
HALF_OPEN_RETRY_AFTER_S = 1.0


class State(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


StateListener = Callable[[str, State, State], None]
"""Called with (breaker name, old state, new state) after every transition."""
Entered = tuple[float, int]  # (clock when admitted, the state generation that admitted the call)


class SlidingWindowType(StrEnum):
    COUNT_BASED = "COUNT_BASED"
    TIME_BASED = "TIME_BASED"


class CallNotPermitted(BackendUnavailable):
    """The breaker refused the call without touching the backend (resilience4j's CallNotPermittedException).

    A `BackendUnavailable`, so callers that already handle a down backend handle this too; it carries
    `retry_after_s` for a Retry-After hint.
    """

    code = "BACKEND_UNAVAILABLE"
    retry_after_s: float

    def __init__(self, name: str, retry_after_s: float) -> None:
        super().__init__(name, f"circuit breaker is open; retry in {retry_after_s:.1f} s")
        self.retry_after_s = retry_after_s


def is_backend_unavailable(exc: BaseException) -> bool:
    """The default failure test: the backend failed us, as opposed to answering "no"."""
    return isinstance(exc, BackendUnavailable)


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """resilience4j's CircuitBreakerConfig, in seconds; validated on construction."""

    sliding_window_type: SlidingWindowType = SlidingWindowType.COUNT_BASED
    sliding_window_size: int = 100
    minimum_number_of_calls: int = 100
    failure_rate_threshold: float = 50.0
    slow_call_rate_threshold: float = 100.0
    slow_call_duration_threshold_s: float = 60.0
    wait_duration_in_open_state_s: float = 60.0
    wait_jitter: float = 0.0
    permitted_number_of_calls_in_half_open_state: int = 10
    max_wait_duration_in_half_open_state_s: float = 0.0
    record_failure: Callable[[BaseException], bool] = is_backend_unavailable

    def __post_init__(self) -> None:
        # Accept the plain string from settings files; compare as the enum from here on.
        object.__setattr__(self, "sliding_window_type", SlidingWindowType(self.sliding_window_type))
        checks = {
            "sliding_window_size must be >= 1": self.sliding_window_size >= 1,
            "minimum_number_of_calls must be >= 1": self.minimum_number_of_calls >= 1,
            "failure_rate_threshold must be in (0, 100]": 0 < self.failure_rate_threshold <= 100,
            "slow_call_rate_threshold must be in (0, 100]": 0 < self.slow_call_rate_threshold <= 100,
            "slow_call_duration_threshold_s must be > 0": self.slow_call_duration_threshold_s > 0,
            "wait_duration_in_open_state_s must be > 0": self.wait_duration_in_open_state_s > 0,
            "wait_jitter must be in [0, 1)": 0 <= self.wait_jitter < 1,
            "permitted_number_of_calls_in_half_open_state must be >= 1": (
                self.permitted_number_of_calls_in_half_open_state >= 1
            ),
            "max_wait_duration_in_half_open_state_s must be >= 0": (
                self.max_wait_duration_in_half_open_state_s >= 0
            ),
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise ValueError("; ".join(failed))

    @classmethod
    def billing_default(cls) -> BreakerConfig:
        """Billing: open once at least 10% of at least 20 calls in the last 10 s failed or timed out.

        The rest are resilience4j's defaults, plus ±10% jitter on the open wait so that the gateway's
        workers, each with its own breaker, do not all probe a recovering billing system at once.
        """
        return cls(
            sliding_window_type=SlidingWindowType.TIME_BASED,
            sliding_window_size=10,
            minimum_number_of_calls=20,
            failure_rate_threshold=10.0,
            wait_jitter=0.1,
        )


class CircuitBreaker:
    """One backend's breaker. Wrap calls with `call`, or drive `try_acquire` / `on_success` /
    `on_error` by hand around code that is not a single awaitable."""

    def __init__(
        self,
        name: str,
        config: BreakerConfig,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        *,
        on_state_change: StateListener | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.on_state_change = on_state_change
        self._clock = clock
        self._rng = rng or random.Random()
        self._state = State.CLOSED
        self._generation = 0  # bumped on every transition: results are judged by the state that admitted them
        self._open_until = 0.0
        self._permits = 0
        self._half_open_until = math.inf
        self._window: SlidingWindow
        self._minimum_calls: int
        self._not_permitted = 0
        self._reset_window(half_open=False)

    # -- the wrapper ---------------------------------------------------------------------------

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run `fn` if permitted and record how it went; refuse with `CallNotPermitted` otherwise.

        A result is recorded only if the breaker is still in the state that admitted the call: a slow
        call let through while CLOSED must not be judged as a HALF_OPEN probe. Cancellation says
        nothing about the backend, so it returns the permit instead of recording an outcome.
        """
        entered = self.enter()
        try:
            result = await fn()
        except BaseException as exc:
            self.exit(entered, exc)
            raise
        self.exit(entered, None)
        return result

    def enter(self) -> Entered:
        """`call`'s first half, for a caller that awaits the call in its own frame: a permit, or
        `CallNotPermitted`. Hand what it returns to `exit` once the call is over."""
        now = self._clock()
        if not self._acquire(now):
            raise CallNotPermitted(self.name, self._retry_after(now))
        return now, self._generation

    def exit(self, entered: Entered, error: BaseException | None) -> None:
        """`call`'s second half: the call `enter` admitted ended, with `error` or without. Judged only
        if the breaker is still in the state that admitted it; a cancellation (not an `Exception`)
        returns the permit instead."""
        started, generation = entered
        if generation != self._generation:
            return
        if error is None:
            self.on_success(self._clock() - started)
        elif isinstance(error, Exception):
            self.on_error(self._clock() - started, error)
        else:
            self.release_permission()

    # -- the low-level API (resilience4j's names) ----------------------------------------------

    def try_acquire(self) -> bool:
        """May a call go through now? In HALF_OPEN each `True` uses up one probe permit."""
        return self._acquire(self._clock())

    def release_permission(self) -> None:
        """Give back a permit for a call that was admitted but never reached the backend."""
        if self._state is State.HALF_OPEN:
            self._permits = min(self._permits + 1, self.config.permitted_number_of_calls_in_half_open_state)

    def on_success(self, duration_s: float) -> None:
        self._record(duration_s, failed=False)

    def on_error(self, duration_s: float, exc: BaseException) -> None:
        """Record a call that raised; `config.record_failure` decides failure, else it is a success.

        A cancelled call is no outcome at all: call `release_permission` for it instead.
        """
        self._record(duration_s, failed=self.config.record_failure(exc))

    # -- reading -------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        self._expire_half_open(self._clock())
        return self._state

    @property
    def failure_rate(self) -> float:
        """Percent of the window's calls that failed; -1 until `minimum_number_of_calls` are in it."""
        return self._rates_of(self._snapshot())[0]

    @property
    def slow_call_rate(self) -> float:
        """Percent of the window's calls that were slow (failed or not); -1 below the minimum."""
        return self._rates_of(self._snapshot())[1]

    def metrics(self) -> dict[str, str | int | float]:
        """resilience4j's CircuitBreaker.Metrics, snake_cased, for logs and the metrics exporter."""
        snap = self._snapshot()
        failure_rate, slow_call_rate = self._rates_of(snap)
        return {
            "name": self.name,
            "state": str(self._state),
            "failure_rate": failure_rate,
            "slow_call_rate": slow_call_rate,
            "number_of_buffered_calls": snap.total_calls,
            "number_of_failed_calls": snap.failed_calls,
            "number_of_successful_calls": snap.successful_calls,
            "number_of_slow_calls": snap.slow_calls,
            "number_of_slow_failed_calls": snap.slow_failed_calls,
            "number_of_slow_successful_calls": snap.slow_successful_calls,
            "number_of_not_permitted_calls": self._not_permitted,
        }

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, {self._state})"

    # -- the state machine ---------------------------------------------------------------------

    def _acquire(self, now: float) -> bool:
        self._expire_half_open(now)
        if self._state is State.OPEN and now >= self._open_until:
            self._transition(State.HALF_OPEN, now)
        if self._state is State.CLOSED:
            return True
        if self._state is State.HALF_OPEN and self._permits > 0:
            self._permits -= 1
            return True
        self._not_permitted += 1
        return False

    def _record(self, duration_s: float, *, failed: bool) -> None:
        """Count the call and judge the window, on every call (a success can trip the breaker too:
        the one that brings the window to its minimum, or one recorded as old successes expire).
        Judged from the window's live totals, with no `Snapshot` built: this runs once per backend
        call."""
        now = self._clock()
        if self._state is State.HALF_OPEN:
            self._expire_half_open(now)
        config = self.config
        slow = duration_s >= config.slow_call_duration_threshold_s
        counts = self._window.record(OUTCOMES[failed, slow])
        if self._state is State.OPEN:
            return  # a call admitted before the breaker opened: counted, never judged
        if self._state is State.CLOSED and not counts.failed and not counts.slow:
            return  # a clean window cannot trip (both thresholds are above 0): nothing to judge
        failure_rate, slow_call_rate = self._rates(counts.total, counts.failed, counts.slow)
        if failure_rate == -1:
            return  # below the minimum: no verdict yet
        if failure_rate >= config.failure_rate_threshold or slow_call_rate >= config.slow_call_rate_threshold:
            self._transition(State.OPEN, now)
        elif self._state is State.HALF_OPEN:
            self._transition(State.CLOSED, now)

    def _expire_half_open(self, now: float) -> None:
        """The probes took longer than `max_wait_duration_in_half_open_state_s`: give up on them."""
        if self._state is State.HALF_OPEN and now >= self._half_open_until:
            self._transition(State.OPEN, now)

    def _transition(self, new: State, now: float) -> None:
        old, self._state = self._state, new
        self._generation += 1
        if new is State.OPEN:
            # The window that tripped the breaker stays readable while it is open, as in resilience4j.
            self._open_until = now + self._wait_in_open_state()
        elif new is State.HALF_OPEN:
            self._permits = self.config.permitted_number_of_calls_in_half_open_state
            max_wait = self.config.max_wait_duration_in_half_open_state_s
            self._half_open_until = now + max_wait if max_wait > 0 else math.inf
            self._reset_window(half_open=True)
        else:
            self._reset_window(half_open=False)
        if self.on_state_change is not None:
            try:
                self.on_state_change(self.name, old, new)
            except Exception:  # a broken metrics hook must not turn a backend answer into an error
                log.exception("circuit breaker %s: state-change listener failed", self.name)

    def _reset_window(self, *, half_open: bool) -> None:
        """A fresh window: a count window of just the probes when half-open, else the configured one.

        resilience4j caps a count window's minimum at its size, or the breaker could never judge.
        """
        cfg = self.config
        self._not_permitted = 0
        if half_open:
            size = cfg.permitted_number_of_calls_in_half_open_state
            self._window, self._minimum_calls = CountWindow(size), min(cfg.minimum_number_of_calls, size)
        elif cfg.sliding_window_type is SlidingWindowType.TIME_BASED:
            self._window = TimeWindow(cfg.sliding_window_size, self._clock)
            self._minimum_calls = cfg.minimum_number_of_calls
        else:
            self._window = CountWindow(cfg.sliding_window_size)
            self._minimum_calls = min(cfg.minimum_number_of_calls, cfg.sliding_window_size)

    def _wait_in_open_state(self) -> float:
        base = self.config.wait_duration_in_open_state_s
        jitter = self.config.wait_jitter
        return base * self._rng.uniform(1 - jitter, 1 + jitter) if jitter else base

    def _retry_after(self, now: float) -> float:
        if self._state is State.OPEN:
            return self._open_until - now
        return min(HALF_OPEN_RETRY_AFTER_S, self._half_open_until - now)

    def _snapshot(self) -> Snapshot:
        self._expire_half_open(self._clock())
        return self._window.snapshot()

    def _rates(self, total: int, failed: int, slow: int) -> tuple[float, float]:
        """(failure rate, slow-call rate) in percent, both -1 until the window holds the minimum
        number of calls: from plain counts, which `_record` reads live and a `Snapshot` holds."""
        if total == 0 or total < self._minimum_calls:
            return -1.0, -1.0
        return failed * 100.0 / total, slow * 100.0 / total

    def _rates_of(self, snap: Snapshot) -> tuple[float, float]:
        return self._rates(snap.total_calls, snap.failed_calls, snap.slow_calls)
