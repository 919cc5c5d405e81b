"""Backend errors: one tree, each carrying the public code it surfaces as.

BackendError
├── BackendUnavailable      the system failed us: counts toward its circuit breaker
│   ├── BackendTimeout          no answer in time                  BACKEND_TIMEOUT
│   ├── BackendServerError      5xx, SOAP 9999, esriJSON 500       BACKEND_ERROR
│   └── BackendProtocolError    malformed XML/JSON, wrong shape    BACKEND_ERROR
└── BackendRejected         the system answered "no": never counts toward a breaker
    ├── NotFound                户号不存在, unknown ticket          NOT_FOUND
    └── InvalidRequest          the system refused our input       BAD_USER_INPUT
"""

from __future__ import annotations


class BackendError(Exception):
    code = "BACKEND_ERROR"

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
