"""An agent answering a call through the real BFF: what the write tests start from."""

from __future__ import annotations

import httpx

from simulators.world.model import Customer
from tests.support.processes import BffProcess

LOOK_UP = "query($p: String!) { customerByPhone(phone: $p) { id } }"


def answer_and_look_up(bff: BffProcess, agent_id: str, call_id: str, caller: Customer) -> dict[str, str]:
    """The CTI says `agent_id` answered `call_id` from the caller's mobile, and the agent's workbench
    looks the caller up: from then on the agent may act for that customer only. Returns the agent's
    headers."""
    phone = caller.mobile
    assert phone is not None, "pick the caller from tests.support.world.sole_callers"
    agent = bff.auth("agent", agent_id)
    assert bff.cti("CALL_ANSWERED", agent_id, call_id, phone).status_code == 204
    pop = httpx.post(f"{bff.url}/graphql", json={"query": LOOK_UP, "variables": {"p": phone}}, headers=agent)
    assert "errors" not in pop.json(), pop.text
    return agent
