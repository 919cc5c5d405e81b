"""A short run of bench/workbench.py (one ring per leg in a real browser) so the benchmark never rots
(no timing asserted: the figures are the benchmark's to print)."""

from __future__ import annotations

import json

import pytest

from bench import workbench


@pytest.mark.slow
def test_workbench_bench_rings_both_legs_in_the_browser(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--rings", "1", "--customers", "300", "--latency-scale", "0"]
    assert workbench.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["benchmark"] == "workbench"
    assert result["prefetch"]["rings"] == result["no_prefetch"]["rings"] == 1
    assert result["prefetch"]["prefetched"] == 1 and result["no_prefetch"]["prefetched"] == 0
    for leg in workbench.LEGS:
        assert result[leg]["detail_p99_ms"] >= result[leg]["pop_p50_ms"] > 0
        calls = result[leg]["backend_calls"]
        assert calls["per_request"] > 0 and calls["by_system"]["crm"] > 0, calls
    assert "note" in result  # null when both legs made the same calls per ring
