"""`GuardState`: one backend's guards (breaker, bulkhead, rate budget) as read at one moment.

The supervisor's board shows how close each back office is to its limits; the objects that know
are the guards each `BackendHttp` owns. This is their read-only snapshot, so a reader never holds
(or could drive) the live objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.resilience.breaker import CircuitBreaker
from infra.resilience.bulkhead import Bulkhead
from infra.resilience.rate_budget import RateBudget


@dataclass(frozen=True, slots=True)
class GuardState:
    backend: str
    breaker: str | None  # closed | open | half_open; None: this backend has no breaker
    failure_rate: float | None  # percent of the breaker's window; None below its minimum of calls
    in_flight: int | None  # calls holding a bulkhead slot now; None: no bulkhead
    max_concurrent: int | None
    peak_in_flight: int | None
    bulkhead_shed: int  # calls the bulkhead turned away since start
    max_rps: float | None  # this replica's share of the backend's calls/s budget; None: no budget
    rate_admitted: int  # calls the budget let start since start
    rate_shed: int


def guard_state(
    backend: str, breaker: CircuitBreaker | None, bulkhead: Bulkhead | None, rate: RateBudget | None
) -> GuardState:
    rate_of_failures = breaker.failure_rate if breaker is not None else None
    return GuardState(
        backend=backend,
        breaker=breaker.state.value.lower() if breaker is not None else None,
        failure_rate=None if rate_of_failures is None or rate_of_failures < 0 else rate_of_failures,
        in_flight=bulkhead.in_flight if bulkhead is not None else None,
        max_concurrent=bulkhead.config.max_concurrent if bulkhead is not None else None,
        peak_in_flight=bulkhead.peak if bulkhead is not None else None,
        bulkhead_shed=sum(bulkhead.shed.values()) if bulkhead is not None else 0,
        max_rps=rate.config.max_rps if rate is not None else None,
        rate_admitted=sum(rate.admitted.values()) if rate is not None else 0,
        rate_shed=sum(rate.shed.values()) if rate is not None else 0,
    )
