"""The shared simulator runtime, in-process: pool queueing, injected faults, counters."""

from __future__ import annotations

import asyncio
import random

import pytest

from simulators.kit.faults import FaultConfig, Latency, OpFaults
from simulators.kit.runtime import InjectedError, InjectedTimeout, PoolExhausted, SimRuntime, garble


def _runtime(**knobs: object) -> SimRuntime:
    return SimRuntime("test", FaultConfig.model_validate(knobs), {}, Latency(0.0), random.Random(1))


async def test_pool_caps_concurrency_and_refuses_after_the_wait() -> None:
    rt = _runtime(pool_size=3, pool_timeout_ms=50, ops={"op": OpFaults(latency_ms=200)})

    async def one() -> str:
        try:
            async with rt.call("op"):
                return "ok"
        except PoolExhausted:
            return "busy"

    results = await asyncio.gather(*(one() for _ in range(10)))
    assert results.count("ok") == 3 and results.count("busy") == 7
    stats = rt.stats.as_json()
    assert stats["peak_concurrency"] == 3
    assert stats["peak_in_flight"] == 10
    assert stats["errors_by_kind"] == {"pool_exhausted": 7}
    assert stats["in_flight"] == 0


async def test_per_op_overrides_fall_back_to_service_knobs() -> None:
    rt = _runtime(error_rate=0.0, ops={"bad": OpFaults(error_rate=1.0)})
    with pytest.raises(InjectedError):
        async with rt.call("bad"):
            pass
    async with rt.call("good") as call:
        assert call.outcome == "ok"
    assert rt.stats.as_json()["operations"]["bad"]["errors"] == 1


async def test_timeouts_hang_then_raise() -> None:
    rt = _runtime(timeout_rate=1.0, hang_ms=10)
    with pytest.raises(InjectedTimeout):
        async with rt.call("slow"):
            pass
    assert rt.stats.errors_by_kind["timeout"] == 1


async def test_batch_sizes_and_reset() -> None:
    rt = _runtime()
    for n in (50, 50, 7):
        async with rt.call("batch", batch=n):
            pass
    op = rt.stats.as_json()["operations"]["batch"]
    assert op["batch_sizes"] == [50, 50, 7] and op["batch_total"] == 107
    rt.stats.reset()
    assert rt.stats.as_json()["requests"] == 0


async def test_each_recent_calls_service_time_is_listed_in_order() -> None:
    rt = _runtime(ops={"op": OpFaults(latency_ms=40), "other": OpFaults(latency_ms=0)})
    for op in ("op", "other"):
        async with rt.call(op):
            pass
    rt.faults = rt.faults.model_copy(update={"ops": {"op": OpFaults(latency_ms=0)}})
    async with rt.call("op"):
        pass
    ops = rt.stats.as_json()["operations"]
    slow_then_quick, other = ops["op"]["latencies_ms"], ops["other"]["latencies_ms"]
    assert len(slow_then_quick) == 2 and slow_then_quick[0] >= 40 > slow_then_quick[1], slow_then_quick
    assert len(other) == 1 and other[0] < 40, other
    assert slow_then_quick[0] == ops["op"]["latency_ms"]["max"]


async def test_resizing_the_pool_at_run_time_takes_effect() -> None:
    rt = _runtime(pool_size=1, pool_timeout_ms=0, ops={"op": OpFaults(latency_ms=50)})
    rt.faults = rt.faults.model_copy(update={"pool_size": 4})

    async def one() -> None:
        async with rt.call("op"):
            pass

    await asyncio.gather(*(one() for _ in range(4)))
    assert rt.stats.peak_concurrency == 4


def test_latency_scale_and_garble() -> None:
    rt = SimRuntime("t", FaultConfig(latency_scale=0.0), {}, Latency(200.0), random.Random(1))
    assert rt.sample_latency_s("x") == 0.0
    rt.faults = FaultConfig(latency_scale=1.0)
    samples = sorted(rt.sample_latency_s("x") for _ in range(2001))
    assert 0.15 < samples[1000] < 0.25  # lognormal median around 200 ms
    assert samples[-1] > 2 * samples[1000]  # with a long tail
    assert garble(b'{"a": 1}') == b'{"a"'


def test_fault_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        FaultConfig(error_rate=1.5)
    with pytest.raises(ValueError):
        FaultConfig.model_validate({"nope": 1})
