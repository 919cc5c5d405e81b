"""What the backend layer tells an observer: calls, HTTP requests, breaker states, budgets, cache.

The backends do not know Prometheus, any more than GraphQL: they report events through this small
protocol, and the gateway hands them an implementation bound to its app's registry
(`gateway.observability.metrics.Metrics`) when it opens the clients. `NO_TELEMETRY` (the default) drops
everything, so narrow tests and tools need no wiring. Every argument is a bounded value (a backend
name, an error code, a state, a class): never a key, a phone number or free text.

    backend_call        one guarded attempt (rate budget, bulkhead, breaker, HTTP) and its outcome:
                        `ok` or the error's code (`BACKEND_TIMEOUT`, `RATE_LIMITED`, ...)
    http_request        one HTTP request actually sent, its status (None: no answer) and error code
    breaker_state       a breaker came into being (`old` None) or changed state
    rate_decision       a backend's calls/s budget (`backend_rate`) or bulkhead admitted or shed a call
    cache_result        a cached read of one key: `hit`, `miss` or `stale`

Implementations must be cheap and must not raise: they run on the request path.
"""

from __future__ import annotations

from typing import Final, Protocol

from infra.errors import BackendError

OK: Final = "ok"
ADMITTED: Final = "admitted"
REJECTED: Final = "rejected"
HIT: Final = "hit"
MISS: Final = "miss"
STALE: Final = "stale"


class BackendTelemetry(Protocol):
    def backend_call(self, backend: str, outcome: str) -> None: ...

    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None: ...

    def breaker_state(self, backend: str, old: str | None, new: str) -> None: ...

    def rate_decision(self, limiter: str, backend: str, operation_class: str, decision: str) -> None: ...

    def cache_result(self, cache: str, result: str) -> None: ...


class NoTelemetry:
    """Drops every event (the default: tests and tools that do not watch)."""

    def backend_call(self, backend: str, outcome: str) -> None:
        pass

    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None:
        pass

    def breaker_state(self, backend: str, old: str | None, new: str) -> None:
        pass

    def rate_decision(self, limiter: str, backend: str, operation_class: str, decision: str) -> None:
        pass

    def cache_result(self, cache: str, result: str) -> None:
        pass


NO_TELEMETRY: Final = NoTelemetry()


def outcome_of(exc: BaseException) -> str:
    """A failed call's outcome label: the backend error's public code, else `INTERNAL_ERROR` (a bug)."""
    return exc.code if isinstance(exc, BackendError) else "INTERNAL_ERROR"


class Fanout:
    """Several observers as one (the metrics and the readiness check both listen)."""

    def __init__(self, *sinks: BackendTelemetry) -> None:
        self.sinks = sinks

    def backend_call(self, backend: str, outcome: str) -> None:
        for sink in self.sinks:
            sink.backend_call(backend, outcome)

    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None:
        for sink in self.sinks:
            sink.http_request(backend, method, status, error_type, duration_s)

    def breaker_state(self, backend: str, old: str | None, new: str) -> None:
        for sink in self.sinks:
            sink.breaker_state(backend, old, new)

    def rate_decision(self, limiter: str, backend: str, operation_class: str, decision: str) -> None:
        for sink in self.sinks:
            sink.rate_decision(limiter, backend, operation_class, decision)

    def cache_result(self, cache: str, result: str) -> None:
        for sink in self.sinks:
            sink.cache_result(cache, result)
