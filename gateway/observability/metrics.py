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
    ring-time pops    tidegate_ring_pop_duration_seconds (`ring_pop`: from the CTI's ring to the pop
                      pushed to the agent, by outcome)
    backends          http_client_request_duration_seconds, tidegate_backend_calls_total,
                      tidegate_circuit_breaker_state, tidegate_circuit_breaker_transitions_total,
                      tidegate_rate_limit_decisions_total, tidegate_cache_requests_total
                      (`infra.telemetry.BackendTelemetry`, implemented here)

Label values are bounded (`gateway.observability.metric_labels`): never a customer id, a phone number or
text a caller typed.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from gateway.observability.logging import RequestRecord
from gateway.observability.metric_labels import (
    ClientNames,
    OperationNames,
    error_code,
    operation_class,
    operation_type,
)
from gateway.observability.series import CounterSeries, GaugeSeries, HistogramSeries

# Seconds; 0.3 is the screen pop's target, so "within target" is one bucket, not an estimate.
BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
BREAKER_STATES: Final = ("closed", "open", "half_open")
LIMITERS: Final = frozenset({"admission", "backend_rate", "bulkhead"})
RING_POP_OUTCOMES: Final = frozenset({"complete", "partial", "failed", "skipped"})


class Metrics:
    """The instruments, and the `BackendTelemetry` the backend clients report through."""

    def __init__(self, operations: OperationNames, clients: ClientNames) -> None:
        self.operations = operations
        self.clients = clients
        self.registry = CollectorRegistry()
        r = self.registry
        # Updated on the request path: plain series (`gateway.observability.series`, why there).
        self.http_server_duration = HistogramSeries(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests, by route template.",
            ["http_request_method", "http_route", "http_response_status_code"],
            r,
            BUCKETS,
        )
        self.http_server_active = GaugeSeries(
            "http_server_active_requests",
            "HTTP server requests in flight.",
            ["http_request_method", "http_route"],
            r,
        )
        self.graphql_duration = HistogramSeries(
            "tidegate_graphql_request_duration_seconds",
            "GraphQL requests over HTTP, refused ones included; _count is the request count.",
            ["graphql_operation_name", "graphql_operation_type", "operation_class", "client_name"],
            r,
            BUCKETS,
        )
        self.graphql_errors = CounterSeries(
            "tidegate_graphql_errors",
            "Errors in GraphQL responses, one per error, by extensions.code.",
            ["graphql_operation_name", "operation_class", "client_name", "error_code"],
            r,
        )
        self.graphql_executions = CounterSeries(
            "tidegate_graphql_executions",
            "Executed GraphQL operations over HTTP by what walked them: compiled (a manifest operation's"
            " plan) or graphql-core (the generic walk).",
            ["graphql_operation_name", "executor"],
            r,
        )
        self.ring_pops = HistogramSeries(
            "tidegate_ring_pop_duration_seconds",
            "Ring-time screen pops, from the CTI's ring to the pop pushed to the agent's screenPop"
            " subscribers, by outcome: complete, partial (some fields missed the prefetch's budget),"
            " failed (the pop raised: subscribers look the caller up) or skipped (no number, or"
            " prefetch off).",
            ["outcome"],
            r,
            BUCKETS,
        )
        self.http_client_duration = HistogramSeries(
            "http_client_request_duration_seconds",
            "Each HTTP request sent to a back office, body read included.",
            ["backend", "http_request_method", "http_response_status_code", "error_type"],
            r,
            BUCKETS,
        )
        self.backend_calls = CounterSeries(
            "tidegate_backend_calls",
            "Guarded backend attempts (rate budget, bulkhead, breaker, HTTP) by outcome.",
            ["backend", "outcome"],
            r,
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
        self.rate_decisions = CounterSeries(
            "tidegate_rate_limit_decisions",
            "Admission (gateway GCRA), per-backend calls/s budget and bulkhead decisions.",
            ["limiter", "backend", "operation_class", "decision"],
            r,
        )
        self.cache_requests = CounterSeries(
            "tidegate_cache_requests",
            "Cached reads per key: hit, miss (fetched) or stale (served past freshness).",
            ["cache", "result"],
            r,
        )

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)

    # -- GraphQL -------------------------------------------------------------------------------

    def observe_graphql(self, record: RequestRecord, *, client_header: str | None, duration_s: float) -> None:
        """One finished GraphQL request: its duration, and one count per error code in its answer."""
        name = self.operations.label(record.operation)
        op_class = operation_class(record.operation_class)
        client = self.clients.label(client_header, record.client_id)
        self.graphql_duration.observe(
            (name, operation_type(record.operation_type), op_class, client), duration_s
        )
        for code in record.codes:
            self.graphql_errors.inc((name, op_class, client, error_code(code)))
        if record.executor is not None:
            self.graphql_executions.inc((name, record.executor))

    def ring_pop(self, outcome: str, duration_s: float) -> None:
        """One ring-time pop pushed: `outcome` is one of `RING_POP_OUTCOMES`."""
        self.ring_pops.observe((outcome if outcome in RING_POP_OUTCOMES else "failed",), duration_s)

    def admission(self, op_class: str | None, *, admitted: bool) -> None:
        self.rate_decision("admission", "", op_class or "", "admitted" if admitted else "rejected")

    # -- BackendTelemetry ----------------------------------------------------------------------

    def backend_call(self, backend: str, outcome: str) -> None:
        self.backend_calls.inc((backend, outcome if outcome == "ok" else error_code(outcome)))

    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None:
        self.http_client_duration.observe(
            (backend, method, "" if status is None else str(status), error_type), duration_s
        )

    def breaker_state(self, backend: str, old: str | None, new: str) -> None:
        current = new.lower()
        for state in {*BREAKER_STATES, current}:
            self.breaker_state_gauge.labels(backend, state).set(1 if state == current else 0)
        if old is not None:
            self.breaker_transitions.labels(backend, old.lower(), current).inc()

    def rate_decision(self, limiter: str, backend: str, operation_class_label: str, decision: str) -> None:
        if limiter not in LIMITERS:
            return
        self.rate_decisions.inc((limiter, backend, operation_class(operation_class_label), decision))

    def cache_result(self, cache: str, result: str) -> None:
        self.cache_requests.inc((cache, result))
