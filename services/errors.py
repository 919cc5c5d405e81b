"""Public GraphQL errors: every one carries `extensions.code`.

Backend failures surface at the path that needed them, with the backend's code
(BACKEND_ERROR, BACKEND_TIMEOUT, NOT_FOUND, ...), while the rest of the response arrives.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import ParamSpec, TypeVar

from graphql import GraphQLError

from infra.errors import BackendError

P = ParamSpec("P")
R = TypeVar("R")


class ErrorCode(StrEnum):
    """Every `extensions.code` (and HTTP error body `code`) a client of Tidegate can see: the one
    public vocabulary, whichever layer assigns it (docs/api.md lists them all; a test checks)."""

    # The request itself (gateway): HTTP, GraphQL parsing and validation, limits.
    BAD_REQUEST = "BAD_REQUEST"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"  # Accept names no media type the BFF writes (406)
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    TOO_MANY_ROOT_FIELDS = "TOO_MANY_ROOT_FIELDS"
    TOO_MANY_FRAGMENTS = "TOO_MANY_FRAGMENTS"
    TOO_MANY_SPREADS = "TOO_MANY_SPREADS"
    TOO_MANY_FIELDS = "TOO_MANY_FIELDS"
    TOO_MANY_MUTATIONS = "TOO_MANY_MUTATIONS"  # one mutation field per request (a validation rule)
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"  # `subscriptions_per_connection` reached
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # Apollo's persisted-query codes (docs/federation.md), and our CSRF refusal.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
    PERSISTED_QUERY_ID_REQUIRED = "PERSISTED_QUERY_ID_REQUIRED"
    CANNOT_SEND_PQ_ID_AND_BODY = "CANNOT_SEND_PQ_ID_AND_BODY"
    CSRF_PREFLIGHT_REQUIRED = "CSRF_PREFLIGHT_REQUIRED"
    # Who is asking (gateway auth, services' access point).
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    # CTI call events (`POST /cti/events`): single-use ids, and the call machine's refusals.
    CTI_EVENT_ID_REQUIRED = "CTI_EVENT_ID_REQUIRED"
    CTI_EVENT_REPLAYED = "CTI_EVENT_REPLAYED"
    CTI_CALL_ENDED = "CTI_CALL_ENDED"
    CTI_EVENT_OUT_OF_ORDER = "CTI_EVENT_OUT_OF_ORDER"
    # What was asked, and the back offices behind it (services; `infra.errors` carries these).
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    BACKEND_ERROR = "BACKEND_ERROR"
    BACKEND_TIMEOUT = "BACKEND_TIMEOUT"
    BACKEND_UNAVAILABLE = "BACKEND_UNAVAILABLE"
    BACKEND_REJECTED = "BACKEND_REJECTED"
    RATE_LIMITED = "RATE_LIMITED"
    # The audit trail could not take the request's records in time: the answer is withheld (503).
    AUDIT_UNAVAILABLE = "AUDIT_UNAVAILABLE"
    # Identifying a caller the number did not (services.identify).
    IDENTIFICATION_LOCKED = "IDENTIFICATION_LOCKED"  # too many wrong answers on this call
    IDENTIFICATION_NOT_VERIFIED = "IDENTIFICATION_NOT_VERIFIED"  # bind needs a verified candidate
    # Outages (services.outages): restoring what is not in progress, or was not declared here.
    OUTAGE_NOT_ACTIVE = "OUTAGE_NOT_ACTIVE"  # the notice is scheduled or cancelled: nothing to restore
    OUTAGE_NOT_DECLARED = "OUTAGE_NOT_DECLARED"  # a GIS notice drawn by hand: no master order to complete
    # Idempotent writes.
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"  # the key was first used with another input
    IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"  # the key's first attempt has not settled yet
    # the key's write may have landed and its back office cannot be searched: a person must check
    IDEMPOTENCY_OUTCOME_UNKNOWN = "IDEMPOTENCY_OUTCOME_UNKNOWN"


def public_error(message: str, code: ErrorCode | str, **extra: object) -> GraphQLError:
    return GraphQLError(message, extensions={"code": str(code), **extra})


def from_backend(exc: BackendError) -> GraphQLError:
    """The caller learns which system failed and how, never its internals."""
    message = "not found" if exc.code == "NOT_FOUND" else f"{exc.backend} is unavailable: {exc.message}"
    if exc.code == "BAD_USER_INPUT":
        message = f"{exc.backend} refused the request: {exc.message}"
    if exc.code == "RATE_LIMITED":
        message = f"{exc.backend} is at capacity: {exc.message}"
    retry_after = exc.retry_after_s
    if retry_after is not None:  # the breaker is open: say when it is worth asking again
        return public_error(message, exc.code, backend=exc.backend, retryAfter=max(1, round(retry_after)))
    return public_error(message, exc.code, backend=exc.backend)


def guarded(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn backend exceptions raised while resolving into coded GraphQL errors at that path."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except BackendError as exc:
            # An expected failure, often one exception shared by every field of a batch: drop its
            # frames. Kept, they form reference cycles whose collection stalled the event loop for
            # 100+ ms under a surge (gen-2 GC of ~1,000 frames and tracebacks per partial pop).
            exc.__traceback__ = None
            raise from_backend(exc) from None

    return wrapper


def bounded(name: str, value: int, low: int = 1, high: int = 50) -> int:
    """List arguments are bounded: no query pages through the customer base."""
    if not low <= value <= high:
        raise public_error(f"{name} must be between {low} and {high}, got {value}", ErrorCode.BAD_USER_INPUT)
    return value
