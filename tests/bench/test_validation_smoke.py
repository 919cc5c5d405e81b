"""One-second smoke run of bench/validation.py so the benchmark never rots (no timing asserted)."""

from __future__ import annotations

import json

import pytest

from bench import validation


def test_validation_bench_times_the_worst_allowed_document_and_the_screen_pop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert validation.main(["--seconds", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    for name in ("worst_allowed", "screen_pop", "doubling_2_30"):
        assert result[name]["n"] >= 3 and result[name]["p99_us"] >= result[name]["p50_us"] > 0
    assert result["worst_allowed"]["refused"] == result["screen_pop"]["refused"] == []
    assert result["doubling_2_30"]["refused"] == ["QUERY_TOO_COSTLY", "TOO_MANY_FIELDS", "TOO_MANY_SPREADS"]
    worst, limits = result["worst_allowed"]["figures"], result["limits"]
    assert (worst["depth"], worst["aliases"], worst["fields"]) == (
        11,
        limits["max_aliases"],
        limits["max_fields"],
    )
    assert result["loop_max_gap_ms"] > 0 and result["loop_max_gap_idle_ms"] > 0
