"""`Identifications`: each call's wrong identification answers and verified candidate.

Kept in the cache store (Redis when configured, else in process) under the call's id, so search,
verify and bind may each land on a different replica and still count the same attempts. A read, a
change and a write: two replicas answering the same call's verifications at the same instant could
each count one attempt less; an agent answers one question at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from infra.cache.store import CacheStore, Entry

KEEP_S = 3600.0  # a call's attempts outlive any call


class Identifications:
    """Each call's wrong answers and verified candidate, in the cache store."""

    def __init__(
        self, store: CacheStore, max_attempts: int = 3, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self.max_attempts = max_attempts
        self._clock = clock

    async def state(self, call_id: str) -> dict[str, Any]:
        entry = await self._store.get(_key(call_id))
        payload = entry.payload if entry is not None and isinstance(entry.payload, dict) else {}
        return {
            "attempts": int(payload.get("attempts", 0)),
            "verified": payload.get("verified"),
            "searches": int(payload.get("searches", 0)),
        }

    async def save(self, call_id: str, state: dict[str, Any]) -> None:
        await self._store.set(_key(call_id), Entry(self._clock(), state), KEEP_S)


def _key(call_id: str) -> str:
    return f"identify:{call_id}"
