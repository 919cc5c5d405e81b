"""The operation's deadline, carried in a context variable so every backend call sees what is left.

The gateway opens a deadline per GraphQL operation (the screen pop gets 300 ms); dataloader
batches and resolvers run in tasks created inside the request, which copy the context, so each
backend call is given `min(its own timeout, time left)`, and a call with nothing left is not sent
at all. A late backend then costs its own fields (BACKEND_TIMEOUT), never a late response.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import Context, ContextVar, copy_context

_deadline: ContextVar[float | None] = ContextVar("tidegate_deadline", default=None)


@contextmanager
def deadline(budget_s: float | None) -> Iterator[None]:
    """Everything awaited inside (and every task created inside) shares this budget."""
    token = _deadline.set(None if budget_s is None else time.monotonic() + budget_s)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds until the operation's deadline (may be <= 0), or None when there is none."""
    at = _deadline.get()
    return None if at is None else at - time.monotonic()


def detached_context() -> Context:
    """A copy of the current context without the deadline, for work that should outlive the caller's
    patience: a cache fill whose answer the next request will want even if this one gave up on it."""
    context = copy_context()
    context.run(_deadline.set, None)
    return context
