"""addInteractionNote against the real CRM simulator: idempotency, a lost answer found again by our
reference, and an agent noting only the caller on their call. Counts and states only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from infra.idempotency_store import MemoryIdempotencyStore
from services.access import CUSTOMER_READ, INTERACTION_WRITE, TICKET_READ, Access, Principal
from services.calls import CallRegistry
from services.idempotency import Idempotency, IdempotencyPolicy
from simulators.crm.records import contact_id
from tests.conftest import Simulators
from tests.services.conftest import SUPERVISOR
from tests.support.admin import set_faults
from tests.support.clocks import FakeClock
from tests.support.world import seeded_world
from tests.support.writes import calls, codes, execute, extensions, finished, get_json, until

WRITER = Principal(
    SUPERVISOR.subject, SUPERVISOR.client_id, "supervisor", SUPERVISOR.scopes | {INTERACTION_WRITE}
)
AGENT = Principal(
    "agent-a1001",
    "workbench",
    "agent",
    frozenset({CUSTOMER_READ, TICKET_READ, INTERACTION_WRITE}),
    agent_id="A1001",
)
NOTE = """
mutation AddInteractionNote($input: AddInteractionNoteInput!, $key: String!) {
  addInteractionNote(input: $input, idempotencyKey: $key) { id at channel type outcome agentId summary }
}
"""
HISTORY = """
query($id: ID!) { customer(id: $id) { interactions(last: 3) { id type summary agentId } } }
"""

Send = Callable[..., Awaitable[ExecutionResult]]


@pytest.fixture
def send(clean_sims: Simulators, schema: Any, clock: FakeClock) -> Send:
    idempotency = Idempotency(MemoryIdempotencyStore(clock=clock), IdempotencyPolicy(settle_s=30.0))

    async def run(
        input: Mapping[str, Any] | None,
        key: str,
        access: Access | None = None,
        timeouts: Mapping[str, float] | None = None,
        document: str = NOTE,
        variables: Mapping[str, Any] | None = None,
    ) -> ExecutionResult:
        return await execute(
            schema,
            clean_sims,
            document,
            variables if variables is not None else {"input": dict(input or {}), "key": key},
            access=access or Access(WRITER),
            idempotency=idempotency,
            timeouts=timeouts,
        )

    return run


def _customer(index: int) -> str:
    return f"KH{seeded_world().customers[index].customer_no:08d}"


def _note(index: int, text: str = "客户来电询问停水原因, 已告知抢修进度") -> dict[str, Any]:
    return {"customerId": _customer(index), "text": text}


def _added(sims: Simulators) -> int:
    return calls(sims, "crm").get("addNote", 0)


def _crm_notes(sims: Simulators, index: int) -> list[dict[str, Any]]:
    """The contact's notes as the CRM itself stores them (our reference and all)."""
    contact = contact_id(seeded_world().customers[index].customer_no)
    body = get_json(sims["crm"].url, f"/crm/api/v2/contacts/{contact}/interactions", limit=100)
    return [i for i in body["items"] if i["type"] == "BZ"]


async def test_the_note_lands_on_the_contact_history(send: Send, clean_sims: Simulators) -> None:
    text = "客户反映水压低, 已建议联系物业检查加压泵"
    result = await send(_note(10, text), str(uuid.uuid4()))
    assert result.errors is None, result.errors
    note = result.data["addInteractionNote"]  # type: ignore[index]
    assert (note["type"], note["summary"], note["agentId"]) == ("NOTE", text, WRITER.subject)
    history = await send(None, "", document=HISTORY, variables={"id": _customer(10)})
    assert history.errors is None, history.errors
    newest = history.data["customer"]["interactions"][0]  # type: ignore[index]
    assert newest == {"id": note["id"], "type": "NOTE", "summary": text, "agentId": WRITER.subject}
    (stored,) = [n for n in _crm_notes(clean_sims, 10) if n["id"] == note["id"]]
    assert stored["summary"].startswith(text + " [TG")  # the reference travels in the CRM, not to us
    assert _added(clean_sims) == 1


async def test_same_key_same_input_replays_without_a_backend_call(send: Send, clean_sims: Simulators) -> None:
    key = str(uuid.uuid4())
    first = await send(_note(11), key)
    assert first.errors is None, first.errors
    before = calls(clean_sims, "crm")
    again = await send(_note(11), key)
    assert again.errors is None and again.data == first.data
    assert calls(clean_sims, "crm") == before and before["addNote"] == 1


async def test_same_key_other_input_is_refused(send: Send, clean_sims: Simulators) -> None:
    key = str(uuid.uuid4())
    assert (await send(_note(12), key)).errors is None
    other = await send(_note(12, "另一条"), key)
    assert other.data is None and codes(other) == ["IDEMPOTENCY_KEY_REUSED"]
    assert _added(clean_sims) == 1


