"""Which call each agent is on, and which customers that call has matched.

The CTI reports calls (ringing, answered, ended); the screen pop binds the customers found for
the caller's number to that call. An agent may read those customers, their accounts and the
tickets raised on the call, and nothing else; when the call ends, the binding ends with it.
Kept in process: one BFF replica per agent session is the demo's and tests' shape (a shared
store is the multi-replica follow-up).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class CallState(StrEnum):
    RINGING = "RINGING"
    ANSWERED = "ANSWERED"


@dataclass
class Call:
    call_id: str
    agent_id: str
    caller: str | None  # national digits, or None when the switch withheld it
    state: CallState
    started: float
    customers: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    tickets: set[str] = field(default_factory=set)

    def bind(self, customer_no: str, account_nos: tuple[str, ...] | list[str]) -> None:
        self.customers.add(customer_no)
        self.accounts.update(account_nos)


class CallRegistry:
    """agent id -> their current call. An agent is on at most one call at a time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._calls: dict[str, Call] = {}
        self._clock = clock

    def ringing(self, agent_id: str, call_id: str, caller: str | None) -> Call:
        current = self._calls.get(agent_id)
        if current is not None and current.call_id == call_id:
            return current  # a repeated event changes nothing
        call = Call(call_id, agent_id, caller, CallState.RINGING, self._clock())
        self._calls[agent_id] = call
        return call

    def answered(self, agent_id: str, call_id: str, caller: str | None) -> Call:
        call = self.ringing(agent_id, call_id, caller)
        call.state = CallState.ANSWERED
        return call

    def ended(self, agent_id: str, call_id: str) -> bool:
        """True when that call was the agent's current one; a stale end for an older call is ignored."""
        current = self._calls.get(agent_id)
        if current is None or current.call_id != call_id:
            return False
        del self._calls[agent_id]
        return True

    def current(self, agent_id: str | None) -> Call | None:
        return self._calls.get(agent_id) if agent_id else None

    def __len__(self) -> int:
        return len(self._calls)
