"""Which call each agent is on, and which customers that call has matched.

The CTI reports calls (ringing, answered, ended); the screen pop binds the customers found for
the caller's number to that call. An agent may read those customers, their accounts and the
tickets raised on the call, and nothing else; when the call ends, the binding ends with it.

Each process keeps its own registry. Every change made here (a CTI event this process received, a
binding its screen pop made) is reported to `on_change` as a `CallChange`; `services.call_feed`
publishes those to the other processes and `apply`s theirs, so an agent's websocket, the CTI's
event and the agent's next query may each land on a different replica.

A transfer moves the call, with its customers, to the agent it goes to (the agents it left lose it:
`LEFT`); a conference gives the joining agent a share of it; an end takes it from every agent
holding it. `on_release` listeners hear each agent losing a call, whichever process the news came
from, so background work for the call stops with it.

Every event moves a call through `services.call_machine`: an event the machine refuses (anything
after ENDED, a RINGING after ANSWERED) raises `CallRefused` and changes nothing. An ended call id is
remembered, so a late or replayed event cannot open it again, in this process or, through the feed,
in any other.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from services.call_machine import CallEvent, CallState, Refusal, step

__all__ = ["Call", "CallChange", "CallRefused", "CallRegistry", "CallState", "ChangeKind"]

logger = logging.getLogger("tidegate.calls")

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
    # An agent verified the caller and bound the call to one customer: its customers are that one only.
    IDENTIFIED = "IDENTIFIED"
    # The call rings at this agent, transferred with its customers (the agent it left gets a LEFT).
    TRANSFERRED = "TRANSFERRED"
    # This agent joined the call in a conference: they share its customers until it ends.
    CONFERENCE_JOINED = "CONFERENCE_JOINED"
    LEFT = "LEFT"  # this agent no longer holds the call (it was transferred away): not an end


@dataclass(frozen=True, slots=True)
class CallChange:
    kind: ChangeKind
    agent_id: str
    call_id: str
    caller: str | None = None
    customers: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    identified: str | None = None  # TRANSFERRED / CONFERENCE_JOINED: the call's identified customer


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
    # The customer an agent verified and bound the call to (`services.identify`); from then on the call's
    # customers are that one alone, and phone matches bind nothing more.
    identified: str | None = None
    # How its customers were found when not by the pop's own phone lookup (`services.caller_match`);
    # this process's knowledge only.
    matched_by: str | None = None
    # Told about bindings that add something (the registry passes them on to the other processes).
    on_bind: Callable[[Call, tuple[str, ...], tuple[str, ...]], None] | None = field(
        default=None, repr=False, compare=False
    )

    def bind(self, customer_no: str, account_nos: tuple[str, ...] | list[str]) -> None:
        if self.identified is not None and customer_no != self.identified:
            return  # the caller was identified as someone else: a phone match opens nothing more
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
        # Told (agent id, call id) whenever an agent stops holding a call, here or on another replica:
        # an end, or a transfer away (background work for the call, such as a phone search, stops).
        self.on_release: list[Callable[[str, str], None]] = []
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
        remembered (it can never ring again). Every agent holding the call (a conference) loses it.
        Raises `CallRefused` when the call had ended already."""
        self._move(agent_id, call_id, CallEvent.ENDED)
        self._remember_end(call_id)
        current = self._calls.get(agent_id)
        others = [a for a in self.holders(call_id) if a != agent_id]
        for other in others:
            self._drop(other, call_id)
            self._tell(CallChange(ChangeKind.ENDED, other, call_id))
        if current is None or current.call_id != call_id:
            return bool(others)
        self._drop(agent_id, call_id)
        self._tell(CallChange(ChangeKind.ENDED, agent_id, call_id))
        return True

    def transferred(self, to_agent: str, call_id: str) -> Call:
        """The call leaves every agent holding it and rings at `to_agent`, with its customers: the
        agents it left lose them, the new one may read them. Raises `CallRefused` (an unknown or ended
        call, or a transfer to the agent already on it)."""
        source = self._held(call_id, CallEvent.TRANSFERRED, exclude=to_agent)
        for holder in self.holders(call_id):
            self._drop(holder, call_id)
            self._tell(CallChange(ChangeKind.LEFT, holder, call_id))
        call = self._copy(source, to_agent, CallState.RINGING)
        self._tell(self._carried(ChangeKind.TRANSFERRED, call))
        return call

    def conference_joined(self, agent_id: str, call_id: str) -> Call:
        """`agent_id` joins the answered call: they share its customers until it ends. A repeat
        returns their share unchanged. Raises `CallRefused` (an unknown, ringing or ended call)."""
        current = self._calls.get(agent_id)
        if current is not None and current.call_id == call_id:
            return current
        source = self._held(call_id, CallEvent.CONFERENCE_JOINED, exclude=agent_id)
        call = self._copy(source, agent_id, CallState.ANSWERED)
        self._tell(self._carried(ChangeKind.CONFERENCE_JOINED, call))
        return call

    def identified(self, call: Call, customer_no: str, account_nos: tuple[str, ...]) -> None:
        """The agent verified the caller: the call (for every agent holding it) is bound to that
        customer alone, whatever the calling number matched before."""
        for holder in self.holders(call.call_id):
            held = self._calls[holder]
            held.identified = customer_no
            held.customers = {customer_no}
            held.accounts = set(account_nos)
            change = CallChange(
                ChangeKind.IDENTIFIED, holder, call.call_id, held.caller, (customer_no,), account_nos
            )
            self._tell(change)

    def holders(self, call_id: str) -> list[str]:
        """The agents this process knows to hold the call (more than one in a conference)."""
        return [agent for agent, call in self._calls.items() if call.call_id == call_id]

    def _held(self, call_id: str, event: CallEvent, exclude: str) -> Call:
        """The call as one of its current holders has it, checked against the machine."""
        state = CallState.ENDED if call_id in self._ended else None
        holders = [a for a in self.holders(call_id) if a != exclude]
        if state is None and holders:
            state = self._calls[holders[0]].state
        taken = step(state, event)
        if taken.refused is not None or not holders:
            raise CallRefused(taken.refused or Refusal.OUT_OF_ORDER, event, call_id)
        return self._calls[holders[0]]

    def _copy(self, source: Call, agent_id: str, state: CallState) -> Call:
        call = Call(source.call_id, agent_id, source.caller, state, self._clock(), on_bind=self._bound)
        call.customers, call.accounts = set(source.customers), set(source.accounts)
        call.tickets, call.identified = set(source.tickets), source.identified
        self._replace(agent_id, call)
        self._seen(agent_id)  # the same call at another agent: not a new one for calls per minute
        return call

    def _replace(self, agent_id: str, call: Call) -> None:
        """The agent's current call becomes `call`; a call they held before is released."""
        before = self._calls.get(agent_id)
        self._calls[agent_id] = call
        if before is not None and before.call_id != call.call_id:
            self._released(agent_id, before.call_id)

    def _drop(self, agent_id: str, call_id: str) -> None:
        current = self._calls.get(agent_id)
        if current is not None and current.call_id == call_id:
            del self._calls[agent_id]
            self._released(agent_id, call_id)

    def _released(self, agent_id: str, call_id: str) -> None:
        for listener in self.on_release:
            try:
                listener(agent_id, call_id)
            except Exception:  # a listener's fault must not undo the registry's change
                logger.exception("a call-release listener failed")

    @staticmethod
    def _carried(kind: ChangeKind, call: Call) -> CallChange:
        return CallChange(
            kind,
            call.agent_id,
            call.call_id,
            call.caller,
            tuple(call.customers),
            tuple(call.accounts),
            identified=call.identified,
        )

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
        self._replace(agent_id, call)
        self._opened(call)
        self._tell(CallChange(ChangeKind.RINGING, agent_id, call_id, caller))
        return call

    def _opened(self, call: Call) -> None:
        self.started.append(call.started)
        self._seen(call.agent_id)

    def _seen(self, agent_id: str) -> None:
        self._agents[agent_id] = None
        self._agents.move_to_end(agent_id)
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
            for holder in {agent, *self.holders(call_id)}:
                self._drop(holder, call_id)
            self._remember_end(call_id)
            return
        if change.kind is ChangeKind.LEFT:
            self._drop(agent, call_id)
            return
        if call_id in self._ended:
            return
        call = self._calls.get(agent)
        if call is None or call.call_id != call_id:
            call = Call(call_id, agent, change.caller, CallState.RINGING, self._clock(), on_bind=self._bound)
            self._replace(agent, call)
            if change.kind in (ChangeKind.TRANSFERRED, ChangeKind.CONFERENCE_JOINED):
                self._seen(agent)  # the same call at another agent
            else:
                self._opened(call)
        if call.caller is None:
            call.caller = change.caller
        if change.kind in (ChangeKind.ANSWERED, ChangeKind.CONFERENCE_JOINED):
            call.state = CallState.ANSWERED
        if change.kind is ChangeKind.TRANSFERRED:
            call.state = CallState.RINGING
        if change.identified is not None or change.kind is ChangeKind.IDENTIFIED:
            call.identified = change.identified or (change.customers[0] if change.customers else None)
            if change.kind is ChangeKind.IDENTIFIED:
                call.customers, call.accounts = set(change.customers), set(change.accounts)
                return
        if call.identified is not None and any(c != call.identified for c in change.customers):
            return  # a phone match arriving after the caller was identified opens nothing
        call.customers.update(change.customers)
        call.accounts.update(change.accounts)

    def _bound(self, call: Call, customers: tuple[str, ...], accounts: tuple[str, ...]) -> None:
        if self._calls.get(call.agent_id) is not call:  # a binding on a call that has ended goes nowhere
            return
        for holder in self.holders(call.call_id):  # in a conference every agent on the call shares it
            held = self._calls[holder]
            if held is not call:
                held.customers.update(customers)
                held.accounts.update(accounts)
            change = CallChange(ChangeKind.BOUND, holder, call.call_id, call.caller, customers, accounts)
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
