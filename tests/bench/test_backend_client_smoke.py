"""One-second smoke run of bench/backend_client.py so the benchmark never rots (no timing asserted)."""

from __future__ import annotations

import json

import pytest

from bench import backend_client


def test_backend_client_bench_counts_equal_calls_on_every_leg_and_prints_ratios(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert backend_client.main(["--seconds", "1", "--slice-s", "0.1", "--concurrency", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rounds"] >= 2 and "ratio_withheld" not in result
    sent = result["rounds"] * result["calls_per_slice"]
    for leg in backend_client.LEGS:
        assert result[leg]["calls"] == sent  # counted by the server, the same work on every leg
        assert result[leg]["calls_per_s"] > 0 and result[leg]["cpu_us_per_call"]["median"] > 0
    assert all(result[pair] > 0 for pair in backend_client.PAIRS)
