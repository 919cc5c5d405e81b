"""The per-request context: backends for the process; loaders, access and audit for this request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.ports import Backends
from services.access import Access
from services.audit import AuditTrail, new_request_id
from services.cached_reads import CachedReads
from services.freshness import Freshness
from services.idempotency import Idempotency
from services.live import Live
from services.loaders import Loaders


def _anonymous() -> Access:
    return Access(principal=None)


@dataclass
class RequestContext:
    backends: Backends
    loaders: Loaders
    request: Any = None
    response: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
    access: Access = field(default_factory=_anonymous)
    audit: AuditTrail = field(default_factory=lambda: AuditTrail(_anonymous(), new_request_id()))
    # Called with (customer_no, field path) each time a masked field is shown in clear; never the value.
    on_unmask: Callable[[str, str], None] | None = None
    # The paths this response fills from cache past their freshness (`extensions.stale`).
    freshness: Freshness = field(default_factory=Freshness)
    # Field paths as the audit spells them, by the path object's id (`schema.paths`, bounded): this
    # context's, a request's or a websocket connection's.
    spelled_paths: dict[int, tuple[object, str]] = field(default_factory=dict)
    # The process's idempotency records for mutations (None: this context cannot write).
    idempotency: Idempotency | None = None
    # The bus, call registry and ring-time pops subscriptions need (None: no live updates here).
    live: Live | None = None
    # Mask numbers in free text before it is written (`TIDEGATE_REDACT_FREE_TEXT_AT_WRITE`).
    redact_free_text_at_write: bool = False


def build_context(
    backends: Backends,
    request: Any = None,
    response: Any = None,
    access: Access | None = None,
    request_id: str | None = None,
    reads: CachedReads | None = None,
    idempotency: Idempotency | None = None,
    live: Live | None = None,
    redact_free_text_at_write: bool | None = None,
) -> RequestContext:
    """Called inside the request's running event loop, so the loaders made here bind to it."""
    who = access or _anonymous()
    state = getattr(request, "state", None)
    if redact_free_text_at_write is None:  # the app's lifespan puts the setting on request.state
        redact_free_text_at_write = bool(getattr(state, "redact_free_text_at_write", False))
    audit = AuditTrail(who, request_id or new_request_id())
    return RequestContext(
        backends=backends,
        loaders=Loaders(backends, reads),
        request=request,
        response=response,
        access=who,
        audit=audit,
        on_unmask=audit.unmasked,
        # The app's lifespan puts the store on request.state, beside the backends.
        idempotency=idempotency or getattr(state, "idempotency", None),
        live=live,
        redact_free_text_at_write=redact_free_text_at_write,
    )
