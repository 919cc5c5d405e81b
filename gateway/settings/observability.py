"""What the BFF tells its operators: metrics and health, traces, and the audit trail."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from gateway.settings import formats
from gateway.settings.component import ComponentSettings


class ObservabilitySettings(ComponentSettings):
    """Prometheus metrics and `/readyz`, OpenTelemetry tracing (off by default), the audit trail."""

    metrics: bool = True
    """Serve Prometheus metrics on `GET /metrics`, on the API's own port; false removes the route."""
    metrics_max_operation_names: int = Field(default=50, ge=0, le=1_000)
    """Operation names outside the manifest kept as metric labels; the rest are `other`."""
    metrics_token: str | None = Field(default=None, repr=False)
    """When set, `/metrics` needs `Authorization: Bearer <this>` (else keep it off the public ingress)."""
    readyz_redis_timeout_ms: int = Field(default=250, ge=1)
    """`/readyz` pings Redis within this; slower reads as down (degraded)."""
    tracing_exporter: Literal["none", "console", "otlp"] = "none"
    """`none` builds no tracer provider (no span, no `traceparent` sent); `console` prints one JSON span
    per line on stdout; `otlp` posts to `otlp_endpoint`, batched off the event loop."""
    otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    """OTLP/HTTP (protobuf) collector."""
    tracing_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    """Share of new traces sampled; a caller's sampling decision is kept as sent."""
    audit_path: str = "var/audit.jsonl"
    """Append-only JSON lines of the audit trail (also the fallback when Redis fails)."""
    audit_redis_url: str | None = None
    """When set (`redis://`, `rediss://` or `unix://`), the audit trail goes to a Redis stream there."""
    audit_stream: str = "tidegate:audit"
    """The audit trail's Redis stream."""
    audit_linger_ms: int = Field(default=20, ge=0, le=1_000)
    """The audit writer waits this long after a record for others to join its batch (one write, one
    thread hop, per batch); 0: each record is written as soon as it is queued."""

    @field_validator("otlp_endpoint")
    @classmethod
    def _otlp_endpoint(cls, value: str) -> str:
        return formats.http_url(value)

    @field_validator("audit_redis_url")
    @classmethod
    def _audit_redis_url(cls, value: str | None) -> str | None:
        return formats.redis_url(value)
