"""The life of one call, as a table: which CTI event may move a call from which state, and to what.

    (new) ──RINGING──▶ RINGING ──ANSWERED──▶ ANSWERED ──ENDED──▶ ENDED (terminal)
      │                   │  ▲                  │  ▲
      └─────ANSWERED──────┼──┼─────────────────▶│  └─CONFERENCE_JOINED (another agent joins: stays)
                          │  └──TRANSFERRED─────┘     (the call rings at the agent it goes to)
                          └──────ENDED (abandoned while ringing)

A call answered without ringing first is normal (outbound calls, a switch that skips `delivered`).
The same event twice in a row changes nothing (`Step.UNCHANGED`); an event that goes backwards (a
RINGING after ANSWERED) is out of order and refused; after ENDED every event is refused, so nothing
the CTI, a replica or an attacker sends can give an agent a call's customers back once it ended.

TRANSFERRED and CONFERENCE_JOINED arrive as events of the same call rather than as a second end and
a second ring: `gateway.live.cti` accepts them as `CALL_TRANSFERRED` / `CALL_CONFERENCE_JOINED`, and
`services.calls` moves (transfer) or shares (conference) the call's customers with the agent named.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CallState(StrEnum):
    RINGING = "RINGING"
    ANSWERED = "ANSWERED"
    ENDED = "ENDED"


class CallEvent(StrEnum):
    RINGING = "RINGING"
    ANSWERED = "ANSWERED"
    ENDED = "ENDED"
    TRANSFERRED = "TRANSFERRED"
    CONFERENCE_JOINED = "CONFERENCE_JOINED"


class Refusal(StrEnum):
    """Why an event may not move a call: the public code the CTI gets back (HTTP 409)."""

    CALL_ENDED = "CTI_CALL_ENDED"
    OUT_OF_ORDER = "CTI_EVENT_OUT_OF_ORDER"


# (state before, or None for a call not known yet; event) -> state after.
TRANSITIONS: dict[tuple[CallState | None, CallEvent], CallState] = {
    (None, CallEvent.RINGING): CallState.RINGING,
    (None, CallEvent.ANSWERED): CallState.ANSWERED,
    (None, CallEvent.ENDED): CallState.ENDED,  # an end for a call never seen here: remember it
    (CallState.RINGING, CallEvent.ANSWERED): CallState.ANSWERED,
    (CallState.RINGING, CallEvent.ENDED): CallState.ENDED,
    (CallState.RINGING, CallEvent.TRANSFERRED): CallState.RINGING,  # deflected before answer
    (CallState.ANSWERED, CallEvent.ENDED): CallState.ENDED,
    (CallState.ANSWERED, CallEvent.TRANSFERRED): CallState.RINGING,  # rings at the new agent
    (CallState.ANSWERED, CallEvent.CONFERENCE_JOINED): CallState.ANSWERED,
}
# The same event again leaves the call where it is: a CTI resending with a new event id.
REPEATS = frozenset({(CallState.RINGING, CallEvent.RINGING), (CallState.ANSWERED, CallEvent.ANSWERED)})


@dataclass(frozen=True, slots=True)
class Step:
    """Where an event takes a call: `to` when allowed (`changed` False for a repeat), else `refused`."""

    to: CallState | None
    changed: bool = True
    refused: Refusal | None = None

    @property
    def allowed(self) -> bool:
        return self.refused is None


def step(state: CallState | None, event: CallEvent) -> Step:
    """The one rule every call follows; pure, so every replica decides alike."""
    if state is CallState.ENDED:
        return Step(None, changed=False, refused=Refusal.CALL_ENDED)
    if state is not None and (state, event) in REPEATS:
        return Step(state, changed=False)
    to = TRANSITIONS.get((state, event))
    if to is None:
        return Step(None, changed=False, refused=Refusal.OUT_OF_ORDER)
    return Step(to)
