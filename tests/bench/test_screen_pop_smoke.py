"""One-second smoke run of bench/screen_pop.py so the benchmark never rots (no timing asserted)."""

from __future__ import annotations

import json
import os

import pytest

from bench import screen_pop


@pytest.mark.slow
def test_screen_pop_bench_counts_the_same_work_on_both_legs_and_prints_ratios(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--seconds", "0.5", "--concurrency", "2", "--latency-scale", "0", "--customers", "300"]
    assert screen_pop.main([*argv, "--check", "10"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["cache"] == "off" and result["rounds"] >= 2 and result["pinned"] is None
    for leg in ("tidegate", "floor"):
        assert result[leg]["requests"] > 0
        assert result[leg]["failures"] == 0, result  # both answered every screen pop in full
        assert set(result[leg]) >= {"rps", "p50_ms", "p99_ms", "cpu_ms_per_request"}
        # counted at the simulators: a pop asks CRM, billing, GIS and work orders, at least once each
        assert set(result[leg]["backend_calls_by_system"]) == {"billing", "crm", "gis", "workorders"}
        assert result[leg]["backend_calls_per_pop"] >= 4
    assert result["tidegate"]["backend_calls_per_pop"] == result["floor"]["backend_calls_per_pop"]
    assert result["tidegate"]["backend_calls_by_operation"] == result["floor"]["backend_calls_by_operation"]
    assert result["answers"] == {"compared": 10, "identical": 10, "differ_first": []}, result["answers"]
    assert "ratio_withheld" not in result
    assert result["ratio_rps"] > 0 and result["ratio_cpu"] > 0 and result["ratio_cpu_rounds"]["median"] > 0


@pytest.mark.slow
def test_a_pinned_run_splits_the_cores_and_gives_this_process_its_own_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = os.sched_getaffinity(0)
    if len(before) < 2:
        pytest.skip("pinning needs two cores")
    argv = ["--seconds", "0.5", "--concurrency", "2", "--latency-scale", "0", "--customers", "300"]
    assert screen_pop.main([*argv, "--check", "0", "--pin"]) == 0
    result = json.loads(capsys.readouterr().out)
    legs, rest = set(result["pinned"]["legs"]), set(result["pinned"]["rest"])
    assert legs and rest and not legs & rest and legs | rest == before
    assert os.sched_getaffinity(0) == before
    for leg in ("tidegate", "floor"):
        assert result[leg]["failures"] == 0 and result[leg]["cpu_busy"] > 0
    assert result["ratio_cpu"] > 0


@pytest.mark.slow
def test_screen_pop_bench_withholds_ratios_when_the_cache_saves_tidegate_calls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With Tidegate's cache on, its pops skip calls the floor makes: no ratio, and the reason."""
    argv = ["--seconds", "0.5", "--concurrency", "2", "--latency-scale", "0", "--customers", "300"]
    assert screen_pop.main([*argv, "--cache", "on", "--check", "0"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["cache"].startswith("on")
    assert result["tidegate"]["backend_calls_per_pop"] < result["floor"]["backend_calls_per_pop"]
    assert result["ratio_rps"] is None and result["ratio_cpu"] is None
    assert "backend calls per pop differ" in result["ratio_withheld"]


@pytest.mark.slow
def test_ring_to_pop_bench_runs_both_legs(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "--ring-to-pop",
        "--seconds",
        "1",
        "--concurrency",
        "2",
        "--latency-scale",
        "0",
        "--customers",
        "300",
    ]
    assert screen_pop.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["benchmark"] == "screen_pop_ring_to_pop"
    for leg in ("prefetch", "no_prefetch"):
        assert result[leg]["failures"] == 0, result
        assert result[leg]["ring_to_pop"]["n"] > 0 and result[leg]["answered_query"]["n"] > 0
        assert set(result[leg]["ring_to_pop"]) >= {"p50_ms", "p99_ms"}
    for leg in ("prefetch", "no_prefetch"):  # each leg's back-office calls, counted at the simulators
        assert result[leg]["calls"] > 0 and result[leg]["backend_calls_per_call"] > 0
    # every pop of the prefetch leg came from the ring-time prefetch, none of the other leg's did
    assert result["prefetch"]["ring_to_pop"]["prefetched"] == result["prefetch"]["ring_to_pop"]["n"]
    assert result["no_prefetch"]["ring_to_pop"]["prefetched"] == 0
