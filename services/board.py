"""The supervisor's board: the contact centre and its back offices at a glance, from what Tidegate
already knows (no back-office call beyond the outage list and the premises of callers on a call).

`BoardSources` holds this process's live state: the call registry, a bounded window of screen-pop
times, the telemetry the back-office clients and the cache report (`BoardTelemetry`, one more sink
beside the metrics and /readyz), and each backend's guard snapshot. `supervisor_board` reads it
into a `Board` for the schema. Everything but the calls (kept in step across replicas by the call
feed) is this replica's own: the board a supervisor sees is the replica that answered.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.records import Outage
from infra.resilience.guards import GuardState
from infra.telemetry import HIT, MISS, STALE, ignored
from services.authorize import require_unrestricted
from services.calls import CallRegistry, CallState
from services.context import RequestContext
from services.errors import guarded
from services.outage_impact import indexer_of, outages_for_accounts

POP_WINDOW_S = 300.0  # screen-pop percentiles cover the last five minutes
POP_MAX_SAMPLES = 20_000  # a bound on memory under a surge (then the oldest go first)
RATE_WINDOW_S = 10.0  # calls/s each backend's budget let start, averaged over this long
RATE_MAX_SAMPLES = 50_000
MINUTES_SHOWN = 15  # calls per minute, for the chart


class PopLatency:
    """Screen-pop answer times of the last `window_s` seconds, bounded, for p50/p99."""

    def __init__(
        self,
        window_s: float = POP_WINDOW_S,
        max_samples: int = POP_MAX_SAMPLES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_s = window_s
        self._clock = clock
        self._samples: deque[tuple[float, float]] = deque(maxlen=max_samples)  # (at, seconds)

    def record(self, seconds: float) -> None:
        self._samples.append((self._clock(), seconds))

    def summary(self) -> tuple[int, float | None, float | None]:
        """(count, p50 ms, p99 ms) over the window; percentiles None with no sample."""
        cutoff = self._clock() - self.window_s
        while self._samples and self._samples[0][0] < cutoff:
            self._samples.popleft()
        values = sorted(s for _, s in self._samples)
        if not values:
            return 0, None, None
        return len(values), _quantile(values, 0.50) * 1000, _quantile(values, 0.99) * 1000


def _quantile(values: list[float], q: float) -> float:
    """Nearest rank: a value that was observed, never an interpolation between two."""
    rank = max(1, min(len(values), -(-len(values) * q // 1)))
    return values[int(rank) - 1]


class BoardTelemetry:
    """A `BackendTelemetry` sink keeping what the board shows: breaker states, guard decisions
    and cache results. Counters since start; the recent rate from timestamps in a bounded deque."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.breakers: dict[str, str] = {}
        self.last_outcome: dict[str, str] = {}
        self.decisions: Counter[tuple[str, str, str]] = Counter()  # (limiter, backend, decision)
        self._started: dict[str, deque[float]] = {}  # backend -> when its budget let a call start
        self.cache: Counter[tuple[str, str]] = Counter()  # (family, hit | miss | stale)
        self.last_stale: dict[str, float] = {}  # family -> clock() of its last stale serve

    def backend_call(self, backend: str, outcome: str) -> None:
        self.last_outcome[backend] = outcome

    @ignored
    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None:
        pass

    def breaker_state(self, backend: str, old: str | None, new: str) -> None:
        self.breakers[backend] = new.lower()

    def rate_decision(self, limiter: str, backend: str, operation_class: str, decision: str) -> None:
        self.decisions[(limiter, backend, decision)] += 1
        if limiter == "backend_rate" and decision == "admitted":
            self._started.setdefault(backend, deque(maxlen=RATE_MAX_SAMPLES)).append(self._clock())

    def cache_result(self, cache: str, result: str) -> None:
        self.cache[(cache, result)] += 1
        if result == STALE:
            self.last_stale[cache] = self._clock()

    def recent_rps(self, backend: str) -> float:
        started = self._started.get(backend)
        if not started:
            return 0.0
        cutoff = self._clock() - RATE_WINDOW_S
        while started and started[0] < cutoff:
            started.popleft()
        return len(started) / RATE_WINDOW_S

    def seconds_since_stale(self, family: str) -> float | None:
        at = self.last_stale.get(family)
        return None if at is None else self._clock() - at


