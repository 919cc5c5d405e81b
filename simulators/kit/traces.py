"""The W3C trace contexts a simulator received: the tail of them in `/_sim/stats` under `traces`.

A real back office logs the caller's `traceparent` so a support engineer can follow one screen pop
from the BFF into its logs; tests read the same from here to check what was propagated.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

_KEEP = 500
# version "00": 32 hex trace id, 16 hex parent span id, 2 hex flags; all-zero ids are invalid.
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def parse_traceparent(header: str | None) -> tuple[str, str] | None:
    """(trace id, parent span id) of a well-formed `traceparent`, else None."""
    match = _TRACEPARENT.match(header.strip()) if header else None
    if match is None or set(match[1]) == {"0"} or set(match[2]) == {"0"}:
        return None
    return match[1], match[2]


class TraceLog:
    """A `StatsSection`: how many requests carried a valid `traceparent`, and the latest ones."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.received = 0
        self.recent: deque[dict[str, Any]] = deque(maxlen=_KEEP)

    def seen(self, trace_id: str, parent_id: str, op: str | None) -> None:
        self.received += 1
        self.recent.append({"trace_id": trace_id, "parent_id": parent_id, "op": op})

    def as_json(self) -> dict[str, Any]:
        return {"received": self.received, "recent": list(self.recent)}
