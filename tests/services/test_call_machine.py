"""The call machine as a table, and the registry that follows it (issue 15 #3: ENDED is terminal)."""

from __future__ import annotations

import itertools

import pytest

from services.call_machine import TRANSITIONS, CallEvent, CallState, Refusal, Step, step
from services.calls import CallChange, CallRefused, CallRegistry, ChangeKind

STATES: list[CallState | None] = [None, *CallState]


def test_the_happy_path_rings_is_answered_and_ends() -> None:
    state: CallState | None = None
    for event, expected in [
        (CallEvent.RINGING, CallState.RINGING),
        (CallEvent.ANSWERED, CallState.ANSWERED),
        (CallEvent.ENDED, CallState.ENDED),
    ]:
        taken = step(state, event)
        assert taken == Step(expected)
        state = taken.to


@pytest.mark.parametrize("event", list(CallEvent))
def test_nothing_leaves_ended(event: CallEvent) -> None:
    assert step(CallState.ENDED, event) == Step(None, changed=False, refused=Refusal.CALL_ENDED)


def test_going_backwards_is_out_of_order() -> None:
    assert step(CallState.ANSWERED, CallEvent.RINGING).refused is Refusal.OUT_OF_ORDER
    assert step(None, CallEvent.TRANSFERRED).refused is Refusal.OUT_OF_ORDER  # no call to transfer
    assert step(CallState.RINGING, CallEvent.CONFERENCE_JOINED).refused is Refusal.OUT_OF_ORDER


def test_a_repeat_changes_nothing_and_is_not_refused() -> None:
    assert step(CallState.RINGING, CallEvent.RINGING) == Step(CallState.RINGING, changed=False)
    assert step(CallState.ANSWERED, CallEvent.ANSWERED) == Step(CallState.ANSWERED, changed=False)


def test_transfers_and_conferences_are_transitions_of_the_same_machine() -> None:
    assert step(CallState.ANSWERED, CallEvent.TRANSFERRED) == Step(CallState.RINGING)
    assert step(CallState.ANSWERED, CallEvent.CONFERENCE_JOINED) == Step(CallState.ANSWERED)


def test_every_state_and_event_has_an_answer_and_no_transition_leaves_ended() -> None:
    for state, event in itertools.product(STATES, CallEvent):
        taken = step(state, event)
        assert taken.allowed == (taken.to is not None)
        assert taken.allowed or not taken.changed
    assert all(before is not CallState.ENDED for before, _event in TRANSITIONS)


def test_the_registry_refuses_a_ring_or_an_answer_after_the_end_and_opens_nothing() -> None:
    told: list[CallChange] = []
    calls = CallRegistry(on_change=told.append)
    calls.ringing("A1", "c1", "13800000000").bind("KH00000001", ["AC1"])
    calls.answered("A1", "c1", None)
    assert calls.ended("A1", "c1")
    before = list(told)
    for replay in (
        lambda: calls.ringing("A1", "c1", "13800000000"),
        lambda: calls.answered("A1", "c1", "13800000000"),
        lambda: calls.ended("A1", "c1"),
    ):
        with pytest.raises(CallRefused) as refused:
            replay()
        assert refused.value.code == "CTI_CALL_ENDED"
    assert calls.current("A1") is None and told == before


def test_an_end_for_a_call_never_seen_here_still_closes_it_for_good() -> None:
    calls = CallRegistry()
    assert calls.ended("A1", "c-late") is False
    with pytest.raises(CallRefused):
        calls.ringing("A1", "c-late", None)
    # Another agent cannot pick the ended call up either: ENDED is terminal per call id.
    with pytest.raises(CallRefused):
        calls.answered("A2", "c-late", None)


def test_the_registry_refuses_a_ring_after_the_answer() -> None:
    calls = CallRegistry()
    call = calls.answered("A1", "c1", "13800000000")
    with pytest.raises(CallRefused) as refused:
        calls.ringing("A1", "c1", "13800000000")
    assert refused.value.code == "CTI_EVENT_OUT_OF_ORDER"
    assert calls.current("A1") is call and call.state is CallState.ANSWERED


def test_an_end_from_another_process_closes_the_call_here_for_good() -> None:
    calls = CallRegistry()
    calls.ringing("A1", "c1", None)
    calls.apply(CallChange(ChangeKind.ENDED, "A1", "c1"))
    assert calls.state_of("A1", "c1") is CallState.ENDED
    with pytest.raises(CallRefused):
        calls.ringing("A1", "c1", None)
