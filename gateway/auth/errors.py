"""Every error of authentication, and how each reaches the caller.

Request time (the middleware and the token endpoint render them; never a stack trace)
├── InvalidToken          the bearer token is not acceptable      401 invalid_token       UNAUTHENTICATED
├── KeySetUnavailable     the JWKS cannot be fetched, kid unknown  503                    BACKEND_ERROR
└── OAuthError            the token endpoint refuses a request     400/401 per RFC 6749 §5.2
Start-up (the process refuses to start, naming the setting or the file)
└── AuthConfigError       no key source, a broken roles.yaml, an unknown role, a bad key file
"""

from __future__ import annotations

import re

from services.errors import ErrorCode

UNAUTHENTICATED = ErrorCode.UNAUTHENTICATED
FORBIDDEN = ErrorCode.FORBIDDEN

# RFC 6750 §3: error_description holds %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash).
_NOT_ALLOWED_IN_DESCRIPTION = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


class AuthError(Exception):
    """Base of the package's errors."""


class InvalidToken(AuthError):
    """The token failed a check; `description` says which, for the WWW-Authenticate header."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = _NOT_ALLOWED_IN_DESCRIPTION.sub("?", description)


class KeySetUnavailable(AuthError):
    """The token names a key we do not have and the key set cannot be fetched right now.

    Not the caller's fault: a 401 would send every client to fetch a new token it cannot use.
    """


class OAuthError(AuthError):
    """An RFC 6749 §5.2 error response from the token endpoint."""

    def __init__(self, error: str, description: str, status_code: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status_code = status_code


class AuthConfigError(ValueError):
    """Authentication cannot be set up from these settings or files: the BFF must not start."""
