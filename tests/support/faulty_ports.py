"""Ports that fail on cue: the differential test's back-office faults (`tests.support.back_office_world`).

A `Faulty` port wraps an in-memory fake and, once armed, makes the methods named in its faults raise
one of the platform's back-office errors (`infra.errors`), a bare bug, or wait out the operation's
deadline; every call after the deadline is refused as the HTTP client refuses it. It records what it
was asked, so both runs of an operation can be shown to make the same calls.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

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
DEADLINE_S = 0.4  # the operation's budget when a call is slow: the slow call waits it out. Not less: on
# a loaded machine the generic walk once took 50 ms to reach its first call, and on a CI run a compiled
# walk over 150 ms to reach billing's (every other call then refused), so the two sides differed.


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
                # Past the deadline for sure: a timer may fire a hair early, and the calls after this one
                # must find the budget spent, as they would behind a real slow call.
                while (left := time_left()) is not None and left > 0:  # noqa: ASYNC110
                    await asyncio.sleep(left)
                raise BackendTimeout(self._name, "no answer before the operation's deadline")
            if fault is not None:
                raise FAULTS[fault](self._name)
            return await method(*args, **kwargs)

        return call
