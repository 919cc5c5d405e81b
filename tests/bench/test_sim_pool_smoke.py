"""One-second smoke run of bench/sim_pool.py so the benchmark never rots (no timing asserted)."""

from __future__ import annotations

import json

import pytest

from bench import sim_pool


def test_sim_pool_bench_runs_and_prints_its_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        sim_pool.main(["--seconds", "0.5", "--levels", "1,25", "--customers", "200", "--pool-size", "5"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["baseline"]["concurrency"] == 1 and result["baseline"]["requests"] > 0
    (leg,) = result["legs"]
    assert leg["concurrency"] == 25
    assert leg["sim_peak_concurrency"] == 5  # the pool caps the work, whatever the load
    assert {"ok_rps", "p50_ms", "p99_ms", "failure_rate", "p50_ratio", "ok_rps_ratio"} <= set(leg)
