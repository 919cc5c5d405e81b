"""An agent reads only the customers on their current call; refusals reveal nothing and are audited."""

from __future__ import annotations

from typing import Any

import pytest

from services.access import CUSTOMER_READ, NETWORK_READ, PII_UNMASK, TICKET_READ, Access, Principal
from services.calls import CallRegistry
from services.context import RequestContext
from tests.services.conftest import SUPERVISOR, Run
from tests.support.world import seeded_world, sole_callers

AGENT = Principal(
    "agent-a1001",
    "workbench",
    "agent",
    frozenset({CUSTOMER_READ, TICKET_READ, NETWORK_READ}),
    agent_id="A1001",
)
CUSTOMER_Q = "query($id: ID!) { customer(id: $id) { id name idCard accounts { accountNo } } }"
POP_Q = "query($p: String!) { customerByPhone(phone: $p) { id name idCard mobile accounts { accountNo } } }"


def _codes(result: Any) -> list[str]:
    return [e.extensions["code"] for e in result.errors or []]


def _two_strangers() -> tuple[Any, Any]:
    world = seeded_world()
    caller = sole_callers(world)[0]
    other = next(c for c in world.customers if c.customer_no != caller.customer_no and c.mobile)
    return caller, other


async def test_agent_reads_the_caller_and_nobody_else(run: Run) -> None:
    caller, other = _two_strangers()
    calls = CallRegistry()
    call = calls.answered("A1001", "call-1", caller.mobile)
    contexts: list[RequestContext] = []
    access = Access(AGENT, call)
    pop = await run(POP_Q, {"p": f"+86 {caller.mobile}"}, access=access, contexts=contexts)
    assert pop.errors is None
    (found,) = pop.data["customerByPhone"]  # type: ignore[index]
    assert found["id"] == f"KH{caller.customer_no:08d}"
    assert found["idCard"].startswith("*" * 14) and found["idCard"][-4:] == (caller.id_card or "")[-4:]
    assert "****" in found["mobile"] and found["name"] != caller.name  # masked: no pii:unmask
    assert contexts[0].audit.records() == []  # nothing unmasked, nothing refused

    for stranger in (f"KH{other.customer_no:08d}", "KH99999999"):  # real or not: the same refusal
        result = await run(CUSTOMER_Q, {"id": stranger}, access=Access(AGENT, call), contexts=contexts)
        assert result.data == {"customer": None} and _codes(result) == ["FORBIDDEN"]
        assert (
            result.errors
            and result.errors[0].message == "not allowed: only the customers matched to your current call"
        )
    refusals = [r for c in contexts for r in c.audit.records() if r["event"] == "refused"]
    assert [r["key"] for r in refusals] == [f"KH{other.customer_no:08d}", "KH99999999"]
    assert all(r["call_id"] == "call-1" and r["agent_id"] == "A1001" for r in refusals)

    wrong_number = await run(POP_Q, {"p": other.mobile}, access=Access(AGENT, call))
    assert _codes(wrong_number) == ["FORBIDDEN"]
    foreign_account = seeded_world().accounts_of[other.customer_no][0].account_no
    result = await run(
        "query($n: String!) { account(accountNo: $n) { holderName } }",
        {"n": foreign_account},
        access=Access(AGENT, call),
    )
    assert _codes(result) == ["FORBIDDEN"]
    own_account = seeded_world().accounts_of[caller.customer_no][0].account_no
    result = await run(
        "query($n: String!) { account(accountNo: $n) { holderName } }",
        {"n": own_account},
        access=Access(AGENT, call),
    )
    assert result.errors is None


async def test_access_ends_with_the_call(run: Run) -> None:
    caller, _ = _two_strangers()
    calls = CallRegistry()
    call = calls.answered("A1001", "call-2", caller.mobile)
    await run(POP_Q, {"p": caller.mobile}, access=Access(AGENT, call))
    ok = await run(
        CUSTOMER_Q, {"id": f"KH{caller.customer_no:08d}"}, access=Access(AGENT, calls.current("A1001"))
    )
    assert ok.errors is None
    assert calls.ended("A1001", "call-2")
    after = await run(
        CUSTOMER_Q, {"id": f"KH{caller.customer_no:08d}"}, access=Access(AGENT, calls.current("A1001"))
    )
    assert _codes(after) == ["FORBIDDEN"]


async def test_supervisor_reads_anyone_and_every_reveal_is_audited_without_values(run: Run) -> None:
    _, other = _two_strangers()
    contexts: list[RequestContext] = []
    result = await run(
        CUSTOMER_Q, {"id": f"KH{other.customer_no:08d}"}, access=Access(SUPERVISOR), contexts=contexts
    )
    assert result.errors is None
    assert result.data["customer"]["idCard"] == other.id_card  # type: ignore[index]
    (record,) = contexts[0].audit.records()
    assert record["event"] == "unmasked_read" and record["customer"] == f"KH{other.customer_no:08d}"
    assert sorted(record["fields"]) == ["customer.idCard", "customer.name"]
    flat = repr(record)
    assert other.name not in flat and (other.id_card or "x") not in flat


@pytest.mark.parametrize("query", ["{ tickets(first: 5) { id } }", '{ ticket(id: "GD000") { id } }'])
async def test_agents_cannot_list_or_probe_tickets(run: Run, query: str) -> None:
    call = CallRegistry().answered("A1001", "call-3", "13800000000")
    result = await run(query, access=Access(AGENT, call))
    assert _codes(result) == ["FORBIDDEN"]


async def test_pii_unmask_on_a_call_unmasks_only_that_caller(run: Run) -> None:
    caller, other = _two_strangers()
    senior = Principal("agent-a1002", "workbench", "agent", AGENT.scopes | {PII_UNMASK}, agent_id="A1002")
    call = CallRegistry().answered("A1002", "call-4", caller.mobile)
    pop = await run(POP_Q, {"p": caller.mobile}, access=Access(senior, call))
    assert pop.data["customerByPhone"][0]["idCard"] == caller.id_card  # type: ignore[index]
    result = await run(CUSTOMER_Q, {"id": f"KH{other.customer_no:08d}"}, access=Access(senior, call))
    assert _codes(result) == ["FORBIDDEN"]
