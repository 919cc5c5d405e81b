"""Reading a BFF's audit trail in tests: records land a moment after the answer, so wait for them.

The BFF queues a request's audit records and its one background writer appends them
(`gateway.observability.audit_writer`): the answer can reach the test before its line reaches the
file. A test names the records it expects and waits for them, up to a generous timeout (a safety
net on a loaded machine, not a latency assertion); if they never come, it gets what is there, and
its own assertion fails with it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Record = dict[str, Any]


def read_audit(path: Path) -> list[Record]:
    """Every record in the file now (none if it does not exist yet)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_for_audit(
    path: Path, match: Callable[[Record], bool], *, at_least: int = 1, timeout_s: float = 10.0
) -> list[Record]:
    """The records `match` picks, once there are `at_least` of them (or whatever there is at timeout)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = [r for r in read_audit(path) if match(r)]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.02)
