"""A ~1 s smoke run of bench/ivr_lookup.py so the benchmark never rots (no timing asserted).

What it does assert is the point of the look-up: the IVR leg asked no back office, the baseline did."""

from __future__ import annotations

import json

import pytest

from bench import ivr_lookup


def test_ivr_lookup_bench_runs_and_prints_its_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--seconds", "0.5", "--slice-s", "0.25", "--customers", "2000", "--latency-scale", "0"]
    assert ivr_lookup.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"rps", "p99_ms", "ivr", "ivr_executor", "baseline", "in_process"} <= set(result)
    assert result["ivr"]["requests"] > 0 and result["ivr"]["failures"] == 0
    assert result["ivr_executor"]["requests"] > 0 and result["ivr_executor"]["failures"] == 0
    assert sum(result["ivr_executor"]["backend_calls"].values()) == 0
    assert result["baseline"]["requests"] > 0 and result["baseline"]["failures"] == 0
    assert sum(result["ivr"]["backend_calls"].values()) == 0
    assert sum(result["baseline"]["backend_calls"].values()) > 0
    assert result["in_process"]["affected_share"] > 0 and result["in_process"]["index"]["phones"] > 0
