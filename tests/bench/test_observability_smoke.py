"""A short run of bench/observability.py so the benchmark never rots (no timing asserted)."""

from __future__ import annotations

import json

import pytest

from bench import observability
from gateway.persisted.manifest import document_id


@pytest.mark.slow
def test_observability_bench_runs_every_leg_in_full_and_prints_ratios(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--rounds", "2", "--requests", "10", "--concurrency", "2", "--customers", "300"]
    assert observability.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["benchmark"] == "observability" and result["cache"] == "off"
    for leg in observability.LEGS:
        assert result[leg]["requests"] == 20
        assert result[leg]["failures"] == 0, result  # every leg answered every screen pop in full
        assert len(result[leg]["cpu_ms_per_round"]) == 2
        assert result[leg]["cpu_ms_per_request"] > 0
        assert result[leg]["p99_ms"] >= result[leg]["p50_ms"] > 0
        # counted at the simulators, cache off: every leg asked all four systems for the same pops
        assert set(result[leg]["backend_calls_by_system"]) == {"billing", "crm", "gis", "workorders"}
        assert result[leg]["backend_calls_per_pop"] == result["bare"]["backend_calls_per_pop"] >= 4
    comparisons = [*result["vs_bare"].values(), result["traced_vs_metrics"], result["persisted_vs_metrics"]]
    assert set(result["vs_bare"]) == {"metrics", "traced", "persisted"}
    for ratios in comparisons:
        assert ratios["cpu"] > 0 and ratios["p50"] > 0 and ratios["p99"] > 0


@pytest.mark.slow
def test_persisted_leg_sends_documentid_too(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--rounds", "1", "--requests", "5", "--concurrency", "1", "--customers", "300"]
    assert observability.main([*argv, "--persisted-form", "document-id"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["persisted_form"] == "document-id"
    assert result["persisted"]["failures"] == 0, result


def test_persisted_leg_names_the_manifest_screen_pop_and_the_others_send_text_it_must_parse() -> None:
    pop_id = observability.screen_pop_id()
    assert pop_id != document_id(observability.SCREEN_POP)  # free-form legs really parse
    [apq] = observability.pop_bodies(["13800138000"], "persisted", "apq", pop_id)
    [doc_id] = observability.pop_bodies(["13800138000"], "persisted", "document-id", pop_id)
    [free_form] = observability.pop_bodies(["13800138000"], "traced", "apq", pop_id)
    assert json.loads(apq) == {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": pop_id}},
        "variables": {"phone": "13800138000"},
    }
    assert json.loads(doc_id) == {"documentId": f"sha256:{pop_id}", "variables": {"phone": "13800138000"}}
    assert json.loads(free_form) == {"query": observability.SCREEN_POP, "variables": {"phone": "13800138000"}}


def test_each_round_starts_one_leg_later() -> None:
    orders = [observability.rotated(observability.LEGS, r) for r in range(5)]
    assert orders[0] == ["bare", "metrics", "traced", "persisted"]
    assert orders[1] == ["metrics", "traced", "persisted", "bare"]
    assert orders[4] == orders[0]
    assert {order[0] for order in orders[:4]} == set(observability.LEGS)
