"""`bench.surge_tally.billing_alone_late`: billing's own service times against a pop's cut, made-up stats."""

from __future__ import annotations

from typing import Any

from bench.surge_mix import KINDS
from bench.surge_tally import Outcome, billing_alone_late


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
