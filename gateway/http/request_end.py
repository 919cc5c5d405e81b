"""`finish_request`: the end of one GraphQL request over HTTP, whoever answered it.

The view answers most requests, the bearer-token middleware refuses some before the view sees
them; both finish here, so every request gets exactly one log line and one observation in the
metrics, with the same fields: the trace id of the span around it (when tracing is on), the
token's client, and the app's `Metrics` from the request's state (absent when metrics are off).
"""

from __future__ import annotations

from opentelemetry import trace
from starlette.datastructures import Headers
from starlette.types import Scope

from gateway.http.client_identity import client_identity
from gateway.observability.logging import RequestRecord, log_request
from gateway.observability.metrics import Metrics
from services.board import BoardSources

SCREEN_POP = "ScreenPop"


def finish_request(scope: Scope, record: RequestRecord, *, status: int, duration_s: float) -> None:
    if record.trace_id is None:
        record.trace_id = current_trace_id()
    principal = scope.get("principal")
    if record.client_id is None and principal is not None:
        record.client_id = principal.client_id
    if record.client_name is None and record.client_version is None:  # refused before the view read them
        record.client_name, record.client_version = client_identity(Headers(scope=scope))
    log_request(record, status=status, duration_ms=duration_s * 1000)
    metrics = metrics_of(scope)
    if metrics is not None:
        metrics.observe_graphql(record, client_header=record.client_name, duration_s=duration_s)
    board = scope.get("state", {}).get("board")
    if isinstance(board, BoardSources) and record.operation == SCREEN_POP and status == 200:
        board.pops.record(duration_s)  # the board's p50/p99: pops as agents were served them


def metrics_of(scope: Scope) -> Metrics | None:
    """The app's metrics, handed to every request in its state by the lifespan."""
    found = scope.get("state", {}).get("metrics")
    return found if isinstance(found, Metrics) else None


def current_trace_id() -> str | None:
    """The W3C trace id (32 hex digits) of the current span, or None without a valid one."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
