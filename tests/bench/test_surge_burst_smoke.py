"""A ~1 s smoke run of the surge benchmark's burst scenario (bench/surge_burst.py), no timing asserted.

Asserted: the shape, and what deflection means: with the IVR in front, the segment's callers are
answered without an agent, and every call the IVR let through reached one."""

from __future__ import annotations

import json

import pytest

from bench import surge

KEYS = {
    "calls",
    "deflected",
    "reached_agents",
    "billing_peak_concurrency",
    "critical_success",
    "screen_pop_p99_ms",
}


def test_the_burst_scenario_runs_with_and_without_deflection(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--scenario", "burst", "--seconds", "1", "--customers", "2000", "--burst-rate", "3"]
    assert surge.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    without, with_ivr = result["no_ivr"], result["ivr"]
    assert set(without) >= KEYS and set(with_ivr) >= KEYS
    assert without["calls"] == with_ivr["calls"] == result["config"]["calls"] > 0
    assert without["deflected"] == 0 and without["reached_agents"] == without["calls"]
    assert with_ivr["deflected"] == with_ivr["deflected_from_segment"] > 0
    assert with_ivr["deflected"] + with_ivr["reached_agents"] == with_ivr["calls"]
