"""Where a backend lives and how patient we are with it; built from the gateway's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from opentelemetry.trace import Tracer

from infra.resilience.breaker import BreakerConfig
from infra.resilience.bulkhead import BulkheadConfig
from infra.resilience.rate_budget import RateBudgetConfig, SharedRate
from infra.resilience.retry import RetryConfig


@dataclass(frozen=True, slots=True)
class BackendConfig:
    name: str
    base_url: str
    timeout_s: float = 2.0  # whole call: connect, send, wait, read the body
    max_connections: int = 50
    breaker: BreakerConfig | None = None  # None: no circuit breaker (narrow tests)
    bulkhead: BulkheadConfig | None = None  # None: no cap on calls in flight
    rate: RateBudgetConfig | None = None  # None: no calls-per-second budget
    retry: RetryConfig | None = None  # None: every call is tried once
    tracer: Tracer | None = field(default=None, compare=False)  # None: no spans, no traceparent sent
    # The fleet's buckets for `rate` (Redis, with a local fallback); None: this process's own share.
    shared_rate: SharedRate | None = field(default=None, compare=False)