async def test_concurrent_same_key_adds_one_note(send: Send, clean_sims: Simulators) -> None:
    set_faults(clean_sims["crm"].url, ops={"addNote": {"latency_ms": 300}})
    key = str(uuid.uuid4())
    results = await asyncio.gather(*(send(_note(13), key) for _ in range(5)))
    answered = {r.data["addInteractionNote"]["id"] for r in results if r.errors is None}  # type: ignore[index]
    assert len(answered) == 1
    assert all(codes(r) == ["IDEMPOTENCY_IN_PROGRESS"] for r in results if r.errors)
    assert _added(clean_sims) == 1


async def test_a_timed_out_note_is_found_again_not_repeated(
    send: Send, clean_sims: Simulators, clock: FakeClock
) -> None:
    """The CRM takes 1.5 s to add it, the BFF waits 0.5 s: the note lands after we gave up."""
    crm = clean_sims["crm"].url
    key = str(uuid.uuid4())
    set_faults(crm, ops={"addNote": {"latency_ms": 1500}})
    first = await send(_note(14), key, timeouts={"crm": 0.5})
    assert codes(first) == ["BACKEND_TIMEOUT"] and extensions(first)["retryAfter"] == 30
    early = await send(_note(14), key)
    assert codes(early) == ["IDEMPOTENCY_IN_PROGRESS"] and extensions(early)["state"] == "UNCERTAIN"

    await until(lambda: finished(clean_sims, "crm", "addNote"))  # it landed
    set_faults(crm, ops={})
    clock.advance(31)
    retry = await send(_note(14), key)
    assert retry.errors is None, retry.errors
    note_id = retry.data["addInteractionNote"]["id"]  # type: ignore[index]
    assert [n["id"] for n in _crm_notes(clean_sims, 14) if n["summary"].startswith("客户来电")] == [note_id]
    assert _added(clean_sims) == 1  # found, not added again
    assert (await send(_note(14), key)).data == retry.data


async def test_a_garbled_answer_is_found_in_the_same_request(send: Send, clean_sims: Simulators) -> None:
    set_faults(clean_sims["crm"].url, ops={"addNote": {"garble_rate": 1.0}})
    result = await send(_note(15), str(uuid.uuid4()))
    assert result.errors is None, result.errors  # the note was added; its answer was cut in half
    ops = calls(clean_sims, "crm")
    assert (ops["addNote"], ops["listInteractions"]) == (1, 1)


async def test_a_refused_note_frees_the_key(send: Send, clean_sims: Simulators) -> None:
    set_faults(clean_sims["crm"].url, ops={"addNote": {"error_rate": 1.0}})
    key = str(uuid.uuid4())
    assert codes(await send(_note(16), key)) == ["BACKEND_ERROR"]  # a 5xx: answered, and not there
    set_faults(clean_sims["crm"].url, ops={})
    assert (await send(_note(16), key)).errors is None
    assert len([n for n in _crm_notes(clean_sims, 16) if n["summary"].startswith("客户来电")]) == 1


async def test_an_agent_notes_only_the_caller_on_the_call(send: Send, clean_sims: Simulators) -> None:
    world = seeded_world()
    caller, other = world.customers[20], world.customers[21]
    call = CallRegistry().answered("A1001", "call-9", caller.mobile)
    call.bind(f"KH{caller.customer_no:08d}", [a.account_no for a in world.accounts_of[caller.customer_no]])

    refused = await send(_note(21), str(uuid.uuid4()), access=Access(AGENT, call))
    assert refused.data is None and codes(refused) == ["FORBIDDEN"]
    no_call = await send(_note(20), str(uuid.uuid4()), access=Access(AGENT, None))
    assert codes(no_call) == ["FORBIDDEN"]
    softphone = Principal("sp", "softphone", "softphone", frozenset({CUSTOMER_READ, TICKET_READ}), "A1001")
    assert codes(await send(_note(20), str(uuid.uuid4()), access=Access(softphone, call))) == ["FORBIDDEN"]
    assert _added(clean_sims) == 0

    mine = await send(_note(20), str(uuid.uuid4()), access=Access(AGENT, call))
    assert mine.errors is None, mine.errors
    assert mine.data["addInteractionNote"]["agentId"] == "A1001"  # type: ignore[index]
    assert other.customer_no != caller.customer_no and _added(clean_sims) == 1


@pytest.mark.parametrize(
    ("input", "code"),
    [
        ({"customerId": "12", "text": "x"}, "BAD_USER_INPUT"),
        ({"customerId": "KH00000001", "text": "  "}, "BAD_USER_INPUT"),
        ({"customerId": "KH00000001", "text": "长" * 1901}, "BAD_USER_INPUT"),
        ({"customerId": "KH99999999", "text": "x"}, "NOT_FOUND"),
    ],
)
async def test_bad_input_adds_nothing(
    send: Send, clean_sims: Simulators, input: dict[str, Any], code: str
) -> None:
    assert codes(await send(input, str(uuid.uuid4()))) == [code]
    assert _added(clean_sims) == 0
