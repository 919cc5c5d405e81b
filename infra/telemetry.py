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

from collections.abc import Callable
from typing import Any, Final, Protocol, TypeVar

from infra.errors import BackendError

OK: Final = "ok"
ADMITTED: Final = "admitted"
REJECTED: Final = "rejected"
HIT: Final = "hit"
MISS: Final = "miss"
STALE: Final = "stale"


_Method = TypeVar("_Method", bound=Callable[..., Any])


class BackendTelemetry(Protocol):
    def backend_call(self, backend: str, outcome: str) -> None: ...

    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None: ...

    def breaker_state(self, backend: str, old: str | None, new: str) -> None: ...

    def rate_decision(self, limiter: str, backend: str, operation_class: str, decision: str) -> None: ...

    def cache_result(self, cache: str, result: str) -> None: ...


def ignored(method: _Method) -> _Method:
    """Marks an observer's method that drops its event: `Fanout` then does not call it at all."""
    method.__telemetry_ignored__ = True  # type: ignore[attr-defined]
    return method


class NoTelemetry:
    """Drops every event (the default: tests and tools that do not watch)."""

    @ignored
    def backend_call(self, backend: str, outcome: str) -> None:
        pass

    @ignored
    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None:
        pass

    @ignored
    def breaker_state(self, backend: str, old: str | None, new: str) -> None:
        pass

    @ignored
    def rate_decision(self, limiter: str, backend: str, operation_class: str, decision: str) -> None:
        pass

    @ignored
    def cache_result(self, cache: str, result: str) -> None:
        pass


NO_TELEMETRY: Final = NoTelemetry()


def outcome_of(exc: BaseException) -> str:
    """A failed call's outcome label: the backend error's public code, else `INTERNAL_ERROR` (a bug)."""
    return exc.code if isinstance(exc, BackendError) else "INTERNAL_ERROR"


class Fanout:
    """Several observers as one (the metrics, the readiness check and the supervisor's board listen).

    Nested fan-outs are flattened, and each event goes only to the observers that hear it (a method
    marked `ignored` is left out): the backend layer reports every HTTP request and call, and most
    observers drop most events."""

    sinks: tuple[BackendTelemetry, ...]

    def __init__(self, *sinks: BackendTelemetry) -> None:
        flat: list[BackendTelemetry] = []
        for sink in sinks:
            flat.extend(sink.sinks if isinstance(sink, Fanout) else (sink,))
        self.sinks = tuple(flat)
        self._backend_call = _hearing(self.sinks, "backend_call")
        self._http_request = _hearing(self.sinks, "http_request")
        self._breaker_state = _hearing(self.sinks, "breaker_state")
        self._rate_decision = _hearing(self.sinks, "rate_decision")
        self._cache_result = _hearing(self.sinks, "cache_result")

    def backend_call(self, backend: str, outcome: str) -> None:
        for heard in self._backend_call:
            heard(backend, outcome)

    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None:
        for heard in self._http_request:
            heard(backend, method, status, error_type, duration_s)

    def breaker_state(self, backend: str, old: str | None, new: str) -> None:
        for heard in self._breaker_state:
            heard(backend, old, new)

    def rate_decision(self, limiter: str, backend: str, operation_class: str, decision: str) -> None:
        for heard in self._rate_decision:
            heard(limiter, backend, operation_class, decision)

    def cache_result(self, cache: str, result: str) -> None:
        for heard in self._cache_result:
            heard(cache, result)


def _hearing(sinks: tuple[BackendTelemetry, ...], event: str) -> tuple[Callable[..., None], ...]:
    methods = (getattr(sink, event) for sink in sinks)
    return tuple(method for method in methods if not getattr(method, "__telemetry_ignored__", False))
