"""What a GraphQL result looks like on the wire in each response media type: its status and its keys.

The GraphQL-over-HTTP draft separates a *request error* (raised before execution: a document that
does not parse or validate, a limit refusing it, variables that do not coerce, an operation name
that names nothing) from a *field error* (raised while executing, at a path). In
`application/graphql-response+json` a request error is 400 and has no `data` entry (execution never
began, so there is no data, not even null), while an executed operation is 200 whatever its field
errors, `data` kept (null when a non-null field's error reached the root). In `application/json`
every GraphQL result is 200 with `data` (null for a request error), as before: the legacy type's
clients read the body, never the status, and the spec's SHOULD for that type is 200.

Refusals outside GraphQL (`BadRequest` and its family) keep their status in both types, with one
exception: Apollo's APQ answers `PERSISTED_QUERY_NOT_FOUND` / `_NOT_SUPPORTED` with 200, which
`application/graphql-response+json` forbids for a body without `data` (its MUST), so in that type
they are 404 and 400 (as Apollo Router answers them). Apollo's APQ link retries or falls back on the
code, whatever the status.

graphql-core cannot say "no data" apart from "data: null", so the test is the errors' shape: a
result without data whose errors all lack a `path` never reached a resolver.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from gateway.http.media_types import MediaType
from services.errors import ErrorCode


def is_request_error(result: ExecutionResult) -> bool:
    """True when the operation never executed: no data, and no error raised at a path."""
    errors: Sequence[GraphQLError] = result.errors or ()
    return result.data is None and bool(errors) and all(error.path is None for error in errors)


def result_status(result: ExecutionResult, codes: Iterable[str], media_type: MediaType) -> int:
    """The status of a GraphQL result written in `media_type`; `codes` are its errors' public codes
    (`gateway.http.errors.public_error`: an unexpected failure is INTERNAL_SERVER_ERROR by then)."""
    if media_type is MediaType.JSON or not is_request_error(result):
        return 200
    return 500 if ErrorCode.INTERNAL_SERVER_ERROR in set(codes) else 400  # our fault, not the request's


def keeps_data(result: ExecutionResult, media_type: MediaType) -> bool:
    """Whether the body has a `data` entry: always in `application/json` (as before), and in
    `application/graphql-response+json` only when the operation executed."""
    return media_type is MediaType.JSON or not is_request_error(result)


def refusal_status(status: int, code: str, media_type: MediaType) -> int:
    """The status of a refusal outside GraphQL (no `data`) written in `media_type`."""
    if media_type is MediaType.JSON or status >= 400:
        return status
    return 404 if code == ErrorCode.PERSISTED_QUERY_NOT_FOUND else 400
