"""A per-backend bulkhead: at most N calls in flight, with a share only critical work may use.

Billing's own pool is small (20 by default) and collapses past it, so Tidegate never sends it more
than `max_concurrent` calls at once, and keeps `reserved_for_critical` of those slots for the
screen pop and ticket creation; sheddable work (history, bills) has a lower ceiling still
(`sheddable_max_concurrent`), so under a surge it is shed before normal work is. Non-critical
calls queue up to `max_wait_s` for a slot and are then shed (RATE_LIMITED); critical calls wait
as long as the operation's deadline allows. The operation's class arrives in a context variable
set by the gateway, like its deadline (`infra.resilience.priority`); unclassified calls (tests, tools)
count as critical.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from infra.deadline import time_left
from infra.errors import BackendError
from infra.resilience.priority import CRITICAL, SHEDDABLE, class_label, tier


class BackendShed(BackendError):
    """Tidegate refused to send the call: the backend's budget is spent (never counts as its failure)."""

    code = "RATE_LIMITED"
    retry_after_s: float

    def __init__(self, backend: str, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(backend, message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class BulkheadConfig:
    max_concurrent: int
    reserved_for_critical: int = 0
    max_wait_s: float = 0.1  # how long non-critical work may queue for a slot before it is shed
    sheddable_max_concurrent: int | None = None  # None: sheddable work shares the normal ceiling

    def __post_init__(self) -> None:
        if self.max_concurrent < 1 or not 0 <= self.reserved_for_critical < self.max_concurrent:
            raise ValueError("need max_concurrent >= 1 and 0 <= reserved_for_critical < max_concurrent")
        normal = self.max_concurrent - self.reserved_for_critical
        if self.sheddable_max_concurrent is not None and not 1 <= self.sheddable_max_concurrent <= normal:
            raise ValueError("need 1 <= sheddable_max_concurrent <= max_concurrent - reserved_for_critical")

    def share(self, replicas: int) -> BulkheadConfig:
        """One replica's part of a pool the whole fleet shares: every ceiling divided (rounded down,
        at least one call, and the critical reserve below the ceiling), so the fleet never has more
        in flight than the back office's pool."""
        if replicas < 1:
            raise ValueError(f"replicas must be >= 1, not {replicas}")
        if replicas == 1:
            return self
        ceiling = max(1, self.max_concurrent // replicas)
        reserve = min(self.reserved_for_critical // replicas, ceiling - 1)
        shed = self.sheddable_max_concurrent
        return replace(
            self,
            max_concurrent=ceiling,
            reserved_for_critical=reserve,
            sheddable_max_concurrent=None
            if shed is None
            else max(1, min(shed // replicas, ceiling - reserve)),
        )

    def limit(self, level: str) -> int:
        """Calls in flight (of every class) at or above which work of this tier must wait."""
        if level == CRITICAL:
            return self.max_concurrent
        if level == SHEDDABLE and self.sheddable_max_concurrent is not None:
            return self.sheddable_max_concurrent
        return self.max_concurrent - self.reserved_for_critical


DecisionListener = Callable[[str, str], None]
"""Told (class label, "admitted" | "rejected") of each decision, for metrics."""


class Bulkhead:
    def __init__(
        self, name: str, config: BulkheadConfig, *, on_decision: DecisionListener | None = None
    ) -> None:
        self.name = name
        self.config = config
        self.on_decision = on_decision
        self.in_flight = 0
        self.peak = 0
        self.admitted: Counter[str] = Counter()  # by class label, for tests and metrics
        self.shed: Counter[str] = Counter()
        self._freed = asyncio.Event()

    async def acquire(self) -> None:
        """Take a slot, waiting up to `max_wait_s` (critical work up to its deadline instead)."""
        label, level = class_label(), tier()
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.config.max_wait_s
        while self.in_flight >= (limit := self.config.limit(level)):  # `reconfigure` may move it
            self._freed.clear()
            remaining = time_left() if level == CRITICAL else give_up - loop.time()
            if remaining is not None and remaining <= 0:
                self.shed[label] += 1
                if self.on_decision is not None:
                    self.on_decision(label, "rejected")
                raise BackendShed(self.name, f"{limit} calls in flight; shed {label} work")
            try:
                await asyncio.wait_for(self._freed.wait(), remaining)
            except TimeoutError:
                continue
        self._take(label)

    def try_acquire(self) -> bool:
        """Take a slot now if one is free: the common case, decided without a coroutine. False:
        `acquire` waits for one or sheds."""
        if self.in_flight >= self.config.limit(tier()):
            return False
        self._take(class_label())
        return True

    def _take(self, label: str) -> None:
        self.in_flight += 1
        self.admitted[label] += 1
        self.peak = max(self.peak, self.in_flight)
        if self.on_decision is not None:
            self.on_decision(label, "admitted")

    def release(self) -> None:
        self.in_flight -= 1
        self._freed.set()

    def reconfigure(self, config: BulkheadConfig) -> None:
        """New ceilings (the fleet changed size): calls in flight finish; waiters look again."""
        self.config = config
        self._freed.set()
