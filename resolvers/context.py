"""The per-request context: backends for the process, loaders for this request only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backends.registry import Backends
from resolvers.loaders import Loaders


@dataclass
class RequestContext:
    backends: Backends
    loaders: Loaders
    request: Any = None
    response: Any = None
    extras: dict[str, Any] = field(default_factory=dict)


def build_context(backends: Backends, request: Any = None, response: Any = None) -> RequestContext:
    """Called inside the request's running event loop, so the loaders made here bind to it."""
    return RequestContext(backends=backends, loaders=Loaders(backends), request=request, response=response)
