"""Which parts of a response were served from cache past their freshness, and how old they were.

Resolvers hand every cached read to `Freshness.saw` with the path of the field (or object) it
fills; stale ones are remembered (the oldest per path) and the gateway lists them in the response's
`extensions.stale`, so the workbench can grey out "as of 10:02" instead of pretending to be live.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from domain.timestamps import SHANGHAI
from infra.cache.cache import Cached

T = TypeVar("T")


class ResponsePath(Protocol):
    """graphql-core's `Path` (`info.path`): converted to a list only when something is stale."""

    def as_list(self) -> list[str | int]: ...


def as_of(cached: Cached[Any]) -> datetime:
    """When the system of record gave this value, in the utility's time zone (with its offset)."""
    return datetime.fromtimestamp(cached.stored_at, UTC).astimezone(SHANGHAI)


class Freshness:
    def __init__(self) -> None:
        self._stale: dict[tuple[str | int, ...], Cached[Any]] = {}

    def saw(self, at: ResponsePath | None, cached: Cached[T]) -> T:
        """The value; a stale one is noted at `at` (None: a value that fills no field by itself)."""
        if cached.stale and at is not None:
            key = tuple(at.as_list())
            seen = self._stale.get(key)
            if seen is None or cached.age_s > seen.age_s:
                self._stale[key] = cached
        return cached.value

    def report(self) -> list[dict[str, Any]]:
        """`[{"path": [...], "ageSeconds": 75.0, "asOf": "2026-11-26T10:02:00+08:00"}]`, by path."""
        return [
            {"path": list(path), "ageSeconds": round(cached.age_s, 1), "asOf": as_of(cached).isoformat()}
            for path, cached in sorted(self._stale.items(), key=lambda item: [str(p) for p in item[0]])
        ]
