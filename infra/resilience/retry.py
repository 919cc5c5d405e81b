"""Retries for idempotent reads: few, jittered, and within a budget of extra calls per backend.

A transient 9999 or a garbled body is often gone on the next call, so an idempotent read that
failed with `BackendUnavailable` (timeout, 5xx, protocol garble) is tried again, at most
`max_attempts - 1` times, after a full-jitter pause (uniform in 0..backoff_s * 2**(n-1)). Never
retried: writes (a retried create makes a second order), `BackendRejected` (the backend said no),
`CallNotPermitted` (the breaker is open: that is the point), `BackendShed` (our own budget said
no), and any call whose deadline would leave less than `min_time_left_s` after the pause.

Retries are what turn a wobble into a retry storm, so each backend has a `RetryBudget` after
Finagle's: over a sliding window (10 s), retries may not exceed `ratio` (10%) of first attempts.
Unlike Finagle's there is no per-second floor, so the extra load is strictly bounded; the price is
that a quiet backend (under ten calls in the window) gets no retries at all.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from infra.deadline import time_left
from infra.errors import BackendUnavailable
from infra.resilience.breaker import CallNotPermitted

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

log = logging.getLogger("tidegate.retry")


@dataclass(frozen=True, slots=True)
class RetryConfig:
    max_attempts: int = 2  # the first call included: 2 is one retry
    backoff_s: float = 0.025  # the n-th retry waits uniform(0, backoff_s * 2**(n-1))
    budget_ratio: float = 0.1  # retries allowed per first attempt, over the window
    budget_window_s: int = 10
    min_time_left_s: float = 0.1  # a retry needs at least this much of the deadline after its pause

    def __post_init__(self) -> None:
        checks = {
            "max_attempts must be in 1..3": 1 <= self.max_attempts <= 3,
            "backoff_s must be >= 0": self.backoff_s >= 0,
            "budget_ratio must be in [0, 1]": 0 <= self.budget_ratio <= 1,
            "budget_window_s must be >= 1": self.budget_window_s >= 1,
            "min_time_left_s must be >= 0": self.min_time_left_s >= 0,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise ValueError("; ".join(failed))


class RetryBudget:
    """First attempts deposit, retries withdraw; a withdrawal fails once retries in the window
    would exceed `ratio` of the first attempts in it. One bucket per clock second, so the window
    is the last `window_s - 1` to `window_s` seconds."""

    def __init__(self, ratio: float, window_s: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ratio = ratio
        self.window_s = window_s
        self._clock = clock
        self._seconds: dict[int, list[int]] = {}  # clock second -> [first attempts, retries]
        self._second: int | None = None  # the clock second `_counts` is (nothing to evict within it)
        self._counts: list[int] = [0, 0]

    def deposit(self) -> None:
        self._current()[0] += 1

    def try_withdraw(self) -> bool:
        """Take one retry if the window allows it."""
        current = self._current()
        first = sum(counts[0] for counts in self._seconds.values())
        retries = sum(counts[1] for counts in self._seconds.values())
        if retries + 1 > self.ratio * first + 1e-9:
            return False
        current[1] += 1
        return True

    def _current(self) -> list[int]:
        now = math.floor(self._clock())
        if now == self._second:  # every call deposits: within one second there is nothing to evict
            return self._counts
        for second in [s for s in self._seconds if s <= now - self.window_s]:
            del self._seconds[second]
        self._second, self._counts = now, self._seconds.setdefault(now, [0, 0])
        return self._counts


class RetryPolicy:
    """One backend's retries. `call` runs every call to the backend, so that each deposits."""

    def __init__(
        self,
        backend: str,
        config: RetryConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.backend = backend
        self.config = config
        self.budget = RetryBudget(config.budget_ratio, config.budget_window_s, clock)
        self.retries = 0
        self.refused: Counter[str] = Counter()  # retryable failures not retried: attempts, deadline, budget
        self._sleep = sleep
        self._rng = rng or random.Random()

    async def call(self, attempt: Callable[[], Awaitable[T]], *, idempotent: bool, what: str = "") -> T:
        """`attempt()` once, and again after a transient failure if the call is idempotent and
        attempts, deadline and budget allow."""
        self.first_attempt()
        try:
            return await attempt()
        except BackendUnavailable as exc:
            return await self.after(exc, attempt, idempotent=idempotent, what=what)

    def first_attempt(self) -> None:
        """A call's first attempt is starting: it earns the retries the budget allows."""
        self.budget.deposit()

    async def after(
        self,
        failure: BackendUnavailable,
        attempt: Callable[[], Awaitable[T]],
        *,
        idempotent: bool,
        what: str = "",
    ) -> T:
        """`call` from its first failure on: `failure` raised again, or `attempt()` retried until it
        succeeds or may not be retried. A caller that makes the first attempt itself (having
        said so with `first_attempt()`, as `call` does) comes here only when it failed:
        `BackendHttp.fetch`, so that a call that succeeds at once runs no frame of the policy's."""
        number = 1
        while True:
            if not idempotent or isinstance(failure, CallNotPermitted):
                raise failure
            delay = self._rng.uniform(0, self.config.backoff_s * 2 ** (number - 1))
            refusal = self._refusal(number, delay)
            if refusal is not None:
                self.refused[refusal] += 1
                raise failure
            number += 1
            self.retries += 1
            log.info(
                "retrying %s %s after %s",
                self.backend,
                what,
                failure.code,
                extra={
                    "backend": self.backend,
                    "call": what,
                    "attempt": number,
                    "max_attempts": self.config.max_attempts,
                    "delay_ms": round(delay * 1000, 1),
                    "error_code": failure.code,
                    "error_type": type(failure).__name__,
                    "error_detail": failure.message,
                },
            )
            await self._sleep(delay)
            try:
                return await attempt()
            except BackendUnavailable as exc:
                failure = exc

    def _refusal(self, number: int, delay: float) -> str | None:
        """Why this failure may not be retried, or None; the budget is asked last, as it withdraws."""
        if number >= self.config.max_attempts:
            return "attempts"
        left = time_left()
        if left is not None and left - delay < self.config.min_time_left_s:
            return "deadline"
        if not self.budget.try_withdraw():
            return "budget"
        return None
