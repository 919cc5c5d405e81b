"""The call registry's transfers, conferences and identification, as one process and as its peers see
them through the changes it reports; and billing's background phone searches (bounded, deduplicated,
cancelled when the last call waiting on them ends). Narrow unit tests: the e2e module
tests/e2e/test_unknown_callers.py runs the same through real processes."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from domain.records import Account
from services import identify
from services.call_machine import Refusal
from services.calls import CallChange, CallRefused, CallRegistry, ChangeKind
from services.phone_search import PhoneSearches
from tests.fakes.billing import InMemoryBilling
from tests.schema import fake_backends


def _registry() -> tuple[CallRegistry, list[CallChange], list[tuple[str, str]]]:
    told: list[CallChange] = []
    released: list[tuple[str, str]] = []
    calls = CallRegistry(on_change=told.append)
    calls.on_release.append(lambda agent, call: released.append((agent, call)))
    return calls, told, released


def _peer(changes: list[CallChange]) -> CallRegistry:
    """Another process that heard these changes over the feed."""
    peer = CallRegistry()
    for change in changes:
        peer.apply(change)
    return peer


def test_a_transfer_moves_the_customers_and_the_old_agent_loses_them() -> None:
    calls, told, released = _registry()
    call = calls.answered("A1", "c1", "13900000001")
    call.bind("KH00000001", ("0010000001",))
    moved = calls.transferred("A2", "c1")
    assert calls.current("A1") is None and released == [("A1", "c1")]
    assert moved.agent_id == "A2" and moved.customers == {"KH00000001"} and moved.state == "RINGING"
    peer = _peer(told)
    assert peer.current("A1") is None
    got = peer.current("A2")
    assert got is not None and got.customers == {"KH00000001"} and got.accounts == {"0010000001"}
    with pytest.raises(CallRefused):
        calls.transferred("A2", "c1")  # already there: nothing to transfer from


def test_a_conference_shares_the_call_and_an_end_takes_it_from_everyone() -> None:
    calls, told, released = _registry()
    calls.answered("A1", "c2", "13900000002").bind("KH00000002", ())
    joined = calls.conference_joined("A3", "c2")
    assert joined.customers == {"KH00000002"} and calls.current("A1") is not None
    calls.current("A1").bind("KH00000003", ())  # type: ignore[union-attr]
    assert joined.customers == {"KH00000002", "KH00000003"}  # bindings are shared
    assert _peer(told).current("A3") is not None
    assert calls.ended("A1", "c2") is True
    assert calls.current("A1") is None and calls.current("A3") is None
    assert sorted(released) == [("A1", "c2"), ("A3", "c2")]
    peer = _peer(told)
    assert peer.current("A1") is None and peer.current("A3") is None
    with pytest.raises(CallRefused) as refused:
        calls.conference_joined("A4", "c2")
    assert refused.value.refusal is Refusal.CALL_ENDED


def test_a_conference_needs_an_answered_call() -> None:
    calls, _, _ = _registry()
    calls.ringing("A1", "c3", "13900000003")
    with pytest.raises(CallRefused):
        calls.conference_joined("A2", "c3")
    with pytest.raises(CallRefused):
        calls.conference_joined("A2", "no-such-call")


def test_identification_replaces_the_number_s_matches_everywhere() -> None:
    calls, told, _ = _registry()
    call = calls.answered("A1", "c4", "13900000004")
    call.bind("KH00000010", ("0010000010",))  # the neighbour whose landline it is
    calls.identified(call, "KH00000011", ("0010000011",))
    assert call.customers == {"KH00000011"} and call.accounts == {"0010000011"}
    call.bind("KH00000010", ("0010000010",))  # a late phone match opens nothing more
    assert call.customers == {"KH00000011"}
    peer = _peer(told)
    seen = peer.current("A1")
    assert seen is not None and seen.customers == {"KH00000011"} and seen.identified == "KH00000011"
    assert [c.kind for c in told].count(ChangeKind.IDENTIFIED) == 1


class SlowBilling(InMemoryBilling):
    """billing whose phone search waits for the test to let it answer."""

    def __init__(self, accounts: list[Account]) -> None:
        super().__init__()
        self.found = accounts
        self.release = asyncio.Event()
        self.searches = 0

    async def accounts_by_phone(self, phone: str) -> list[Account]:
        self.searches += 1
        await self.release.wait()
        return self.found


async def test_one_search_per_number_and_a_late_answer_goes_to_the_waiting_calls() -> None:
    billing = SlowBilling([])
    searches = PhoneSearches(wait_s=0.01, max_running=2)
    told: list[tuple[str, set[tuple[str, str]]]] = []

    async def found(number: str, accounts: list[Account], calls: set[tuple[str, str]]) -> None:
        told.append((number, calls))

    searches.on_found = found
    first = searches.start(billing, "13900000005", ("A1", "c5"))
    second = searches.start(billing, "13900000005", ("A2", "c6"))
    assert first is not None and first is second
    assert await searches.wait(first, "13900000005", 0.01) is None  # not yet: no match for now
    assert searches.running("13900000005")
    billing.found = [object()]  # type: ignore[list-item]  # any non-empty answer
    billing.release.set()
    await first
    for _ in range(5):
        await asyncio.sleep(0)
    assert billing.searches == 1
    assert told == [("13900000005", {("A1", "c5"), ("A2", "c6")})]
    assert searches.known("13900000005") == billing.found


async def test_searches_are_bounded_and_stop_when_their_calls_end() -> None:
    billing = SlowBilling([])
    searches = PhoneSearches(max_running=1)
    task = searches.start(billing, "13900000007", ("A1", "c7"))
    assert task is not None
    assert searches.start(billing, "13900000008", ("A2", "c8")) is None  # at capacity: no match at once
    searches.release("A1", "c7")
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not searches.running("13900000007") and searches.known("13900000007") is None


@pytest.mark.parametrize(
    ("last4", "street", "right"),
    [
        ("123x", "新华路", True),  # X either case
        ("123X", " 新 华路 ", True),  # spaces as an agent types them
        ("1234", "新华路", False),  # the wrong last four
        ("123X", "华", False),  # one character names no street
        ("123X", "绿城花园", False),  # the compound, not the street
        ("123X", "391号", False),  # the house number is no street
        ("123X", "江城市", False),  # nor the city
        ("12X", "新华路", False),  # not four characters
    ],
)
def test_answers_are_checked_against_billing_s_record(last4: str, street: str, right: bool) -> None:
    address = "江城市临江区新华路391号绿城花园1幢1单元101室"
    account = dataclasses.replace(fake_backends.ACCOUNT, id_card="11010119900307123X", address=address)
    assert identify._matches(account, last4, street) is right
