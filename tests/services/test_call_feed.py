"""Call registries kept in step between processes (`CallFeed` over a bus), and what a late or repeated
change may and may not do to a registry; the sealed screen pop that travels beside them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from infra.cache.store import MemoryStore
from infra.pubsub import MemoryBus
from infra.sealed import Sealer
from services.call_feed import CallFeed
from services.calls import CallChange, CallRegistry, ChangeKind
from services.pop_store import PopStore, StoredPop

KEY = bytes(range(32))


def test_a_registry_reports_what_changed_and_nothing_twice() -> None:
    told: list[CallChange] = []
    calls = CallRegistry(on_change=told.append)
    call = calls.ringing("A1", "c1", "13800000001")
    calls.ringing("A1", "c1", "13800000001")  # repeated: nothing new
    call.bind("KH00000001", ["0010000001", "0010000002"])
    call.bind("KH00000001", ["0010000001"])  # nothing new
    calls.answered("A1", "c1", "13800000001")
    calls.ended("A1", "c1")
    assert [(c.kind, c.customers, c.accounts) for c in told] == [
        (ChangeKind.RINGING, (), ()),
        (ChangeKind.BOUND, ("KH00000001",), ("0010000001", "0010000002")),
        (ChangeKind.ANSWERED, (), ()),
        (ChangeKind.ENDED, (), ()),
    ]


def test_remote_changes_apply_quietly_and_an_ended_call_stays_ended() -> None:
    told: list[CallChange] = []
    calls = CallRegistry(on_change=told.append)
    # A binding that overtook its ringing event opens the call with it.
    calls.apply(CallChange(ChangeKind.BOUND, "A1", "c1", "13800000001", ("KH00000001",), ("0010000001",)))
    call = calls.current("A1")
    assert call is not None and call.customers == {"KH00000001"} and call.caller == "13800000001"
    calls.apply(CallChange(ChangeKind.RINGING, "A1", "c1", "13800000001"))
    assert calls.current("A1") is call  # the same call, binding kept
    calls.apply(CallChange(ChangeKind.ENDED, "A1", "c1"))
    assert calls.current("A1") is None
    calls.apply(CallChange(ChangeKind.ANSWERED, "A1", "c1", "13800000001"))  # late: stays ended
    calls.apply(CallChange(ChangeKind.BOUND, "A1", "c1", None, ("KH00000002",)))
    assert calls.current("A1") is None
    assert told == []  # nothing applied from elsewhere is reported again


@pytest.fixture
async def pair() -> AsyncIterator[tuple[CallRegistry, CallRegistry]]:
    bus = MemoryBus()
    here, there = CallRegistry(), CallRegistry()
    tasks = []
    for calls in (here, there):
        ready = asyncio.Event()
        tasks.append(asyncio.create_task(CallFeed(calls, bus, Sealer(KEY)).run(ready)))
        await ready.wait()
    yield here, there
    for task in tasks:
        task.cancel()
    await bus.aclose()


async def _settled(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the change never arrived")


async def test_a_call_and_its_binding_reach_the_other_process(
    pair: tuple[CallRegistry, CallRegistry],
) -> None:
    here, there = pair
    call = here.ringing("A1", "c1", "13800000001")
    call.bind("KH00000001", ["0010000001"])
    await _settled(lambda: (c := there.current("A1")) is not None and c.customers == {"KH00000001"})
    remote = there.current("A1")
    assert remote is not None and remote.caller == "13800000001" and remote.accounts == {"0010000001"}
    there.ended("A1", "c1")  # the end may come in on the other process
    await _settled(lambda: here.current("A1") is None)


def test_a_caller_sealed_under_another_key_does_not_open() -> None:
    ours, theirs = (
        CallFeed(CallRegistry(), MemoryBus(), Sealer(KEY)),
        CallFeed(CallRegistry(), MemoryBus(), Sealer()),
    )
    message = theirs.encode(CallChange(ChangeKind.RINGING, "A1", "c1", "13800000001"))
    assert "13800000001" not in str(message)  # the caller's number never travels in clear
    change = ours.decode(message)
    assert change is not None and change.caller is None
    assert ours.decode({"kind": "NOPE", "agentId": "A1", "callId": "c1"}) is None


async def test_a_kept_pop_opens_only_for_its_agent_and_call() -> None:
    pops = PopStore(MemoryStore(), Sealer(KEY), keep_s=60)
    payload = await pops.put(StoredPop("A1", "c1", "13800000001", 1.0, snapshot=None))
    assert "13800000001" not in str(payload)
    opened = pops.open(payload)
    assert opened is not None and opened.caller == "13800000001"
    assert pops.open({**payload, "agentId": "A2"}) is None  # copied to another agent: does not open
    assert await pops.get("A1", "c2") is None  # another call's
    assert await pops.take("A1", "c1") is not None
    assert await pops.take("A1", "c1") is None  # taken once
