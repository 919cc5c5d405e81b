"""`SupervisorBoard`: what the supervisor's board (`GET /board`) polls, one persisted query.

Thin on purpose: `services.board` computes every figure; these types only name them. The whole type
needs `board:read` (supervisors), so an agent asking gets FORBIDDEN before anything is read.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.directives import RequiresScopes
from schema.info import Info
from schema.network.outage import Outage
from services import board
from services.access import BOARD_READ

BOARD_DATA = RequiresScopes(scopes=[[BOARD_READ]])


@strawberry.type(description="One agent seen on a call since this replica started.")
class BoardAgent:
    agent_id: str
    state: str = strawberry.field(description="RINGING, ANSWERED or IDLE.")
    call_id: str | None
    seconds_in_state: float | None = strawberry.field(description="Since the call opened; null when idle.")

    @classmethod
    def of(cls, line: board.AgentLine) -> BoardAgent:
        return cls(
            agent_id=line.agent_id,
            state=line.state,
            call_id=line.call_id,
            seconds_in_state=line.seconds_in_state,
        )


@strawberry.type(description="One back office's breaker, bulkhead and calls/s budget on this replica.")
class BoardBackend:
    name: str
    status: str = strawberry.field(description="up, degraded or down, judged as /readyz judges it.")
    breaker: str | None = strawberry.field(description="closed, open or half_open; null: no breaker.")
    failure_rate: float | None = strawberry.field(description="Percent failed in the breaker's window.")
    last_outcome: str | None
    in_flight: int | None = strawberry.field(description="Calls holding a bulkhead slot now.")
    max_concurrent: int | None
    peak_in_flight: int | None
    shed_by_bulkhead: int
    max_rps: float | None = strawberry.field(
        description="The calls/s budget this replica draws on: the fleet's, with Redis."
    )
    recent_rps: float = strawberry.field(description="Calls/s the budget let start, last 10 s.")
    shed_by_budget: int

    @classmethod
    def of(cls, line: board.BackendLine) -> BoardBackend:
        g = line.guards
        return cls(
            name=g.backend,
            status=line.status,
            breaker=g.breaker,
            failure_rate=g.failure_rate,
            last_outcome=line.last_outcome,
            in_flight=g.in_flight,
            max_concurrent=g.max_concurrent,
            peak_in_flight=g.peak_in_flight,
            shed_by_bulkhead=line.shed_by_bulkhead,
            max_rps=g.max_rps,
            recent_rps=line.recent_rps,
            shed_by_budget=line.shed_by_budget,
        )


@strawberry.type(description="One kind of cached back-office data, counted since this replica started.")
class BoardCache:
    family: str
    hits: int
    misses: int
    stale_serves: int = strawberry.field(description="Served past its freshness (extensions.stale).")
    seconds_since_stale: float | None

    @classmethod
    def of(cls, line: board.CacheLine) -> BoardCache:
        return cls(
            family=line.family,
            hits=line.hits,
            misses=line.misses,
            stale_serves=line.stale_serves,
            seconds_since_stale=line.seconds_since_stale,
        )


@strawberry.type(
    description="An active outage, the calls on now that it leaves without water (by the valve-isolation "
    "trace, as the screen pop decides) and the callers the IVR told before they reached an agent."
)
class BoardOutage:
    outage: Outage
    call_ids: list[str]
    calls: int
    ivr_answered: int = strawberry.field(
        description="IVR look-ups (`callerOutageStatus`) this replica answered affected by this outage "
        "since it started: callers told without an agent."
    )


@strawberry.type(description="The supervisor's board, as this replica sees it.", directives=[BOARD_DATA])
class SupervisorBoard:
    record: strawberry.Private[board.Board]
    at: datetime
    ringing: int = strawberry.field(description="Calls ringing at an agent, not yet answered.")
    answered: int
    agents: list[BoardAgent]
    calls_last_minute: int
    calls_per_minute: list[int] = strawberry.field(
        description="Calls opened in each of the last 15 minutes, oldest first."
    )
    pops_counted: int = strawberry.field(description="Screen pops answered in the last 5 minutes.")
    pop_p50_ms: float | None
    pop_p99_ms: float | None
    backends: list[BoardBackend]
    caches: list[BoardCache]

    @classmethod
    def of(cls, record: board.Board) -> SupervisorBoard:
        return cls(
            record=record,
            at=record.at,
            ringing=record.ringing,
            answered=record.answered,
            agents=[BoardAgent.of(a) for a in record.agents],
            calls_last_minute=record.calls_last_minute,
            calls_per_minute=record.calls_per_minute,
            pops_counted=record.pops_counted,
            pop_p50_ms=record.pop_p50_ms,
            pop_p99_ms=record.pop_p99_ms,
            backends=[BoardBackend.of(b) for b in record.backends],
            caches=[BoardCache.of(c) for c in record.caches],
        )

    @strawberry.field(description="Active outages, each with the calls attributed to it.")
    async def outages(self, info: Info) -> list[BoardOutage] | None:
        lines = await board.board_outages(info.context)
        return [
            BoardOutage(
                outage=Outage.of(o.outage),
                call_ids=list(o.call_ids),
                calls=len(o.call_ids),
                ivr_answered=o.ivr_answered,
            )
            for o in lines
        ]
