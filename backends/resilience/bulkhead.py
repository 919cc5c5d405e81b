"""A per-backend bulkhead: at most N calls in flight, with a share only critical work may use.

Billing's own pool is small (20 by default) and collapses past it, so Tidegate never sends it more
than `max_concurrent` calls at once, and keeps `reserved_for_critical` of those slots for the
screen pop and ticket creation: when a surge fills the rest, history and bills queue briefly and
are then shed (RATE_LIMITED), while critical calls still get through. The operation's class
arrives in a context variable set by the gateway, like its deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from backends.errors import BackendError

CRITICAL = "critical"
_op_class: ContextVar[str | None] = ContextVar("tidegate_op_class", default=None)


@contextmanager
def operation_class(name: str | None) -> Iterator[None]:
    """Everything awaited inside (and every task created inside) runs as this class of work."""
    token = _op_class.set(name)
    try:
        yield
    finally:
        _op_class.reset(token)


def current_class() -> str | None:
    return _op_class.get()


class BackendShed(BackendError):
    """Tidegate refused to send the call: the backend's budget is spent (never counts as its failure)."""

    code = "RATE_LIMITED"

    def __init__(self, backend: str, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(backend, message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class BulkheadConfig:
    max_concurrent: int
    reserved_for_critical: int = 0
    max_wait_s: float = 0.1  # how long non-critical work may queue for a slot before it is shed

    def __post_init__(self) -> None:
        if self.max_concurrent < 1 or not 0 <= self.reserved_for_critical < self.max_concurrent:
            raise ValueError("need max_concurrent >= 1 and 0 <= reserved_for_critical < max_concurrent")


class Bulkhead:
    def __init__(self, name: str, config: BulkheadConfig) -> None:
        self.name = name
        self.config = config
        self.in_flight = 0
        self.peak = 0
        self.shed = 0
        self._freed = asyncio.Event()

    def _limit(self, critical: bool) -> int:
        c = self.config
        return c.max_concurrent if critical else c.max_concurrent - c.reserved_for_critical

    async def acquire(self) -> None:
        """Take a slot, waiting up to `max_wait_s` (critical work waits its deadline out instead)."""
        critical = current_class() in (CRITICAL, None)  # unclassified calls (tests, tools) are not shed
        limit = self._limit(critical)
        loop = asyncio.get_running_loop()
        give_up = None if critical else loop.time() + self.config.max_wait_s
        while self.in_flight >= limit:
            self._freed.clear()
            remaining = None if give_up is None else give_up - loop.time()
            if remaining is not None and remaining <= 0:
                self.shed += 1
                raise BackendShed(
                    self.name, f"{self.config.max_concurrent} calls in flight; shed {current_class()} work"
                )
            try:
                await asyncio.wait_for(self._freed.wait(), remaining)
            except TimeoutError:
                continue
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    def release(self) -> None:
        self.in_flight -= 1
        self._freed.set()
