"""A short smoke run of bench/isolation_trace.py so the benchmark never rots (no timing asserted)."""

from __future__ import annotations

import json

import pytest

from bench import isolation_trace


def test_isolation_trace_bench_runs_and_prints_its_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert isolation_trace.main(["--seconds", "0.5", "--customers", "300", "--latency-scale", "0"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["connections"] > 0 and result["valves"] > 0
    assert result["traces"] >= result["mains"] > 0 and result["segments"] > 0
    assert {"build_s", "trace_p50_ms", "trace_p99_ms", "share_enlarged"} <= set(result)
