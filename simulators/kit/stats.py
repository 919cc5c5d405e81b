"""Counters that tests and benchmarks read from `/_sim/stats`."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Protocol

_KEEP_BATCHES = 1_000
_KEEP_RECENT = 500
_KEEP_SECONDS = 3_600  # per-second counts: an hour of history, enough for any benchmark


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    idx = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return round(sorted_values[idx], 2)


@dataclass
class OpStats:
    requests: int = 0
    errors: int = 0
    in_progress: int = 0
    peak_concurrency: int = 0
    batch_sizes: deque[int] = field(default_factory=lambda: deque(maxlen=_KEEP_BATCHES))
    batch_total: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_KEEP_BATCHES))

    def as_json(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "peak_concurrency": self.peak_concurrency,
            "batch_sizes": list(self.batch_sizes),
            "batch_total": self.batch_total,
            # Each recent call's service time, in order: a bench can ask what share took longer than
            # a budget of its own (`bench/surge_tally.py`), which no fixed percentile answers.
            "latencies_ms": [round(ms, 2) for ms in self.latencies_ms],
            "latency_ms": {
                "p50": _percentile(lat, 0.5),
                "p99": _percentile(lat, 0.99),
                "max": round(lat[-1], 2) if lat else 0.0,
            },
        }


class StatsSection(Protocol):
    """Counters a product adds to its `/_sim/stats` under its own name (e.g. webhook deliveries)."""

    def as_json(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...


class Stats:
    """Per-operation counts, batch sizes, concurrency, arrival rates and a tail of recent calls.

    The 500 recent calls cannot say how hard a surge hit, so arrivals are also counted per
    wall-clock second (`per_second`) and over a sliding one-second window (`peak_rps`).
    """

    def __init__(self, service: str) -> None:
        self.service = service
        self.in_flight = 0
        self.in_pool = 0
        self.ops: dict[str, OpStats] = {}
        self.sections: dict[str, StatsSection] = {}
        self.reset()

    def reset(self) -> None:
        """Clear the counters; calls still in flight stay counted as such, so the gauges never go negative."""
        self.since = time.time()
        self.ops = {
            name: OpStats(in_progress=s.in_progress, peak_concurrency=s.in_progress)
            for name, s in self.ops.items()
            if s.in_progress
        }
        self.errors_by_kind: Counter[str] = Counter()
        self.peak_in_flight = self.in_flight
        self.peak_concurrency = self.in_pool
        self.recent: deque[dict[str, Any]] = deque(maxlen=_KEEP_RECENT)
        self.peak_rps = 0
        self._last_second: deque[float] = deque()
        self.per_second: dict[int, list[int]] = {}  # wall-clock second -> [calls started, of them failed]
        for section in self.sections.values():
            section.reset()

    def op(self, name: str) -> OpStats:
        return self.ops.setdefault(name, OpStats())

    def arrived(self, op: str, batch: int) -> None:
        s = self.op(op)
        s.requests += 1
        s.batch_sizes.append(batch)
        s.batch_total += batch
        s.in_progress += 1
        s.peak_concurrency = max(s.peak_concurrency, s.in_progress)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        self._count_arrival(time.time())

    def _count_arrival(self, now: float) -> None:
        window = self._last_second
        window.append(now)
        while window[0] <= now - 1.0:
            window.popleft()
        self.peak_rps = max(self.peak_rps, len(window))
        second = int(now)
        bucket = self.per_second.get(second)
        if bucket is None:
            bucket = self.per_second[second] = [0, 0]
            if len(self.per_second) > _KEEP_SECONDS:
                del self.per_second[next(iter(self.per_second))]
        bucket[0] += 1

    def entered_pool(self) -> None:
        self.in_pool += 1
        self.peak_concurrency = max(self.peak_concurrency, self.in_pool)

    def left_pool(self) -> None:
        self.in_pool -= 1

    def finished(self, op: str, batch: int, started_wall: float, elapsed_ms: float, outcome: str) -> None:
        s = self.op(op)
        s.in_progress -= 1
        s.latencies_ms.append(elapsed_ms)
        self.in_flight -= 1
        if outcome != "ok":
            s.errors += 1
            self.errors_by_kind[outcome] += 1
            bucket = self.per_second.get(int(started_wall))
            if bucket is not None:
                bucket[1] += 1
        self.recent.append(
            {
                "op": op,
                "batch": batch,
                "outcome": outcome,
                "start": round(started_wall, 6),
                "end": round(started_wall + elapsed_ms / 1000, 6),
            }
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "since": self.since,
            "requests": sum(s.requests for s in self.ops.values()),
            "errors": sum(s.errors for s in self.ops.values()),
            "errors_by_kind": dict(self.errors_by_kind),
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "peak_concurrency": self.peak_concurrency,
            "peak_rps": self.peak_rps,
            "per_second": [
                {"t": second, "calls": calls, "errors": errors}
                for second, (calls, errors) in sorted(self.per_second.items())
            ],
            "operations": {name: s.as_json() for name, s in sorted(self.ops.items())},
            "recent": list(self.recent),
            **{name: section.as_json() for name, section in self.sections.items()},
        }
