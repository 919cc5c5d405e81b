"""Backend calls as the back offices saw them: the simulators' own counters (`/_sim/stats`).

A comparison between two servers is only fair when they did the same work, and the one witness both
sides share is the simulators: each counts every request it received, per operation. A benchmark
takes a `snapshot` before a leg's slice and after it; the difference is that slice's calls, by
`system.operation`, whatever either server believes it sent (retries, cache hits, batching).

Counts are taken at arrival: once a closed-loop slice has its last answer, every call that answer
needed has arrived. Nothing else may call the simulators meanwhile (a server's background refresh
would be counted against whichever leg runs): the benchmarks turn such work off.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from typing import Any

import httpx


def _counts(name: str, stats: Any) -> Counter[str]:
    return Counter({f"{name}.{op}": int(s["requests"]) for op, s in stats["operations"].items()})


async def snapshot(client: httpx.AsyncClient, urls: Mapping[str, str]) -> Counter[str]:
    """Requests each operation of each simulator has received so far, as `system.operation`: n."""

    async def one(name: str, url: str) -> Counter[str]:
        r = await client.get(f"{url}/_sim/stats")
        r.raise_for_status()
        return _counts(name, r.json())

    total: Counter[str] = Counter()
    for part in await asyncio.gather(*(one(name, url) for name, url in urls.items())):
        total.update(part)
    return total


def snapshot_sync(client: httpx.Client, urls: Mapping[str, str]) -> Counter[str]:
    """`snapshot` for a benchmark that drives a browser from synchronous code."""
    total: Counter[str] = Counter()
    for name, url in urls.items():
        r = client.get(f"{url}/_sim/stats")
        r.raise_for_status()
        total.update(_counts(name, r.json()))
    return total


def delta(after: Counter[str], before: Counter[str]) -> Counter[str]:
    """The calls between two snapshots (an operation seen first in `after` counts from zero)."""
    return Counter({op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)})


def by_system(calls: Mapping[str, int]) -> dict[str, int]:
    """`system.operation` counts folded to one count per system."""
    out: Counter[str] = Counter()
    for op, n in calls.items():
        out[op.split(".", 1)[0]] += n
    return dict(sorted(out.items()))


def per_request(calls: Mapping[str, int], requests: int) -> dict[str, Any]:
    """A leg's calls per request: in all, by system and by `system.operation` (None: no requests)."""
    if not requests:
        return {"per_request": None, "by_system": None, "by_operation": None}
    return {
        "per_request": round(sum(calls.values()) / requests, 3),
        "by_system": {name: round(n / requests, 3) for name, n in by_system(calls).items()},
        "by_operation": {op: round(n / requests, 3) for op, n in sorted(calls.items())},
    }


def different_work(per_leg: Mapping[str, float | None], what: str = "request") -> str | None:
    """Why figures of these legs may not be divided: they made different backend calls per `what`
    (None: the same calls, or too few figures to compare)."""
    known = {leg: v for leg, v in per_leg.items() if v is not None}
    if len(set(known.values())) <= 1:
        return None
    shown = ", ".join(f"{leg} {v}" for leg, v in known.items())
    return f"backend calls per {what} differ ({shown}): the legs did different work, compare them as such"
