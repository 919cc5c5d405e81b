"""Ports that fail on cue: the differential test's back-office faults (`tests.support.back_office_world`).

A `Faulty` port wraps an in-memory fake and, once armed, makes the methods named in its faults raise
one of the platform's back-office errors (`infra.errors`), a bare bug, or wait out the operation's
deadline; every call after the deadline is refused as the HTTP client refuses it. It records what it
was asked, so both runs of an operation can be shown to make the same calls.

The deadline runs on a clock of its own (`deadline_clock`), not the machine's: it stands still until
a slow call has let everything else under way reach its own calls, then jumps past the deadline. On
the machine's clock a slow call waited out a real 400 ms budget, and a run on a loaded CI machine that
took longer than that to reach its other calls found them refused where the other run had not.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from hypothesis import strategies as st

from infra.deadline import time_left
from infra.errors import (
    BackendServerError,
    BackendTimeout,
    InvalidRequest,
    NotFound,
    OutcomeUnknown,
    TemporarilyRefused,
)

# What a port method can do instead of answering: the platform's error tree (`infra.errors`), a bug
# (RuntimeError: masked as INTERNAL_SERVER_ERROR), or no answer before the operation's deadline.
FAULTS: dict[str, Callable[[str], Exception]] = {
    "unavailable": lambda b: BackendServerError(b, "HTTP 503"),
    "timeout": lambda b: BackendTimeout(b, "no answer within 800 ms"),
    "not_found": lambda b: NotFound(b, "no such record", vendor_code="1001"),
    "invalid": lambda b: InvalidRequest(b, "the system refused our input"),
    "refused": lambda b: TemporarilyRefused(b, "nightly settlement"),
    "unknown": lambda b: OutcomeUnknown(b, "the write may have landed"),
    "bug": lambda b: RuntimeError(f"{b}: a bug in the adapter"),
}
SLOW = "slow"
# The operation's budget when a call is slow, on `DEADLINE_CLOCK`: it does not pass by itself, so the
# figure only bounds the real waits the services derive from it (a cache's wait for a fetch), which
# a run never reaches.
DEADLINE_S = 30.0
# Loop turns a slow call gives the rest of the operation before the budget is spent; far more than
# any manifest operation's walk takes to reach its last call with in-memory ports (a few dozen).
SETTLE_TURNS = 1_000


class DeadlineClock:
    """`infra.deadline`'s clock in these runs: still until `expire`, then past every deadline."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def expire(self) -> None:
        self.now = math.inf


DEADLINE_CLOCK = DeadlineClock()


@contextmanager
def deadline_clock() -> Iterator[DeadlineClock]:
    """`infra.deadline` on `DEADLINE_CLOCK`, started afresh (the machine's clock everywhere else)."""
    DEADLINE_CLOCK.now = 0.0
    with mock.patch("infra.deadline.time", DEADLINE_CLOCK):
        yield DEADLINE_CLOCK


async def _settled() -> None:
    """Return once every other callback the loop has ready has run, and run out: what the rest of
    the operation can do before a slow call's budget is spent. Loop turns are counted, not timed."""
    loop = asyncio.get_running_loop()
    for _ in range(SETTLE_TURNS):
        await asyncio.sleep(0)
        if not getattr(loop, "_ready", True):  # asyncio's own loop: nothing else ready to run
            return


def faults(methods: list[str]) -> st.SearchStrategy[dict[str, str]]:
    """Faults for some of `methods` ("billing.accounts", ...): those an operation calls, so they bite."""
    if not methods:
        return st.just({})
    return st.dictionaries(
        st.sampled_from(sorted(set(methods))), st.sampled_from([*FAULTS, SLOW, SLOW]), max_size=2
    )


class Faulty:
    """A port whose methods named in `faults` fail (or wait out the deadline) once `armed`, and whose
    every call is refused, as the HTTP client refuses it, once the operation's deadline has passed."""

    def __init__(self, name: str, port: Any, faults: dict[str, str]) -> None:
        self._name, self._port, self.armed = name, port, False
        self.called: list[str] = []  # "billing.accounts", ..., while armed
        self._faults = {k.split(".", 1)[1]: v for k, v in faults.items() if k.startswith(f"{name}.")}

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._port, attr)
        if not inspect.iscoroutinefunction(value):
            return value
        return self._wrapped(attr, value)

    def _wrapped(self, attr: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if not self.armed:
                return await method(*args, **kwargs)
            self.called.append(f"{self._name}.{attr}")
            left = time_left()
            if left is not None and left <= 0:
                raise BackendTimeout(self._name, "the operation's time budget ran out before this call")
            fault = self._faults.get(attr)
            if fault == SLOW:
                # Everything else under way goes first, then the budget is spent: the calls after this
                # one find it so, as they would behind a real slow call.
                await _settled()
                DEADLINE_CLOCK.expire()
                raise BackendTimeout(self._name, "no answer before the operation's deadline")
            if fault is not None:
                raise FAULTS[fault](self._name)
            return await method(*args, **kwargs)

        return call