@dataclass
class BoardSources:
    """What the gateway wires in once per process (`request.state.board`)."""

    calls: CallRegistry
    pops: PopLatency = field(default_factory=PopLatency)
    telemetry: BoardTelemetry = field(default_factory=BoardTelemetry)
    guards: Mapping[str, Callable[[], GuardState]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AgentLine:
    agent_id: str
    state: str  # RINGING | ANSWERED | IDLE
    call_id: str | None
    seconds_in_state: float | None  # since the call opened; None when idle


@dataclass(frozen=True, slots=True)
class BackendLine:
    guards: GuardState
    status: str  # up | degraded | down, judged as /readyz does
    last_outcome: str | None
    recent_rps: float
    shed_by_budget: int
    shed_by_bulkhead: int


@dataclass(frozen=True, slots=True)
class CacheLine:
    family: str
    hits: int
    misses: int
    stale_serves: int
    seconds_since_stale: float | None


@dataclass(frozen=True, slots=True)
class OutageLine:
    outage: Outage
    call_ids: tuple[str, ...]  # calls on now whose bound accounts the outage leaves without water
    ivr_answered: int  # this replica's IVR look-ups it answered "affected", since start


@dataclass(frozen=True, slots=True)
class Board:
    at: datetime
    ringing: int
    answered: int
    agents: list[AgentLine]
    calls_last_minute: int
    calls_per_minute: list[int]  # the last `MINUTES_SHOWN` minutes, oldest first, this one last
    pops_counted: int
    pop_p50_ms: float | None
    pop_p99_ms: float | None
    backends: list[BackendLine]
    caches: list[CacheLine]


def sources_of(ctx: RequestContext) -> BoardSources | None:
    """The app's lifespan puts the board's sources on request.state, beside the backends."""
    found = getattr(getattr(ctx.request, "state", None), "board", None)
    return found if isinstance(found, BoardSources) else None


@guarded
async def supervisor_board(ctx: RequestContext) -> Board:
    """The board now, but for the outages (`board_outages`). The schema's `board:read` check has
    run; the board lists every agent's call, district-wide reading, so it passes the access point
    like any supervisor listing."""
    require_unrestricted(ctx, "board")
    sources = sources_of(ctx) or BoardSources(CallRegistry())
    calls = sources.calls
    active = calls.active()
    now = calls.clock()
    agents = _agents(calls, now)
    count, p50, p99 = sources.pops.summary()
    return Board(
        at=datetime.now(UTC),
        ringing=sum(c.state is CallState.RINGING for c in active),
        answered=sum(c.state is CallState.ANSWERED for c in active),
        agents=agents,
        calls_last_minute=sum(1 for t in calls.started if t >= now - 60),
        calls_per_minute=_per_minute(calls.started, now),
        pops_counted=count,
        pop_p50_ms=p50,
        pop_p99_ms=p99,
        backends=_backends(sources),
        caches=_caches(sources.telemetry),
    )


def _agents(calls: CallRegistry, now: float) -> list[AgentLine]:
    lines = []
    for agent_id in sorted(calls.agents_seen()):
        call = calls.current(agent_id)
        if call is None:
            lines.append(AgentLine(agent_id, "IDLE", None, None))
        else:
            lines.append(AgentLine(agent_id, str(call.state), call.call_id, max(0.0, now - call.started)))
    return lines


def _per_minute(started: Iterable[float], now: float) -> list[int]:
    """Calls opened in each of the last `MINUTES_SHOWN` minutes (whole minutes back from now)."""
    ordered = sorted(started)
    edges = [now - 60 * (MINUTES_SHOWN - i) for i in range(MINUTES_SHOWN + 1)]
    return [
        bisect.bisect_right(ordered, hi) - bisect.bisect_right(ordered, lo)
        for lo, hi in itertools.pairwise(edges)
    ]


def _backends(sources: BoardSources) -> list[BackendLine]:
    telemetry = sources.telemetry
    lines = []
    for name, read in sorted(sources.guards.items()):
        guards = read()
        outcome = telemetry.last_outcome.get(name)
        if guards.breaker == "open":
            status = "down"
        elif guards.breaker == "half_open" or outcome in {
            "BACKEND_TIMEOUT",
            "BACKEND_ERROR",
            "BACKEND_UNAVAILABLE",
        }:
            status = "degraded"
        else:
            status = "up"
        lines.append(
            BackendLine(
                guards=guards,
                status=status,
                last_outcome=outcome,
                recent_rps=telemetry.recent_rps(name),
                shed_by_budget=guards.rate_shed,
                shed_by_bulkhead=guards.bulkhead_shed,
            )
        )
    return lines


def _caches(telemetry: BoardTelemetry) -> list[CacheLine]:
    families = sorted({family for family, _ in telemetry.cache})
    return [
        CacheLine(
            family,
            telemetry.cache[(family, HIT)],
            telemetry.cache[(family, MISS)],
            telemetry.cache[(family, STALE)],
            telemetry.seconds_since_stale(family),
        )
        for family in families
    ]


@guarded
async def board_outages(ctx: RequestContext) -> list[OutageLine]:
    """Active outages, each with the calls on now whose bound accounts it leaves without water (by
    the valve-isolation trace, as the screen pop decides: `services.outage_impact`) and the callers
    the IVR told before they reached an agent. Its own field: GIS down costs the board this list (a
    coded error at its path), not the whole board."""
    require_unrestricted(ctx, "board")
    sources = sources_of(ctx) or BoardSources(CallRegistry())
    outages = ctx.freshness.saw(None, await ctx.loaders.outages.load(True))
    on_call = [(c.call_id, sorted(c.accounts)) for c in sources.calls.active() if c.accounts]
    hits = await asyncio.gather(*(outages_for_accounts(ctx, accounts) for _, accounts in on_call))
    attributed: dict[str, list[str]] = {}
    for (call_id, _), found in zip(on_call, hits, strict=True):
        for hit in found:
            attributed.setdefault(hit.outage.outage_id, []).append(call_id)
    answered = indexer_of(ctx.backends).answered
    return [
        OutageLine(o, tuple(attributed.get(o.outage_id, ())), answered.get(o.outage_id, 0)) for o in outages
    ]
