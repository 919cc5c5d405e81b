"""`bench.surge_tally.billing_alone_late`: billing's own service times against a pop's cut, made-up stats."""

from __future__ import annotations

from typing import Any

from bench.surge_mix import KINDS
from bench.surge_tally import Outcome, billing_alone_late, ring_pops
from gateway.observability.metric_labels import ClientNames, OperationNames
from gateway.observability.metrics import Metrics


def _stats(search_p50: float, get_accounts_ms: list[float]) -> dict[str, Any]:
    return {
        "crm": {"operations": {"searchContacts": {"latency_ms": {"p50": search_p50}}}},
        "billing": {"operations": {"GetAccounts": {"latencies_ms": get_accounts_ms}}},
    }


def _pop(*, partial: bool, repeat: bool) -> Outcome:
    codes = ("BACKEND_TIMEOUT",) if partial else ()
    return Outcome(KINDS["screen_pop"], "surge", 250.0, codes, True, False, repeat=repeat)


def test_the_share_of_calls_slower_than_the_cut_less_the_search() -> None:
    """Cut 260, search 25: a budget of 235 ms; 2 of the 5 service times are over it (235 is not)."""
    outcomes = [
        _pop(partial=True, repeat=False),
        _pop(partial=False, repeat=False),
        _pop(partial=True, repeat=True),
    ]
    late = billing_alone_late(_stats(25.0, [100.0, 235.0, 235.1, 900.0, 200.0]), 260.0, outcomes)
    assert late == {
        "pop_cut_ms": 260.0,
        "crm_search_p50_ms": 25.0,
        "budget_ms": 235.0,
        "calls": 5,
        "over_budget_share": 0.4,
        "first_caller_pops": 2,  # the repeat caller's pop is not one
        "first_caller_pops_partial_share": 0.5,
    }


def test_nothing_is_estimated_without_both_operations() -> None:
    assert billing_alone_late(_stats(25.0, []), 260.0, []) == {}
    assert billing_alone_late({"billing": _stats(25.0, [300.0])["billing"]}, 260.0, []) == {}


def _exposition(durations: list[tuple[str, float]]) -> str:
    metrics = Metrics(OperationNames(set(), 0), ClientNames(set()))
    for outcome, seconds in durations:
        metrics.ring_pop(outcome, seconds)
    return metrics.exposition().decode()


def test_ring_time_pops_are_read_from_the_bffs_own_histogram() -> None:
    """Ten pops: eight complete (seven within 300 ms), two partial; p50 in the 0.2-0.25 s bucket,
    p99 in the 0.5-0.75 s one."""
    pops = [("complete", 0.21)] * 6 + [("complete", 0.29), ("complete", 0.6), ("partial", 0.7)]
    pops += [("partial", 0.04)]
    assert ring_pops(_exposition(pops)) == {
        "pushed": 10,
        "by_outcome": {"complete": 8, "partial": 2},
        "partial_share": 0.2,
        "within_300ms_share": 0.8,
        "p50_ms_at_most": 250.0,
        "p99_ms_at_most": 750.0,
    }


def test_no_ring_time_pop_is_no_figure() -> None:
    assert ring_pops(_exposition([])) == {"pushed": 0}
    assert ring_pops("") == {"pushed": 0}
