"""Structured JSON logs: one line per GraphQL request, and nothing a caller typed.

The request line carries the operation name, type and class, the client (token and header), the
call it serves, its trace id, duration, outcome (`ok` or the error codes) and HTTP status.
Variables, queries and results never reach a log: they hold names, phone numbers and ID numbers
(PII).
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

request_logger = logging.getLogger("tidegate.graphql.request")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured duplicate of `msg`
}


@dataclass
class RequestRecord:
    """What one GraphQL request did, filled in as it runs (view, extension) and logged at the end."""

    operation: str | None = None
    codes: list[str] = field(default_factory=list)
    operation_type: str | None = None  # query | mutation | subscription
    operation_class: str | None = None  # critical | normal | sheddable (gateway.limits.admission)
    client_name: str | None = None  # `apollographql-client-name`, as sent (sanitised, bounded length)
    client_version: str | None = None  # `apollographql-client-version`
    client_id: str | None = None  # the verified token's `client_id` (a client, never a person)
    call_id: str | None = None  # the agent's current call (CTI), which ties the request to a phone call
    trace_id: str | None = None  # W3C trace id (32 hex) of the operation's span, when tracing is on
    executor: str | None = None  # what walked the operation: "compiled" (a plan) or "graphql-core"

    @property
    def outcome(self) -> str:
        return ",".join(dict.fromkeys(self.codes)) if self.codes else "ok"


# Per request (each request runs in its own task), so the schema extension that learns the
# operation name from the parsed document can hand it to the view that writes the line.
current_request: ContextVar[RequestRecord | None] = ContextVar("tidegate_request", default=None)


def log_request(record: RequestRecord, *, status: int, duration_ms: float) -> None:
    if not request_logger.isEnabledFor(logging.INFO):  # what `info` asks first; the fields not built
        return
    request_logger.info(
        "graphql request",
        extra={
            "operation": record.operation,
            "operation_type": record.operation_type,
            "operation_class": record.operation_class,
            "client_name": record.client_name,
            "client_version": record.client_version,
            "client_id": record.client_id,
            "call_id": record.call_id,
            "trace_id": record.trace_id,
            "executor": record.executor,
            "duration_ms": round(duration_ms, 2),
            "outcome": record.outcome,
            "status": status,
        },
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with whatever the caller passed as `extra=`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's) through one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Strawberry logs every GraphQL error with its message, which can echo a caller's variables
    # (PII); the gateway logs the unexpected ones itself, with the operation name.
    logging.getLogger("strawberry.execution").disabled = True
