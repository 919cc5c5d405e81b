"""The gateway's errors and the one place that renders every error a client sees.

Every error leaves the BFF as `{"message": ..., "extensions": {"code": ...}}`:

HTTP level (the request never reached GraphQL; a 4xx, never a stack trace)
├── BadRequest              unusable body, wrong shape, wrong method      BAD_REQUEST   400/405
│   ├── PayloadTooLarge         body over `max_body_bytes`                BAD_REQUEST   413
│   ├── UnsupportedMediaType    POST that is not application/json         BAD_REQUEST   415
│   ├── NotAcceptable           Accept names neither response type     NOT_ACCEPTABLE   406
│   ├── a GET with no preflight header (gateway.http.csrf)          CSRF_PREFLIGHT_REQUIRED   400
│   ├── a mutation over GET                          BAD_REQUEST 405, `Allow: POST`
│   ├── the audit queue stayed full: the answer withheld            AUDIT_UNAVAILABLE   503
│   └── PersistedQueryError (gateway.persisted.queries)   PERSISTED_QUERY_*   200/400/403/404
└── (unknown path)                                                        NOT_FOUND     404
GraphQL level (`errors` beside `data`; the status by media type: `gateway.http.graphql_response`)
├── syntax error                                                          GRAPHQL_PARSE_FAILED
├── validation error                                                      GRAPHQL_VALIDATION_FAILED
├── depth / alias / token / root-field limit      QUERY_TOO_DEEP, TOO_MANY_ALIASES, TOO_MANY_TOKENS,
│                                                 TOO_MANY_ROOT_FIELDS
├── fragments, expanded spreads, fields, static cost (gateway.limits.cost_limits)
│                             TOO_MANY_FRAGMENTS, TOO_MANY_SPREADS, TOO_MANY_FIELDS, QUERY_TOO_COSTLY
├── introspection outside dev mode                                        INTROSPECTION_DISABLED
├── bad variables, unknown operation                                      BAD_USER_INPUT
├── resolver error with a code (GraphQLError extensions, backend `.code`) kept as is
└── anything else                 masked as "Internal server error", logged INTERNAL_SERVER_ERROR
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import orjson
from graphql import GraphQLError, GraphQLSyntaxError
from starlette.responses import Response

from services.errors import ErrorCode

logger = logging.getLogger("tidegate.graphql")

INTERNAL_MESSAGE = "Internal server error"
# graphql-core's wording when MaxTokensLimiter stops the parser; it raises a plain syntax error.
_TOO_MANY_TOKENS = re.compile(r"Document contains more than \d+ tokens")


class BadRequest(Exception):
    """The HTTP request cannot be turned into a GraphQL operation. `code` defaults to the status's
    (`http_code`); `headers` go on the response (`Allow`, `Cache-Control`)."""

    status_code = 400

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.code = code or http_code(self.status_code)
        self.headers = dict(headers or {})


class PayloadTooLarge(BadRequest):
    status_code = 413


class UnsupportedMediaType(BadRequest):
    status_code = 415


class NotAcceptable(BadRequest):
    """`Accept` names neither response media type (`gateway.http.media_types`)."""

    status_code = 406


def http_code(status_code: int) -> ErrorCode:
    """The public code for an HTTP status the gateway answers without running GraphQL."""
    if status_code >= 500:
        return ErrorCode.INTERNAL_SERVER_ERROR
    if status_code == 406:
        return ErrorCode.NOT_ACCEPTABLE
    return ErrorCode.NOT_FOUND if status_code == 404 else ErrorCode.BAD_REQUEST


def error_response(
    status_code: int,
    message: str,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    content_type: str = "application/json",
) -> Response:
    """A GraphQL-shaped JSON error body for failures outside GraphQL execution (never `data`: nothing
    ran). The GraphQL endpoint passes the negotiated `content_type` (`gateway.http.media_types`)."""
    body = {"errors": [{"message": message, "extensions": {"code": code or http_code(status_code)}}]}
    response = Response(orjson.dumps(body), status_code, headers)
    response.headers["content-type"] = content_type
    return response


def error_code(error: GraphQLError) -> str | None:
    """The code an error already carries, if any."""
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else None


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """A copy carrying `code`: errors may sit in ValidationCache, so never mutate them."""
    if error_code(error) is not None:
        return error
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": code},
    )


def public_error(error: GraphQLError, operation: str | None) -> dict[str, Any]:
    """The error as the client sees it: always coded; unexpected failures masked and logged."""
    code = error_code(error)
    if code is None and isinstance(error, GraphQLSyntaxError):
        too_many = _TOO_MANY_TOKENS.search(error.message)
        code = ErrorCode.TOO_MANY_TOKENS if too_many else ErrorCode.GRAPHQL_PARSE_FAILED
    if code is None and isinstance(getattr(error.original_error, "code", None), str):
        code = error.original_error.code  # type: ignore[union-attr]  # a backend error a resolver let through
    if code is None:
        logger.error(
            "unexpected error in %s",
            operation or "anonymous operation",
            exc_info=error.original_error or error,
            extra={"operation": operation, "path": error.path},
        )
        masked = {k: v for k, v in error.formatted.items() if k in ("locations", "path")}
        return {"message": INTERNAL_MESSAGE, **masked, "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    formatted: dict[str, Any] = dict(error.formatted)
    formatted["extensions"] = {**(error.extensions or {}), "code": str(code)}
    return formatted
