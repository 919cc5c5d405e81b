"""Resilience pieces shared by every backend client; the circuit breaker's API is re-exported here."""

from infra.resilience.breaker import (
    BreakerConfig,
    CallNotPermitted,
    CircuitBreaker,
    SlidingWindowType,
    State,
    StateListener,
    is_backend_unavailable,
)

__all__ = [
    "BreakerConfig",
    "CallNotPermitted",
    "CircuitBreaker",
    "SlidingWindowType",
    "State",
    "StateListener",
    "is_backend_unavailable",
]
