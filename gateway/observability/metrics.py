"""`Metrics`: every Prometheus series the BFF exports, on a registry owned by one app.

The names and labels are pinned (the alert rules in deploy/prometheus/alerts.yml are written
against them): OpenTelemetry's semantic conventions in Prometheus form where they exist
(`http_server_request_duration_seconds`, `http_client_request_duration_seconds`), `tidegate_*`
otherwise. Each app owns its `CollectorRegistry`, never the process-wide default: tests build many
apps in one process, and two apps must not add to each other's counters.

    HTTP server       http_server_request_duration_seconds, http_server_active_requests
                      (`gateway.observability.http_metrics.HttpServerMetrics`)
    GraphQL           tidegate_graphql_request_duration_seconds, tidegate_graphql_errors_total
                      (`observe_graphql`, at the end of every request, refusals included)
    backends          http_client_request_duration_seconds, tidegate_backend_calls_total,
                      tidegate_circuit_breaker_state, tidegate_circuit_breaker_transitions_total,
                      tidegate_rate_limit_decisions_total, tidegate_cache_requests_total
                      (`infra.telemetry.BackendTelemetry`, implemented here)

Label values are bounded (`gateway.observability.metric_labels`): never a customer id, a phone number or
text a caller typed.
"""

from __future__ import annotations

from typing import Final, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from gateway.observability.logging import RequestRecord
from gateway.observability.metric_labels import (
    ClientNames,
    OperationNames,
    error_code,
    operation_class,
    operation_type,
)

# Seconds; 0.3 is the screen pop's target, so "within target" is one bucket, not an estimate.
BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
BREAKER_STATES: Final = ("closed", "open", "half_open")
LIMITERS: Final = frozenset({"admission", "backend_rate", "bulkhead"})
# Children remembered per metric (label values are bounded, see the module doc; this caps the memo anyway).
MAX_REMEMBERED_CHILDREN: Final = 4_096

_Metric = TypeVar("_Metric", Counter, Gauge, Histogram)


class Children(Generic[_Metric]):
    """`metric.labels(*values)`, remembered per label values.

    prometheus_client's `labels` validates the values, builds a key and takes the metric's lock on
    every call; a request makes about twenty such lookups (HTTP server, GraphQL, admission, each
    backend call), always for the same few series. The child it returns is the same object every
    time (nothing here removes a series), so it is looked up once and kept in a plain dict: same
    series, same values, a dict lookup instead. The first `limit` distinct label tuples are kept;
    any beyond are looked up the usual way each time, so the memo never grows without bound."""

    def __init__(self, metric: _Metric, limit: int = MAX_REMEMBERED_CHILDREN) -> None:
        self.metric: _Metric = metric
        self.limit = limit
        self._children: dict[tuple[str, ...], _Metric] = {}

    def __call__(self, *values: str) -> _Metric:
        child = self._children.get(values)
        if child is None:
            child = self.metric.labels(*values)
            if len(self._children) < self.limit:
                self._children[values] = child
        return child


