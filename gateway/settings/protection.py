"""Surge protection: how back-office calls are guarded, what is admitted, and how long work may take."""

from __future__ import annotations

from pydantic import Field

from gateway.settings.component import ComponentSettings
from infra.resilience.gcra import Limit


class ResilienceSettings(ComponentSettings):
    """The master switch and the guards every back-office call shares: bulkhead wait, retries, breakers
    (billing's own budgets: `BillingSettings`)."""

    protection: bool = True
    """Master switch. False is plain pass-through (no admission limits, budgets, bulkheads, breakers,
    retries or cache), kept only as the surge benchmark's baseline."""
    bulkhead_max_wait_ms: int = Field(default=100, ge=0)
    """How long non-critical work waits for a slot or token before it is shed (`RATE_LIMITED`)."""
    retries: bool = True
    """Retries of idempotent reads (full jitter, within a budget) on/off."""
    retry_max_attempts: int = Field(default=2, ge=1, le=3)
    """Attempts per call, the first included."""
    retry_backoff_ms: int = Field(default=25, ge=0, le=1_000)
    """Full jitter: retry n waits a random 0..backoff × 2^(n-1)."""
    retry_budget_ratio: float = Field(default=0.1, ge=0, le=1)
    """Retries allowed per first attempt, per backend, over the window (a quiet backend gets none)."""
    retry_budget_window_s: int = Field(default=10, ge=1, le=600)
    """The retry budget's sliding window."""
    retry_min_time_left_ms: int = Field(default=100, ge=0)
    """No retry with less of the operation's deadline left."""
    breakers: bool = True
    """Circuit breakers, one per backend (resilience4j semantics and names), on/off."""
    breaker_window_s: int = Field(default=10, ge=1, le=3600)
    """Time-based window the failure and slow-call rates are counted over."""
    breaker_minimum_calls: int = Field(default=20, ge=1)
    """Calls the window needs before a breaker may open."""
    breaker_slow_call_rate: float = Field(default=100.0, gt=0, le=100)
    """% of slow calls (≥ 80% of the backend's timeout) that opens a breaker."""
    breaker_wait_s: float = Field(default=30.0, gt=0)
    """Time open before half-open (±10% jitter)."""
    breaker_half_open_calls: int = Field(default=5, ge=1)
    """Probe calls admitted while half-open."""


class AdmissionSettings(ComponentSettings):
    """Admission control: GCRA buckets, global, per client and per operation class."""

    rate_limits: bool = True
    """Admission control (GCRA buckets: global, per client, per operation class) on/off."""
    rate_redis_deadline_ms: int = Field(default=250, ge=1)
    """One shared rate decision at most; past it, the process uses its local share for a second."""
    rate_global_rps: float = Field(default=1_000.0, gt=0)
    """Admission bucket for all requests: rate per second."""
    rate_global_burst: int = Field(default=2_000, ge=1)
    """Admission bucket for all requests: burst."""
    rate_client_rps: float = Field(default=200.0, gt=0)
    """Admission bucket per client (the token's subject): rate per second."""
    rate_client_burst: int = Field(default=400, ge=1)
    """Admission bucket per client: burst."""
    rate_critical_rps: float = Field(default=800.0, gt=0)
    """Admission bucket for critical operations (screen pop, ticket creation): rate per second."""
    rate_critical_burst: int = Field(default=1_600, ge=1)
    """Admission bucket for critical operations: burst."""
    rate_normal_rps: float = Field(default=300.0, gt=0)
    """Admission bucket for normal operations: rate per second."""
    rate_normal_burst: int = Field(default=600, ge=1)
    """Admission bucket for normal operations: burst."""
    rate_sheddable_rps: float = Field(default=100.0, gt=0)
    """Admission bucket for sheddable operations (bills, payments, history): rate per second."""
    rate_sheddable_burst: int = Field(default=200, ge=1)
    """Admission bucket for sheddable operations: burst."""

    def rate_limit_map(self) -> dict[str, Limit]:
        """The buckets' limits by name: `global`, `client`, and one per operation class."""
        return {
            name: Limit(getattr(self, f"rate_{name}_rps"), getattr(self, f"rate_{name}_burst"))
            for name in ("global", "client", "critical", "normal", "sheddable")
        }


class DeadlineSettings(ComponentSettings):
    """Each operation class's time budget, from arrival."""

    budget_critical_ms: int = Field(default=300, ge=10)
    """Time budget of a critical operation, from arrival (the screen pop's target)."""
    budget_normal_ms: int = Field(default=2_000, ge=10)
    """Time budget of a normal operation."""
    budget_sheddable_ms: int = Field(default=3_000, ge=10)
    """Time budget of a sheddable operation."""
    budget_reserve_ms: int = Field(default=40, ge=0)
    """Kept back from the backends to assemble and send the answer (measured: p99 ~18 ms past the
    backend deadline under the surge, ~13 ms outside execution)."""
