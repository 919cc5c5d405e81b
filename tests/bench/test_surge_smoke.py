"""One-second smoke run of bench/surge.py, as a real subprocess, so the benchmark never rots.

Only the JSON's shape and sane values are asserted, never the thresholds: this machine's timing
is not a measurement.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODE_KEYS = {
    "billing_capacity",
    "billing_peak_concurrency",
    "billing_peak_rps",
    "success_rate",
    "partial_share",
    "complete_share",
    "requests",
    "p50_ms",
    "p99_ms",
    "p99_ms_by_operation",
    "stale_share",
    "errors_by_code",
    "phases",
}


def _rate(value: Any) -> bool:
    return isinstance(value, float | int) and 0.0 <= value <= 1.0


@pytest.mark.slow
def test_surge_bench_runs_both_modes_and_prints_its_tables() -> None:
    """Screen pops played as rung calls (`--ring-s`): every one a signed CTI call answered by an agent
    of its own, whose persisted `ScreenPop` is read under that agent's access; the other kinds are
    sent as queries, the path screen pops take without `--ring-s`."""
    argv = ["--seconds", "1", "--customers", "300", "--rates", "ticket=1"]  # tickets likely even in 1 s
    argv += ["--ring-s", "0.5"]
    run = subprocess.run(
        [sys.executable, "-m", "bench.surge", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert set(result) >= {"config", "protected", "unprotected", "checks"}
    assert set(result["checks"]) >= {
        "billing_within_capacity",
        "critical_success_ok",
        "screen_pop_p99_ok",
        "screen_pop_partial_ok",
    }
    assert result["config"]["ring_s"] == 0.5
    assert all(isinstance(v, bool) for v in result["checks"].values())
    tickets = result["config"]["tickets"] == "included"
    for mode in ("protected", "unprotected"):
        block = result[mode]
        assert set(block) >= MODE_KEYS, mode
        assert block["billing_capacity"] == 20  # the simulator's default pool, read from the simulator
        assert block["billing_peak_concurrency"] >= 1 and block["billing_peak_rps"] >= 1
        assert block["requests"]["critical"] > 0 and block["requests"]["sheddable"] > 0
        for metric in ("success_rate", "partial_share", "complete_share"):
            assert all(_rate(v) for v in block[metric].values()), (mode, metric, block[metric])
        for cls, p50 in block["p50_ms"].items():
            assert 0 < p50 <= block["p99_ms"][cls]
        assert block["p99_ms_by_operation"]["ScreenPop"] > 0
        assert ("CreateTicket" in block["requests_by_operation"]) is tickets
        assert _rate(block["stale_share"])
        assert all(isinstance(n, int) and n > 0 for n in block["errors_by_code"].values())
        assert set(block["phases"]) == {"normal", "surge", "recovery"}
        assert block["billing_calls_per_request"]["screen_pop"].get("GetAccounts") == 1
        alone = block["backend_calls_per_request_alone"]["screen_pop"]
        assert alone["billing.GetAccounts"] == 1 and alone["crm.searchContacts"] == 1, alone
        per_request = block["backend_calls_per_request"]
        assert set(per_request) == {"all", "normal", "surge", "recovery"}
        assert set(per_request["all"]) == {"billing", "crm", "gis", "workorders"}
        for phase in block["phases"].values():
            for op, why in phase["partials"].items():  # every partial request has a cause
                assert 0 < why["partial"] <= why["requests"], (op, why)
                assert max(why["by_backend"].values()) <= why["partial"] <= sum(why["by_backend"].values())
        pops = block["requests_by_operation"]["ScreenPop"]
        assert block["loadgen"]["calls_rung"] == pops and block["loadgen"]["hang_up_failures"] == 0
        refused = {"CTI_FAILED", "FORBIDDEN", "UNAUTHENTICATED", "PERSISTED_QUERY_ID_REQUIRED"}
        assert not refused & set(block["errors_by_code"]), (mode, block["errors_by_code"])
    assert result["protected"]["success_rate_by_operation"]["ScreenPop"] == 1.0
    late = result["protected"]["billing_alone_late"]  # billing's own service times against the pop's cut
    assert late["pop_cut_ms"] == 260 and late["budget_ms"] == round(260 - late["crm_search_p50_ms"], 1)
    assert late["calls"] >= 1 and _rate(late["over_budget_share"]), late
    rung = result["protected"]["ring_time_pops"]  # the BFF's own ring-to-push histogram
    assert 1 <= rung["pushed"] <= result["protected"]["loadgen"]["calls_rung"], rung
    assert sum(rung["by_outcome"].values()) == rung["pushed"] and _rate(rung["within_300ms_share"]), rung
