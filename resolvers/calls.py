"""Which call each agent is on, and which customers that call has matched.

The CTI reports calls (ringing, answered, ended); the screen pop binds the customers found for
the caller's number to that call. An agent may read those customers, their accounts and the
tickets raised on the call, and nothing else; when the call ends, the binding ends with it.

Each process keeps its own registry. Every change made here (a CTI event this process received, a
binding its screen pop made) is reported to `on_change` as a `CallChange`; `resolvers.call_feed`
publishes those to the other processes and `apply`s theirs, so an agent's websocket, the CTI's
event and the agent's next query may each land on a different replica.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

REMEMBERED_ENDS = 10_000  # ended calls remembered, so a late event cannot bring one back


class CallState(StrEnum):
    RINGING = "RINGING"
    ANSWERED = "ANSWERED"


class ChangeKind(StrEnum):
    RINGING = "RINGING"
    ANSWERED = "ANSWERED"
    ENDED = "ENDED"
    BOUND = "BOUND"  # the screen pop matched customers (and their accounts) to the call


@dataclass(frozen=True, slots=True)
class CallChange:
    kind: ChangeKind
    agent_id: str
    call_id: str
    caller: str | None = None
    customers: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()


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
    # Told about bindings that add something (the registry passes them on to the other processes).
    on_bind: Callable[[Call, tuple[str, ...], tuple[str, ...]], None] | None = field(
        default=None, repr=False, compare=False
    )

    def bind(self, customer_no: str, account_nos: tuple[str, ...] | list[str]) -> None:
        new_customers = () if customer_no in self.customers else (customer_no,)
        new_accounts = tuple(a for a in account_nos if a not in self.accounts)
        self.customers.add(customer_no)
        self.accounts.update(account_nos)
        if (new_customers or new_accounts) and self.on_bind is not None:
            self.on_bind(self, new_customers, new_accounts)


class CallRegistry:
    """agent id -> their current call. An agent is on at most one call at a time."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[CallChange], None] | None = None,
    ) -> None:
        self._calls: dict[str, Call] = {}
        self._ended: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._clock = clock
        self.on_change = on_change

    def ringing(self, agent_id: str, call_id: str, caller: str | None) -> Call:
        current = self._calls.get(agent_id)
        if current is not None and current.call_id == call_id:
            return current  # a repeated event changes nothing
        call = Call(call_id, agent_id, caller, CallState.RINGING, self._clock(), on_bind=self._bound)
        self._calls[agent_id] = call
        self._tell(CallChange(ChangeKind.RINGING, agent_id, call_id, caller))
        return call

    def answered(self, agent_id: str, call_id: str, caller: str | None) -> Call:
        call = self.ringing(agent_id, call_id, caller)
        if call.state is not CallState.ANSWERED:
            call.state = CallState.ANSWERED
            self._tell(CallChange(ChangeKind.ANSWERED, agent_id, call_id, call.caller))
        return call

    def ended(self, agent_id: str, call_id: str) -> bool:
        """True when that call was the agent's current one; a stale end for an older call is ignored."""
        current = self._calls.get(agent_id)
        if current is None or current.call_id != call_id:
            return False
        del self._calls[agent_id]
        self._remember_end(agent_id, call_id)
        self._tell(CallChange(ChangeKind.ENDED, agent_id, call_id))
        return True

    def current(self, agent_id: str | None) -> Call | None:
        return self._calls.get(agent_id) if agent_id else None

    def apply(self, change: CallChange) -> None:
        """Another process's change, applied here without reporting it again. Changes may arrive late
        or out of order between processes: an ended call stays ended, and a binding for a call this
        process has not heard ring yet opens that call."""
        agent, call_id = change.agent_id, change.call_id
        if change.kind is ChangeKind.ENDED:
            current = self._calls.get(agent)
            if current is not None and current.call_id == call_id:
                del self._calls[agent]
            self._remember_end(agent, call_id)
            return
        if (agent, call_id) in self._ended:
            return
        call = self._calls.get(agent)
        if call is None or call.call_id != call_id:
            call = Call(call_id, agent, change.caller, CallState.RINGING, self._clock(), on_bind=self._bound)
            self._calls[agent] = call
        if call.caller is None:
            call.caller = change.caller
        if change.kind is ChangeKind.ANSWERED:
            call.state = CallState.ANSWERED
        call.customers.update(change.customers)
        call.accounts.update(change.accounts)

    def _bound(self, call: Call, customers: tuple[str, ...], accounts: tuple[str, ...]) -> None:
        if self._calls.get(call.agent_id) is call:  # a binding on a call that has ended goes nowhere
            change = CallChange(
                ChangeKind.BOUND, call.agent_id, call.call_id, call.caller, customers, accounts
            )
            self._tell(change)

    def _tell(self, change: CallChange) -> None:
        if self.on_change is not None:
            self.on_change(change)

    def _remember_end(self, agent_id: str, call_id: str) -> None:
        self._ended[(agent_id, call_id)] = None
        while len(self._ended) > REMEMBERED_ENDS:
            self._ended.popitem(last=False)

    def __len__(self) -> int:
        return len(self._calls)
