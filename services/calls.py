"""Which call each agent is on, and which customers that call has matched.

The CTI reports calls (ringing, answered, ended); the screen pop binds the customers found for
the caller's number to that call. An agent may read those customers, their accounts and the
tickets raised on the call, and nothing else; when the call ends, the binding ends with it.

Each process keeps its own registry. Every change made here (a CTI event this process received, a
binding its screen pop made) is reported to `on_change` as a `CallChange`; `services.call_feed`
publishes those to the other processes and `apply`s theirs, so an agent's websocket, the CTI's
event and the agent's next query may each land on a different replica.

Every event moves a call through `services.call_machine`: an event the machine refuses (anything
after ENDED, a RINGING after ANSWERED) raises `CallRefused` and changes nothing. An ended call id is
remembered, so a late or replayed event cannot open it again, in this process or, through the feed,
in any other.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from services.call_machine import CallEvent, CallState, Refusal, step

__all__ = ["Call", "CallChange", "CallRefused", "CallRegistry", "CallState", "ChangeKind"]

REMEMBERED_ENDS = 10_000  # ended calls remembered, so a late event cannot bring one back
REMEMBERED_STARTS = 10_000  # when recent calls opened, for the supervisor's calls per minute
REMEMBERED_AGENTS = 1_000  # agents seen on a call, so the board shows them idle afterwards


class CallRefused(Exception):
    """The call machine refused an event: `code` is the public code (`call_machine.Refusal`)."""

    def __init__(self, refusal: Refusal, event: CallEvent, call_id: str) -> None:
        super().__init__(f"{event} refused for call {call_id}: {refusal}")
        self.refusal = refusal
        self.code = str(refusal)


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
        self._ended: OrderedDict[str, None] = OrderedDict()  # call ids
        self._clock = clock
        self.on_change = on_change
        self.started: deque[float] = deque(maxlen=REMEMBERED_STARTS)  # clock() of each call opened
        self._agents: OrderedDict[str, None] = OrderedDict()

    def ringing(self, agent_id: str, call_id: str, caller: str | None) -> Call:
        """The agent's call, ringing; a repeat returns it unchanged. Raises `CallRefused`."""
        current = self._move(agent_id, call_id, CallEvent.RINGING)
        if current is not None:
            return current
        return self._open(agent_id, call_id, caller)

    def answered(self, agent_id: str, call_id: str, caller: str | None) -> Call:
        """The agent's call, answered (opened first if it never rang here). Raises `CallRefused`."""
        call = self._move(agent_id, call_id, CallEvent.ANSWERED)
        if call is None:
            call = self._open(agent_id, call_id, caller)
        if call.state is not CallState.ANSWERED:
            call.state = CallState.ANSWERED
            self._tell(CallChange(ChangeKind.ANSWERED, agent_id, call_id, call.caller))
        return call

    def ended(self, agent_id: str, call_id: str) -> bool:
        """True when that call was the agent's current one; an end for another call is only
        remembered (it can never ring again). Raises `CallRefused` when the call had ended already."""
        self._move(agent_id, call_id, CallEvent.ENDED)
        self._remember_end(call_id)
        current = self._calls.get(agent_id)
        if current is None or current.call_id != call_id:
            return False
        del self._calls[agent_id]
        self._tell(CallChange(ChangeKind.ENDED, agent_id, call_id))
        return True

    def state_of(self, agent_id: str, call_id: str) -> CallState | None:
        """Where the call stands for this agent, as far as this process knows; None: never seen."""
        if call_id in self._ended:
            return CallState.ENDED
        current = self._calls.get(agent_id)
        return current.state if current is not None and current.call_id == call_id else None

    def _move(self, agent_id: str, call_id: str, event: CallEvent) -> Call | None:
        """Check the event against the machine; the agent's current call when it is this one."""
        taken = step(self.state_of(agent_id, call_id), event)
        if taken.refused is not None:
            raise CallRefused(taken.refused, event, call_id)
        current = self._calls.get(agent_id)
        return current if current is not None and current.call_id == call_id else None

    def _open(self, agent_id: str, call_id: str, caller: str | None) -> Call:
        call = Call(call_id, agent_id, caller, CallState.RINGING, self._clock(), on_bind=self._bound)
        self._calls[agent_id] = call
        self._opened(call)
        self._tell(CallChange(ChangeKind.RINGING, agent_id, call_id, caller))
        return call

    def _opened(self, call: Call) -> None:
        self.started.append(call.started)
        self._agents[call.agent_id] = None
        self._agents.move_to_end(call.agent_id)
        while len(self._agents) > REMEMBERED_AGENTS:
            self._agents.popitem(last=False)

    def active(self) -> list[Call]:
        """Every call on now (ringing or answered), as this process knows them."""
        return list(self._calls.values())

    def agents_seen(self) -> list[str]:
        """Agents who had a call since start (the most recent `REMEMBERED_AGENTS`), oldest first."""
        return list(self._agents)

    def clock(self) -> float:
        """The registry's clock (`Call.started` is in its time)."""
        return self._clock()

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
            self._remember_end(call_id)
            return
        if call_id in self._ended:
            return
        call = self._calls.get(agent)
        if call is None or call.call_id != call_id:
            call = Call(call_id, agent, change.caller, CallState.RINGING, self._clock(), on_bind=self._bound)
            self._calls[agent] = call
            self._opened(call)
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

    def _remember_end(self, call_id: str) -> None:
        self._ended[call_id] = None
        self._ended.move_to_end(call_id)
        while len(self._ended) > REMEMBERED_ENDS:
            self._ended.popitem(last=False)

    def __len__(self) -> int:
        return len(self._calls)
