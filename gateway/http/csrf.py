"""Apollo's CSRF prevention: an operation a browser could send cross-site without a preflight runs
only if the request proves it is not such a "simple" request.

A browser sends a GET, or a POST whose content type is `text/plain`, `multipart/form-data` or
`application/x-www-form-urlencoded`, to any origin without asking first (no CORS preflight), with
the user's cookies. Such a request runs here only if it carries a content type outside those three
or one of the headers `apollo-require-preflight` / `x-apollo-operation-name` (any non-empty value),
which a cross-site page cannot set without a preflight. A POST reaches GraphQL only as
`application/json` (415 otherwise, `GraphQLView.parse_http_body`), which is never simple, so in
practice this is the GET rule; it is written for both. Refused: 400 `CSRF_PREFLIGHT_REQUIRED`.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.http.errors import BadRequest
from services.errors import ErrorCode

SIMPLE_CONTENT_TYPES = frozenset({"text/plain", "multipart/form-data", "application/x-www-form-urlencoded"})
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")


def preflighted(method: str, headers: Mapping[str, str]) -> bool:
    """True unless this is a request a browser could send cross-site without a preflight."""
    if method not in ("GET", "POST"):
        return True
    content_type = headers.get("content-type")
    if content_type is not None and content_type.split(";")[0].strip().lower() not in SIMPLE_CONTENT_TYPES:
        return True
    return any(headers.get(name) for name in PREFLIGHT_HEADERS)


def require_preflight(method: str, headers: Mapping[str, str]) -> None:
    if not preflighted(method, headers):
        raise BadRequest(
            "This operation has been blocked as a potential cross-site request forgery: send a "
            "`Content-Type` other than text/plain, multipart/form-data or "
            "application/x-www-form-urlencoded, or an `apollo-require-preflight` (or "
            "`x-apollo-operation-name`) header",
            code=ErrorCode.CSRF_PREFLIGHT_REQUIRED,
        )
