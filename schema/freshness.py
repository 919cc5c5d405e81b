"""Freshness: how old a cached answer is, so the workbench can say "as of 10:02" instead of "now"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from infra.cache.cache import Cached
from services.freshness import as_of


@strawberry.type(
    description="When the system of record gave this data, and whether it is past its freshness."
)
class Freshness:
    as_of: datetime = strawberry.field(description="When the back office answered (ISO 8601 with offset).")
    age_seconds: float
    stale: bool = strawberry.field(
        description="Served past its freshness (the back office was slow, failing or at capacity)."
    )

    @classmethod
    def of(cls, cached: Cached[Any]) -> Freshness:
        return cls(as_of=as_of(cached), age_seconds=round(cached.age_s, 1), stale=cached.stale)
