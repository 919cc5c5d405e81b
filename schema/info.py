"""The resolver `info` type every field sees: our request context inside."""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from services.context import RequestContext

Info: TypeAlias = strawberry.Info[RequestContext, None]
