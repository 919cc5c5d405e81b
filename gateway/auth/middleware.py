"""`BearerAuth`: only callers with a verified access token reach the app it wraps (RFC 6750).

It wraps the GraphQL route alone; health checks, the issuer's routes and static files stay open.
The one GET it lets through untouched is a browser asking for the GraphiQL page (`Accept:
text/html`, no `query`, no persisted query id): the page is static and runs nothing; the operations
GraphiQL then sends carry the token pasted in its dev-token field. On success the `Principal` is in
`scope["principal"]` (and `request.state.principal`), which the GraphQL context reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth.errors import FORBIDDEN, UNAUTHENTICATED, InvalidToken, KeySetUnavailable
from gateway.auth.roles import API_SCOPES
from gateway.auth.tokens import TokenVerifier
from gateway.http.errors import error_response
from gateway.http.graphiql import is_page_request
from gateway.http.media_types import answer_media_type
from gateway.http.request_end import finish_request
from gateway.observability.logging import RequestRecord
from services.access import Principal

logger = logging.getLogger("tidegate.auth")

# A refused request: status, message, public code, response headers.
_Refusal = tuple[int, str, str, dict[str, str]]


def is_graphiql_page(scope: Scope) -> bool:
    """The same test the view uses to serve GraphiQL (or its 404) instead of running an operation.
    Only a GET can be one: anything else is answered without parsing its query string or headers."""
    if scope["method"] != "GET":
        return False
    params = QueryParams(scope.get("query_string", b""))
    return is_page_request(scope["method"], params, Headers(scope=scope))


class BearerAuth:
    def __init__(
        self,
        app: ASGIApp,
        verifier: TokenVerifier,
        *,
        any_scope_of: Collection[str] = API_SCOPES,
        exempt: Callable[[Scope], bool] = is_graphiql_page,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.any_scope_of = frozenset(any_scope_of)
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        outcome = await self._authenticate(scope)
        if isinstance(outcome, Principal):
            scope["principal"] = outcome
            scope.setdefault("state", {})["principal"] = outcome
            await self.app(scope, receive, send)
            return
        status, message, code, headers = outcome
        # Refused requests never reach the view, which writes the per-request line: write it here.
        elapsed = time.perf_counter() - started
        finish_request(scope, RequestRecord(codes=[code]), status=status, duration_s=elapsed)
        # In the media type the client accepts, as the view would answer (gateway.http.media_types).
        content_type = answer_media_type(Headers(scope=scope)).content_type
        await error_response(status, message, code, headers, content_type=content_type)(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> Principal | _Refusal:
        credentials = Headers(scope=scope).getlist("authorization")
        if len(credentials) > 1:
            challenge = 'Bearer error="invalid_request"'
            return 400, "Send one Authorization header", "BAD_REQUEST", {"WWW-Authenticate": challenge}
        scheme, _, token = credentials[0].partition(" ") if credentials else ("", "", "")
        if scheme.lower() != "bearer":
            # RFC 6750 §3.1: a request with no credentials gets a bare challenge, no error code.
            message = "Authentication required: send Authorization: Bearer <access token>"
            return 401, message, UNAUTHENTICATED, {"WWW-Authenticate": "Bearer"}
        try:
            principal = await self.verifier.verify(token.strip())
        except InvalidToken as exc:
            logger.info("bearer token refused: %s", exc.description)
            challenge = f'Bearer error="invalid_token", error_description="{exc.description}"'
            message = f"Invalid access token: {exc.description}"
            return 401, message, UNAUTHENTICATED, {"WWW-Authenticate": challenge}
        except KeySetUnavailable as exc:
            logger.warning("cannot verify tokens: %s", exc)
            message = "Cannot verify access tokens right now; try again shortly"
            return 503, message, "BACKEND_ERROR", {"Retry-After": "30"}
        if not principal.scopes & self.any_scope_of:
            needed = " ".join(sorted(self.any_scope_of))
            challenge = f'Bearer error="insufficient_scope", scope="{needed}"'
            message = "The access token grants no scope this API serves"
            return 403, message, FORBIDDEN, {"WWW-Authenticate": challenge}
        return principal
