"""A short smoke run of bench/http_pipeline.py so the benchmark never rots (no timing asserted).

What it does assert: the captured ScreenPop was real (it showed fields in clear, so the replay
audits), and both legs were measured."""

from __future__ import annotations

import json

import pytest

from bench import http_pipeline


def test_http_pipeline_bench_runs_and_prints_its_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--requests", "40", "--rounds", "1", "--customers", "2000", "--rate", "2000"]
    assert http_pipeline.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["unmasked_per_pop"] > 0
    assert result["tidegate"]["cpu_us_per_request"] > 0 and result["floor"]["cpu_us_per_request"] > 0
    assert result["ratio_cpu"] > 0
