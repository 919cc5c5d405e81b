"""How much a piece of work matters when capacity runs short: the one operation-class vocabulary.

`critical` (the screen pop, filing a repair ticket) is admitted first and may use the shares kept back
for it; `normal` waits its turn; `sheddable` (history, bills, ticket lists) is refused first under a
surge. The gateway classes each operation (`gateway.limits.admission`) and sets the class in a
context variable, like the deadline, so every bulkhead and rate budget below sees it without being
told; unclassified work (tests, tools) counts as critical, and nothing here knows what a query is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum


class OperationClass(StrEnum):
    CRITICAL = "critical"
    NORMAL = "normal"
    SHEDDABLE = "sheddable"


CRITICAL, NORMAL, SHEDDABLE = OperationClass.CRITICAL, OperationClass.NORMAL, OperationClass.SHEDDABLE
UNCLASSIFIED = "unclassified"  # the counters' label for work nobody classed
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


def class_label() -> str:
    """The class as counters name it (None is `unclassified`)."""
    return current_class() or UNCLASSIFIED


def tier() -> OperationClass:
    """Which limits apply: unclassified work is never shed early, and any class we do not know
    is treated as normal."""
    name = current_class()
    if name in (CRITICAL, None):
        return CRITICAL
    return SHEDDABLE if name == SHEDDABLE else NORMAL


_RANK = {CRITICAL: 0, NORMAL: 1, SHEDDABLE: 2}


def rank() -> int:
    """The current tier as a number, lower first: 0 critical, 1 normal, 2 sheddable. Work shared
    between callers (one fetch serving several) must run at the lowest rank of those who wait on it,
    or a critical caller inherits a sheddable fetch's fate (`infra.cache.cache`)."""
    return _RANK[tier()]
