"""Simulator counters: the arrival-rate figures a surge benchmark reads, and a reset mid-flight."""

from __future__ import annotations

import asyncio
import random

import pytest

from simulators.kit.faults import FaultConfig, Latency, OpFaults
from simulators.kit.runtime import SimRuntime
from simulators.kit.stats import Stats


def _clock(monkeypatch: pytest.MonkeyPatch, now: list[float]) -> None:
    monkeypatch.setattr("simulators.kit.stats.time.time", lambda: now[0])


def test_peak_rps_is_the_busiest_sliding_second(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000.0]
    _clock(monkeypatch, now)
    stats = Stats("t")
    # 3 calls late in second 1000 and 4 early in 1001: no calendar second holds 7, the sliding window does.
    for at in (1_000.6, 1_000.7, 1_000.8, 1_001.1, 1_001.2, 1_001.3, 1_001.5, 1_002.9):
        now[0] = at
        stats.arrived("op", 1)
    body = stats.as_json()
    assert body["peak_rps"] == 7
    assert [(s["t"], s["calls"]) for s in body["per_second"]] == [(1_000, 3), (1_001, 4), (1_002, 1)]


def test_failures_count_against_the_second_their_call_started(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [2_000.2]
    _clock(monkeypatch, now)
    stats = Stats("t")
    stats.arrived("op", 1)
    stats.arrived("op", 1)
    now[0] = 2_003.0
    stats.finished("op", 1, 2_000.2, 2_800.0, "pool_exhausted")
    stats.finished("op", 1, 2_000.2, 100.0, "ok")
    assert stats.as_json()["per_second"] == [{"t": 2_000, "calls": 2, "errors": 1}]


async def test_reset_mid_flight_keeps_the_gauges_true() -> None:
    rt = SimRuntime("t", FaultConfig(ops={"op": OpFaults(latency_ms=50)}), {}, Latency(0.0), random.Random(1))

    async def one() -> None:
        async with rt.call("op"):
            pass

    calls = [asyncio.create_task(one()) for _ in range(3)]
    await asyncio.sleep(0.01)
    rt.stats.reset()
    body = rt.stats.as_json()
    assert body["in_flight"] == 3 and body["peak_in_flight"] == 3 and body["requests"] == 0
    assert body["peak_rps"] == 0 and body["per_second"] == []
    await asyncio.gather(*calls)
    body = rt.stats.as_json()
    assert body["in_flight"] == 0 and body["operations"]["op"]["peak_concurrency"] == 3
