"""A backend parse step for tests of the HTTP seam (`infra.http.client.BackendHttp.fetch`)."""

from __future__ import annotations

from infra.errors import BackendServerError, NotFound
from infra.http.exchange import Answer


def billing_status(response: Answer) -> int:
    """A parse step mapping statuses onto the error tree, as every client's does: 404 is `NotFound`,
    5xx a server error, anything else the status itself."""
    if response.status_code == 404:
        raise NotFound("billing", "no such account")
    if response.status_code >= 500:
        raise BackendServerError("billing", f"HTTP {response.status_code}")
    return response.status_code
