"""The cache's first tier: decoded values kept in this process for a few seconds (L1).

The store behind it (Redis, or the in-process `MemoryStore`) holds each entry as JSON, and PII
sealed with AES-GCM, so every hit there costs a round trip, an AES-GCM open and a decode: at zero
backend latency that is about as much CPU as the call it saves. This tier keeps the decoded value a
hit produced, so a screen pop that reads the same account again a moment later costs a dict lookup.

How long: never past the entry's freshness (`CachePolicy.ttl_s` counted from when the system of
record gave the value), and never longer than `ttl_s` here (2 s by default). The second bound is
what another replica's write costs: replica B drops a key in Redis after a write (`Cache.forget`), and
replica A may answer from its own copy for at most that long. Only fresh entries are kept here; stale
ones go to the store every time, where stale-while-revalidate and stale-if-error decide.

Why hand-written: `cachetools.TTLCache` has one TTL per cache and this needs one per entry (the
remaining freshness), and the whole tier is an `OrderedDict` and a clock.

Values are shared by every request that reads them: they must be immutable (the domain records are
frozen dataclasses and tuples).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class LocalTier:
    """At most `max_entries` decoded values, least recently used evicted first, each for at most `ttl_s`."""

    def __init__(
        self, max_entries: int = 10_000, ttl_s: float = 2.0, clock: Callable[[], float] = time.monotonic
    ):
        if max_entries < 1 or not ttl_s > 0:
            raise ValueError(f"max_entries must be >= 1 and ttl_s > 0, not {max_entries} and {ttl_s}")
        self._max = max_entries
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self.hits = 0  # read by tests and the bench: how many store reads (and AES-GCM opens) were saved

    def get(self, key: str) -> Any | None:
        """The kept value, or None when there is none or it has expired (then dropped)."""
        found = self._entries.get(key)
        if found is None:
            return None
        expires_at, value = found
        if self._clock() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: str, value: Any, fresh_for_s: float) -> None:
        """Keep `value` for the shorter of its remaining freshness and this tier's own bound."""
        keep_s = min(fresh_for_s, self._ttl_s)
        if keep_s <= 0:
            self._entries.pop(key, None)
            return
        self._entries[key] = (self._clock() + keep_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def discard(self, key: str) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