class Metrics:
    """The instruments, and the `BackendTelemetry` the backend clients report through."""

    def __init__(self, operations: OperationNames, clients: ClientNames) -> None:
        self.operations = operations
        self.clients = clients
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_server_duration = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests, by route template.",
            ["http_request_method", "http_route", "http_response_status_code"],
            buckets=BUCKETS,
            registry=r,
        )
        self.http_server_active = Gauge(
            "http_server_active_requests",
            "HTTP server requests in flight.",
            ["http_request_method", "http_route"],
            registry=r,
        )
        self.graphql_duration = Histogram(
            "tidegate_graphql_request_duration_seconds",
            "GraphQL requests over HTTP, refused ones included; _count is the request count.",
            ["graphql_operation_name", "graphql_operation_type", "operation_class", "client_name"],
            buckets=BUCKETS,
            registry=r,
        )
        self.graphql_errors = Counter(
            "tidegate_graphql_errors",
            "Errors in GraphQL responses, one per error, by extensions.code.",
            ["graphql_operation_name", "operation_class", "client_name", "error_code"],
            registry=r,
        )
        self.graphql_executions = Counter(
            "tidegate_graphql_executions",
            "Executed GraphQL operations over HTTP by what walked them: compiled (a manifest operation's"
            " plan) or graphql-core (the generic walk).",
            ["graphql_operation_name", "executor"],
            registry=r,
        )
        self.http_client_duration = Histogram(
            "http_client_request_duration_seconds",
            "Each HTTP request sent to a back office, body read included.",
            ["backend", "http_request_method", "http_response_status_code", "error_type"],
            buckets=BUCKETS,
            registry=r,
        )
        self.backend_calls = Counter(
            "tidegate_backend_calls",
            "Guarded backend attempts (rate budget, bulkhead, breaker, HTTP) by outcome.",
            ["backend", "outcome"],
            registry=r,
        )
        self.breaker_state_gauge = Gauge(
            "tidegate_circuit_breaker_state",
            "Circuit breaker state, one-hot: 1 for the current state.",
            ["backend", "state"],
            registry=r,
        )
        self.breaker_transitions = Counter(
            "tidegate_circuit_breaker_transitions",
            "Circuit breaker state transitions.",
            ["backend", "from_state", "to_state"],
            registry=r,
        )
        self.rate_decisions = Counter(
            "tidegate_rate_limit_decisions",
            "Admission (gateway GCRA), per-backend calls/s budget and bulkhead decisions.",
            ["limiter", "backend", "operation_class", "decision"],
            registry=r,
        )
        self.cache_requests = Counter(
            "tidegate_cache_requests",
            "Cached reads per key: hit, miss (fetched) or stale (served past freshness).",
            ["cache", "result"],
            registry=r,
        )
        # The children the request path observes, looked up once per label values (`Children`).
        self.http_server_duration_of = Children(self.http_server_duration)
        self.http_server_active_of = Children(self.http_server_active)
        self._graphql_duration_of = Children(self.graphql_duration)
        self._graphql_errors_of = Children(self.graphql_errors)
        self._graphql_executions_of = Children(self.graphql_executions)
        self._http_client_duration_of = Children(self.http_client_duration)
        self._backend_calls_of = Children(self.backend_calls)
        self._rate_decisions_of = Children(self.rate_decisions)
        self._cache_requests_of = Children(self.cache_requests)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)

    # -- GraphQL -------------------------------------------------------------------------------

    def observe_graphql(self, record: RequestRecord, *, client_header: str | None, duration_s: float) -> None:
        """One finished GraphQL request: its duration, and one count per error code in its answer."""
        name = self.operations.label(record.operation)
        op_class = operation_class(record.operation_class)
        client = self.clients.label(client_header, record.client_id)
        self._graphql_duration_of(name, operation_type(record.operation_type), op_class, client).observe(
            duration_s
        )
        for code in record.codes:
            self._graphql_errors_of(name, op_class, client, error_code(code)).inc()
        if record.executor is not None:
            self._graphql_executions_of(name, record.executor).inc()

    def admission(self, op_class: str | None, *, admitted: bool) -> None:
        self.rate_decision("admission", "", op_class or "", "admitted" if admitted else "rejected")

    # -- BackendTelemetry ----------------------------------------------------------------------

    def backend_call(self, backend: str, outcome: str) -> None:
        self._backend_calls_of(backend, outcome if outcome == "ok" else error_code(outcome)).inc()

    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None:
        self._http_client_duration_of(
            backend, method, "" if status is None else str(status), error_type
        ).observe(duration_s)

    def breaker_state(self, backend: str, old: str | None, new: str) -> None:
        current = new.lower()
        for state in {*BREAKER_STATES, current}:
            self.breaker_state_gauge.labels(backend, state).set(1 if state == current else 0)
        if old is not None:
            self.breaker_transitions.labels(backend, old.lower(), current).inc()

    def rate_decision(self, limiter: str, backend: str, operation_class_label: str, decision: str) -> None:
        if limiter not in LIMITERS:
            return
        self._rate_decisions_of(limiter, backend, operation_class(operation_class_label), decision).inc()

    def cache_result(self, cache: str, result: str) -> None:
        self._cache_requests_of(cache, result).inc()
