"""Bounded label values: nothing a caller sends grows the series without bound or lands in a label."""

from __future__ import annotations

from gateway.observability.metric_labels import (
    OTHER,
    ClientNames,
    OperationNames,
    error_code,
    operation_class,
    operation_type,
)


def test_manifest_operations_are_always_their_own_label() -> None:
    names = OperationNames({"ScreenPop", "CreateTicket"}, max_others=0)
    assert names.label("ScreenPop") == "ScreenPop"
    assert names.label("CreateTicket") == "CreateTicket"
    assert names.label("Anything") == OTHER  # no room for others at all


def test_other_names_are_capped_at_the_first_n_seen() -> None:
    names = OperationNames({"ScreenPop"}, max_others=2)
    assert [names.label(n) for n in ("A", "B", "C", "A", "B", "D")] == ["A", "B", OTHER, "A", "B", OTHER]
    assert names.label("ScreenPop") == "ScreenPop"  # the manifest's never compete for slots


def test_no_operation_name_is_the_empty_label() -> None:
    names = OperationNames(set(), max_others=50)
    assert names.label(None) == "" and names.label("") == ""


def test_digit_runs_and_non_names_are_other_and_take_no_slot() -> None:
    names = OperationNames(set(), max_others=1)
    for sent in ("Pop13812345678", "_110101199003077777", "has space", "phone:138", "x" * 65, "1abc"):
        assert names.label(sent) == OTHER, sent
    assert names.label("Fine") == "Fine"  # the one slot was still free


def test_client_is_a_registered_name_or_other() -> None:
    clients = ClientNames({"softphone", "workbench-agent"})
    assert clients.label("softphone", None) == "softphone"
    assert clients.label(" softphone ", "workbench-agent") == "softphone"
    assert clients.label("unregistered-app", "workbench-agent") == "workbench-agent"  # the token's
    assert clients.label(None, "someone-else") == OTHER


def test_a_phone_number_in_the_client_header_never_becomes_a_label() -> None:
    clients = ClientNames({"softphone"})
    for sent in ("13812345678", "+8613812345678", "0571-88886666", "110101199003077777"):
        assert clients.label(sent, None) == OTHER
        assert clients.label(sent, "softphone") == "softphone"


def test_closed_sets() -> None:
    assert [operation_type(t) for t in ("query", "mutation", "subscription", None, "Query")] == [
        "query",
        "mutation",
        "subscription",
        "",
        "",
    ]
    assert [operation_class(c) for c in ("critical", "normal", "sheddable", None, "vip")] == [
        "critical",
        "normal",
        "sheddable",
        "",
        "",
    ]
    assert error_code("BACKEND_TIMEOUT") == "BACKEND_TIMEOUT"
    assert error_code("customer 13812345678 not found") == "OTHER"
