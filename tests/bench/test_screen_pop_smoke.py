"""One-second smoke run of bench/screen_pop.py so the benchmark never rots (no timing asserted)."""

from __future__ import annotations

import json

import pytest

from bench import screen_pop


@pytest.mark.slow
def test_screen_pop_bench_runs_both_servers_and_prints_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--seconds", "0.5", "--concurrency", "2", "--latency-scale", "0", "--customers", "300"]
    assert screen_pop.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    for leg in ("tidegate", "floor"):
        assert result[leg]["requests"] > 0
        assert result[leg]["failures"] == 0, result  # both answered every screen pop in full
        assert set(result[leg]) >= {"rps", "p50_ms", "p99_ms", "cpu_ms_per_request"}
    assert result["ratio_rps"] > 0 and result["ratio_cpu"] > 0


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
    # every pop of the prefetch leg came from the ring-time prefetch, none of the other leg's did
    assert result["prefetch"]["ring_to_pop"]["prefetched"] == result["prefetch"]["ring_to_pop"]["n"]
    assert result["no_prefetch"]["ring_to_pop"]["prefetched"] == 0
