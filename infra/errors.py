"""The platform's error tree for calls to other systems: one tree, each node carrying the public
code it surfaces as and, where waiting helps, `retry_after_s`.

The breaker rule lives on the branches: only `BackendUnavailable` counts toward a circuit breaker.
A "no" from the system, or a call we chose not to send, never does.

BackendError                  retry_after_s: None, or seconds until asking again is worth it
├── BackendUnavailable      the system failed us: counts toward its circuit breaker
│   ├── BackendTimeout          no answer in time                  BACKEND_TIMEOUT
│   ├── BackendServerError      5xx, SOAP 9999, esriJSON 500       BACKEND_ERROR
│   ├── BackendProtocolError    malformed XML/JSON, wrong shape    BACKEND_ERROR
│   ├── CallNotPermitted        the breaker is open (resilience.breaker)
│   └── StoreUnavailable        a shared store (Redis) failed      BACKEND_UNAVAILABLE
├── BackendShed             we did not send it: budget or bulkhead full (resilience.bulkhead)
├── OutcomeUnknown          a write may have landed, no lookup  IDEMPOTENCY_OUTCOME_UNKNOWN
└── BackendRejected         the system answered "no": never counts toward a breaker
    ├── NotFound                户号不存在, unknown ticket          NOT_FOUND
    ├── InvalidRequest          the system refused our input       BAD_USER_INPUT
    └── TemporarilyRefused      "not now": e.g. billing's nightly 日结 refuses writes

An adapter subclasses these for its own conditions (`backends.billing.errors.SettlementInProgress`
is a `TemporarilyRefused`); services catch the platform's classes, never an adapter's.
"""

from __future__ import annotations


class BackendError(Exception):
    code = "BACKEND_ERROR"
    retry_after_s: float | None = None  # set where waiting helps (breaker open, budget spent, 日结)

    def __init__(self, backend: str, message: str, *, vendor_code: str | None = None) -> None:
        super().__init__(f"{backend}: {message}")
        self.backend = backend
        self.message = message
        self.vendor_code = vendor_code


class BackendUnavailable(BackendError):
    code = "BACKEND_ERROR"


class BackendTimeout(BackendUnavailable):
    code = "BACKEND_TIMEOUT"


class BackendServerError(BackendUnavailable):
    code = "BACKEND_ERROR"


class BackendProtocolError(BackendUnavailable):
    code = "BACKEND_ERROR"


class BackendRejected(BackendError):
    code = "BACKEND_REJECTED"


class NotFound(BackendRejected):
    code = "NOT_FOUND"


class InvalidRequest(BackendRejected):
    code = "BAD_USER_INPUT"


class TemporarilyRefused(BackendRejected):
    """The system refuses this kind of call for a while (not a failure, not the caller's mistake)."""


class StoreUnavailable(BackendUnavailable):
    """A store Tidegate keeps state in (Redis) did not answer; `store` names which one."""

    code = "BACKEND_UNAVAILABLE"

    def __init__(self, store: str, message: str) -> None:
        super().__init__(store, message)


class OutcomeUnknown(BackendError):
    """A write may have landed and the system offers no lookup to find out (billing's fee requests):
    never retried blindly, never counted as the system failing; a person must check."""

    code = "IDEMPOTENCY_OUTCOME_UNKNOWN"
