"""The per-request context: backends for the process, loaders for this request only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backends.registry import Backends


@dataclass
class RequestContext:
    backends: Backends
    request: Any = None


def build_context(backends: Backends, request: Any = None) -> RequestContext:
    """Called inside the request's running event loop, so loaders made here bind to it."""
    return RequestContext(backends=backends, request=request)
