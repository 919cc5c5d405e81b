"""The trace's rules on a network small enough to check by hand (`tests/support/tiny_network.py`)."""

from __future__ import annotations

import dataclasses

import pytest

from domain.network_graph import NetworkGraph
from tests.support.tiny_network import MAINS, SOURCES, TAPS, VALVES, A, B, C


def graph(valves: list = VALVES) -> NetworkGraph:  # type: ignore[type-arg]
    return NetworkGraph(MAINS, valves, SOURCES, TAPS)


def test_a_stuck_valve_grows_the_segment_and_the_main_beyond_loses_water() -> None:
    trace = graph().trace(20)
    assert trace.segment_main_ids == (20,)
    assert trace.isolated_main_ids == (20, 30)  # b cannot be closed: 30's segment joins
    assert [(g.valve, g.added_main_ids) for g in trace.growth] == [(B, (30,))]
    assert trace.valves_to_close == (A, C)
    assert trace.cut_off_main_ids == (40,)  # fed only through 20 and 30: downstream loss
    assert trace.sealed and trace.out_main_ids == (20, 30, 40)
    assert graph().accounts_on(trace.out_main_ids) == ("0010000002", "0010000003", "0010000004", "0010000005")


def test_with_the_valve_repaired_the_segment_stays_small() -> None:
    repaired = [dataclasses.replace(B, operable=True) if v is B else v for v in VALVES]
    trace = graph(repaired).trace(20)
    assert trace.isolated_main_ids == (20,) and not trace.enlarged
    assert [v.object_id for v in trace.valves_to_close] == [A.object_id, B.object_id]
    assert trace.cut_off_main_ids == (30, 40)


def test_a_valve_already_shut_is_not_closed_again_and_what_it_starved_is_not_counted() -> None:
    shut = [dataclasses.replace(C, currently_open=False) if v is C else v for v in VALVES]
    g = graph(shut)
    assert 40 not in g.fed_main_ids  # nothing reached 40 before the burst: it is not the burst's doing
    trace = g.trace(30)
    assert trace.valves_to_close == (A,) and [v.object_id for v in trace.already_closed] == [C.object_id]
    assert trace.cut_off_main_ids == ()


def test_a_source_inside_the_area_leaves_it_unsealed() -> None:
    trace = graph().trace(10)
    assert trace.isolated_main_ids == (10,) and trace.valves_to_close == (A,)
    assert not trace.sealed  # the works delivers straight into 10
    assert trace.cut_off_main_ids == (20, 30, 40)  # the out-of-service stub 50 never had water


def test_an_unknown_main_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        graph().trace(99)
