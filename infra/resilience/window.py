"""Sliding windows of call outcomes, after resilience4j's `FixedSizeSlidingWindowMetrics` and
`SlidingTimeWindowMetrics`.

Both keep a running total next to their storage and update it on record and on eviction
(subtract-on-evict), so reading a snapshot costs O(1) however large the window is. Neither stores
durations: the breaker classifies a call as slow before recording it, and only the counts matter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class Outcome(Enum):
    """How one call ended, already judged against the slow-call threshold (resilience4j's `Outcome`)."""

    SUCCESS = (False, False)
    ERROR = (True, False)
    SLOW_SUCCESS = (False, True)
    SLOW_ERROR = (True, True)

    def __init__(self, failed: bool, slow: bool) -> None:
        # Plain attributes, not properties reading `value`: the breaker reads both on every call.
        self.failed = failed
        self.slow = slow


# (failed, slow) → its Outcome: the breaker's look-up for each call it records.
OUTCOMES: dict[tuple[bool, bool], Outcome] = {outcome.value: outcome for outcome in Outcome}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The window's counts at one instant; rates are plain percentages (0 when the window is empty)."""

    total_calls: int = 0
    failed_calls: int = 0
    slow_calls: int = 0
    slow_failed_calls: int = 0

    @property
    def successful_calls(self) -> int:
        return self.total_calls - self.failed_calls

    @property
    def slow_successful_calls(self) -> int:
        return self.slow_calls - self.slow_failed_calls

    @property
    def failure_rate(self) -> float:
        return self.failed_calls * 100.0 / self.total_calls if self.total_calls else 0.0

    @property
    def slow_call_rate(self) -> float:
        return self.slow_calls * 100.0 / self.total_calls if self.total_calls else 0.0


class Counts:
    """Mutable counts: a partial aggregation (one bucket) or the window's running total."""

    __slots__ = ("failed", "slow", "slow_failed", "total")

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.total = self.failed = self.slow = self.slow_failed = 0

    def add(self, outcome: Outcome, sign: int = 1) -> None:
        self.total += sign
        self.failed += sign * outcome.failed
        self.slow += sign * outcome.slow
        self.slow_failed += sign * (outcome.failed and outcome.slow)

    def remove_bucket(self, bucket: Counts) -> None:
        self.total -= bucket.total
        self.failed -= bucket.failed
        self.slow -= bucket.slow
        self.slow_failed -= bucket.slow_failed

    def snapshot(self) -> Snapshot:
        return Snapshot(self.total, self.failed, self.slow, self.slow_failed)


class SlidingWindow(Protocol):
    def record(self, outcome: Outcome) -> Counts:
        """Count the outcome; return the window's running totals, live (read them at once, keep
        nothing: the breaker judges every call from them without building a `Snapshot`)."""
        ...

    def snapshot(self) -> Snapshot: ...


class CountWindow:
    """The last `size` calls, in a ring: the oldest outcome leaves as the newest arrives."""

    def __init__(self, size: int) -> None:
        self._ring: list[Outcome | None] = [None] * size
        self._head = 0
        self._total = Counts()

    def record(self, outcome: Outcome) -> Counts:
        evicted = self._ring[self._head]
        if evicted is not None:
            self._total.add(evicted, sign=-1)
        self._ring[self._head] = outcome
        self._head = (self._head + 1) % len(self._ring)
        self._total.add(outcome)
        return self._total

    def snapshot(self) -> Snapshot:
        return self._total.snapshot()


class _Bucket(Counts):
    __slots__ = ("second",)

    def __init__(self, second: int) -> None:
        super().__init__()
        self.second = second

    def reset(self, second: int) -> None:
        self.clear()
        self.second = second


class TimeWindow:
    """Calls recorded in the current clock second and the `size_s - 1` before it, one bucket a second.

    A call lands in the bucket of the second it *finished* in and leaves the window whole when that
    bucket is recycled, so "the last 10 s" means between 9 and 10 s, as in resilience4j. The clock is
    the breaker's (monotonic by default, a fake one in tests), not the wall clock resilience4j uses:
    buckets only need consecutive seconds, and a monotonic clock cannot jump back under NTP.
    """

    def __init__(self, size_s: int, clock: Callable[[], float]) -> None:
        self._clock = clock
        now = math.floor(clock())
        self._buckets = [_Bucket(now) for _ in range(size_s)]
        self._head = 0
        self._total = Counts()

    def record(self, outcome: Outcome) -> Counts:
        self._advance().add(outcome)
        self._total.add(outcome)
        return self._total

    def snapshot(self) -> Snapshot:
        self._advance()
        return self._total.snapshot()

    def _advance(self) -> _Bucket:
        """Recycle the buckets of the seconds that have passed since the last call; return the current one."""
        now = math.floor(self._clock())
        head = self._buckets[self._head]
        if now <= head.second:  # same second (or a clock that stood still): nothing expired
            return head
        for second in range(now - min(now - head.second, len(self._buckets)) + 1, now + 1):
            self._head = (self._head + 1) % len(self._buckets)
            bucket = self._buckets[self._head]
            self._total.remove_bucket(bucket)
            bucket.reset(second)
        return self._buckets[self._head]
