"""Issue 15, finding 4: numbers typed into notes and tickets reach other agents masked.

Written through the real mutations to the CRM and work-order simulators, read back over the schema
as other callers: an agent on the customer's call (masked, like the structured fields), a supervisor
(as typed, and the reveal audited). The back office keeps the text as typed unless the setting says
redact at write. A field worker's own mobile: masked for agents, shown with `staff:contact`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from backends.registry import BACKENDS, open_backends
from infra.http.config import BackendConfig
from infra.idempotency_store import MemoryIdempotencyStore
from services.access import (
    CUSTOMER_READ,
    INTERACTION_WRITE,
    STAFF_CONTACT,
    TICKET_READ,
    TICKET_WRITE,
    Access,
    Principal,
)
from services.calls import Call, CallRegistry
from services.context import RequestContext, build_context
from services.idempotency import Idempotency, IdempotencyPolicy
from simulators.crm.records import contact_id
from tests.conftest import Simulators
from tests.services.conftest import SUPERVISOR
from tests.support.clocks import FakeClock
from tests.support.world import seeded_world, sole_callers
from tests.support.writes import get_json

TYPED = "客户要求回电 +86 138-1234-5678，身份证 35050519440919112X，卡号 6222 0212 3456 7890 128"
# The card's last four are `0128`: masked as billing's structured bank account field is.
MASKED = "客户要求回电 +86 138-****-5678，身份证 **************112X，卡号 **** **** **** ***0 128"
AGENT_SCOPES = frozenset({CUSTOMER_READ, TICKET_READ, TICKET_WRITE, INTERACTION_WRITE})
WRITER = Principal("agent-a1001", "workbench", "agent", AGENT_SCOPES, agent_id="A1001")
READER = Principal("agent-a1002", "workbench", "agent", AGENT_SCOPES, agent_id="A1002")
LEAD = Principal(SUPERVISOR.subject, SUPERVISOR.client_id, "supervisor", SUPERVISOR.scopes | {STAFF_CONTACT})
NOTE = """
mutation($input: AddInteractionNoteInput!, $key: String!) {
  addInteractionNote(input: $input, idempotencyKey: $key) { id summary }
}
"""
HISTORY = "query($id: ID!) { customer(id: $id) { interactions(last: 3) { id summary } } }"
CREATE = """
mutation($input: CreateTicketInput!, $key: String!) {
  createTicket(input: $input, idempotencyKey: $key) { id description }
}
"""
TICKET = "query($id: ID!) { ticket(id: $id) { description history { remark } assignee { mobile } } }"


class Desk:
    """Requests as one BFF process answers them: fresh backends and loaders, shared idempotency."""

    def __init__(self, sims: Simulators, schema: Any, clock: FakeClock) -> None:
        self.sims, self.schema = sims, schema
        self.idempotency = Idempotency(MemoryIdempotencyStore(clock=clock), IdempotencyPolicy(settle_s=30.0))
        self.contexts: list[RequestContext] = []

    async def ask(
        self, document: str, variables: Mapping[str, Any], access: Access, redact_at_write: bool = False
    ) -> dict[str, Any]:
        backends = open_backends({n: BackendConfig(n, self.sims[n].url, timeout_s=5.0) for n in BACKENDS})
        try:
            context = build_context(
                backends,
                access=access,
                idempotency=self.idempotency,
                redact_free_text_at_write=redact_at_write,
            )
            self.contexts.append(context)
            result: ExecutionResult = await self.schema.execute(
                document, variable_values=dict(variables), context_value=context
            )
        finally:
            await backends.aclose()
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data


@pytest.fixture
def desk(clean_sims: Simulators, schema: Any, clock: FakeClock) -> Desk:
    return Desk(clean_sims, schema, clock)


def _caller() -> tuple[str, str, int]:
    """A caller with one account: (customer id, account number, world customer number)."""
    world = seeded_world()
    found = next(c for c in sole_callers(world)[40:] if len(world.accounts_of[c.customer_no]) == 1)
    return f"KH{found.customer_no:08d}", world.accounts_of[found.customer_no][0].account_no, found.customer_no


def _on_call(agent: str, call_id: str, customer: str, account: str) -> Call:
    call = CallRegistry().answered(agent, call_id, "13800000000")
    call.bind(customer, [account])
    return call


async def test_a_note_with_a_mobile_and_an_id_number_reads_back_masked(desk: Desk) -> None:
    customer, account, number = _caller()
    writer = Access(WRITER, _on_call("A1001", "call-w", customer, account))
    added = await desk.ask(
        NOTE, {"input": {"customerId": customer, "text": TYPED}, "key": str(uuid.uuid4())}, writer
    )
    assert added["addInteractionNote"]["summary"] == MASKED  # the writer holds no pii:unmask either

    other_agent = Access(READER, _on_call("A1002", "call-r", customer, account))
    seen = await desk.ask(HISTORY, {"id": customer}, other_agent)
    newest = seen["customer"]["interactions"][0]
    assert newest == {"id": added["addInteractionNote"]["id"], "summary": MASKED}
    assert desk.contexts[-1].audit.records() == []  # nothing shown in clear, nothing refused

    lead = await desk.ask(HISTORY, {"id": customer}, Access(LEAD))
    assert lead["customer"]["interactions"][0]["summary"] == TYPED
    (reveal,) = desk.contexts[-1].audit.records()
    assert reveal["event"] == "unmasked_read" and "customer.interactions.0.summary" in reveal["fields"]
    assert "1234" not in repr(reveal)

    contact = contact_id(number)  # the CRM keeps what was typed: the back office is the record
    stored = get_json(desk.sims["crm"].url, f"/crm/api/v2/contacts/{contact}/interactions", limit=5)
    assert stored["items"][0]["summary"].startswith(TYPED)


async def test_with_redact_at_write_the_crm_never_gets_the_numbers(desk: Desk) -> None:
    customer, account, number = _caller()
    writer = Access(WRITER, _on_call("A1001", "call-w2", customer, account))
    note = {"input": {"customerId": customer, "text": TYPED}, "key": str(uuid.uuid4())}
    path = f"/crm/api/v2/contacts/{contact_id(number)}/interactions"
    before = {item["id"] for item in get_json(desk.sims["crm"].url, path, limit=50)["items"]}
    await desk.ask(NOTE, note, writer, redact_at_write=True)
    stored = get_json(desk.sims["crm"].url, path, limit=50)["items"]
    # This write's interaction, whatever the order (another test's note may share its second).
    (written,) = [item for item in stored if item["id"] not in before]
    assert written["summary"].startswith(MASKED)
    lead = await desk.ask(HISTORY, {"id": customer}, Access(LEAD))
    # Nothing left to reveal: even a lead who may unmask reads this note masked (the order of notes
    # written in the same second is the CRM's, so it is found among them, not at the top).
    assert MASKED in [i["summary"] for i in lead["customer"]["interactions"]]


async def test_a_ticket_description_and_the_field_workers_mobile(desk: Desk) -> None:
    customer, account, _ = _caller()
    call = _on_call("A1001", "call-t", customer, account)
    ticket = {"category": "LEAK", "description": TYPED, "customerId": customer}
    filed = await desk.ask(CREATE, {"input": ticket, "key": str(uuid.uuid4())}, Access(WRITER, call))
    ticket_id = filed["createTicket"]["id"]
    assert filed["createTicket"]["description"] == MASKED

    agent = await desk.ask(TICKET, {"id": ticket_id}, Access(WRITER, call))
    lead = await desk.ask(TICKET, {"id": ticket_id}, Access(LEAD))
    assert agent["ticket"]["description"] == MASKED and lead["ticket"]["description"] == TYPED
    worker = lead["ticket"]["assignee"]
    assert worker is not None, "the seeded grid has a field worker: the ticket was dispatched"
    full = worker["mobile"]
    assert full and "*" not in full
    assert agent["ticket"]["assignee"]["mobile"] == f"{full[:3]}****{full[-4:]}"
    unscoped = await desk.ask(TICKET, {"id": ticket_id}, Access(SUPERVISOR))  # pii:unmask is not it
    assert unscoped["ticket"]["assignee"]["mobile"] == agent["ticket"]["assignee"]["mobile"]
