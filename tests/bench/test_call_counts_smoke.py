"""Smoke run of bench/call_counts.py (counts, never times): both servers profiled between signals."""

from __future__ import annotations

import json

import pytest

from bench import call_counts


@pytest.mark.slow
def test_call_counts_bench_counts_both_legs_past_their_start_up(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--pops", "20", "--warmup", "5", "--concurrency", "2", "--customers", "300"]
    assert call_counts.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    for leg in ("tidegate", "floor"):
        figures = result[leg]
        assert figures["answered"] == 20
        assert figures["backend_calls_per_pop"] >= 4  # CRM, billing, GIS, work orders
        # Start-up is not counted: with its ~2.5 million calls (imports, the world, the schema) 20 pops
        # would read over 100,000 calls each.
        assert 500 < figures["python_calls_per_pop"] < 50_000, figures
        assert figures["builtin_calls_per_pop"] > 0
        assert "backends" in figures["by_package"]  # both legs map the answers with the same adapters
    assert "gateway" in result["tidegate"]["by_package"] and "gateway" not in result["floor"]["by_package"]
    assert result["tidegate"]["backend_calls_per_pop"] == result["floor"]["backend_calls_per_pop"]
    assert 0 < result["ratio_python_calls"] < 1  # the floor does less: no GraphQL, auth, audit, guards
