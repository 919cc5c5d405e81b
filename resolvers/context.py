"""The per-request context: backends for the process; loaders, access and audit for this request."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backends.registry import Backends
from resolvers.access import Access
from resolvers.audit import AuditTrail
from resolvers.loaders import Loaders


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
    audit: AuditTrail = field(default_factory=lambda: AuditTrail(_anonymous(), uuid.uuid4().hex))
    # Called with (customer_no, field path) each time a masked field is shown in clear; never the value.
    on_unmask: Callable[[str, str], None] | None = None


def build_context(
    backends: Backends,
    request: Any = None,
    response: Any = None,
    access: Access | None = None,
    request_id: str | None = None,
) -> RequestContext:
    """Called inside the request's running event loop, so the loaders made here bind to it."""
    who = access or _anonymous()
    audit = AuditTrail(who, request_id or uuid.uuid4().hex)
    return RequestContext(
        backends=backends,
        loaders=Loaders(backends),
        request=request,
        response=response,
        access=who,
        audit=audit,
        on_unmask=audit.unmasked,
    )
