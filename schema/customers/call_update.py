"""CallUpdate: a call at an agent's phone changing state, for the softphone bar (no caller, no customers)."""

from __future__ import annotations

from enum import Enum
from typing import Self

import strawberry

from services.subscriptions import CallStateEvent


@strawberry.enum(description="Where a call is: ringing, answered, or ended (for good). UNKNOWN: never sent.")
class CallState(Enum):
    RINGING = "RINGING"
    ANSWERED = "ANSWERED"
    ENDED = "ENDED"
    UNKNOWN = "UNKNOWN"  # every enum of this API has one (a client must tolerate codes it does not know)


@strawberry.type(description="A call at an agent's phone changed state, as the CTI reported it.")
class CallUpdate:
    call_id: strawberry.ID
    agent_id: strawberry.ID
    state: CallState

    @classmethod
    def of(cls, event: CallStateEvent) -> Self:
        return cls(
            call_id=strawberry.ID(event.call_id),
            agent_id=strawberry.ID(event.agent_id),
            state=CallState(str(event.state)),
        )
