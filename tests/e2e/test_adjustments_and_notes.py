"""requestFeeAdjustment and addInteractionNote through a BFF process: real tokens and scopes, the committed
`gql/` documents, answers replayed byte for byte."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Simulators
from tests.e2e.calls import answer_and_look_up
from tests.support.admin import set_faults, stats
from tests.support.processes import BffProcess
from tests.support.world import seeded_world, sole_callers

GQL = Path(__file__).parents[2] / "gql"
ADJUST = (GQL / "request_fee_adjustment.graphql").read_text(encoding="utf-8")
NOTE = (GQL / "add_interaction_note.graphql").read_text(encoding="utf-8")


def _post(bff: BffProcess, headers: dict[str, str], query: str, name: str, variables: Any) -> httpx.Response:
    body = {"query": query, "operationName": name, "variables": variables}
    r = httpx.post(f"{bff.url}/graphql", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r


def _codes(r: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in r.json().get("errors", [])]


def _calls(sims: Simulators, service: str, op: str) -> int:
    return int(stats(sims[service].url)["operations"].get(op, {}).get("requests", 0))


def test_an_adjustment_is_for_supervisors_and_replays_byte_for_byte(
    bff: BffProcess, clean_sims: Simulators
) -> None:
    set_faults(clean_sims["billing"].url, settlement_window=False)  # whatever the real clock says
    account = seeded_world().accounts[30].account_no
    variables = {
        "input": {
            "accountNo": account,
            "reason": "VOLUME_CORRECTION",
            "amountFen": -3600,
            "explanation": "表坏估抄",
        },
        "idempotencyKey": str(uuid.uuid4()),
    }
    supervisor = bff.auth("supervisor")
    first = _post(bff, supervisor, ADJUST, "RequestFeeAdjustment", variables)
    second = _post(bff, supervisor, ADJUST, "RequestFeeAdjustment", variables)
    assert "errors" not in first.json(), first.text
    assert first.content == second.content
    assert first.json()["data"]["requestFeeAdjustment"]["amount"] == {"fen": -3600, "yuan": "-36.00"}

    agent = _post(bff, bff.auth("agent", "A3002"), ADJUST, "RequestFeeAdjustment", variables)
    assert _codes(agent) == ["FORBIDDEN"] and agent.json()["data"] is None
    assert _calls(clean_sims, "billing", "SubmitFeeAdjustment") == 1


def test_a_note_replays_and_an_agent_notes_their_caller_only(bff: BffProcess, clean_sims: Simulators) -> None:
    world = seeded_world()
    caller = sole_callers(world)[0]
    other = next(c for c in world.customers if c.customer_no != caller.customer_no)
    agent = answer_and_look_up(bff, "A3002", "c-302", caller)

    mine = {
        "input": {"customerId": f"KH{caller.customer_no:08d}", "text": "客户同意明日上门"},
        "idempotencyKey": str(uuid.uuid4()),
    }
    first = _post(bff, agent, NOTE, "AddInteractionNote", mine)
    again = _post(bff, agent, NOTE, "AddInteractionNote", mine)
    assert "errors" not in first.json(), first.text
    assert first.content == again.content
    assert first.json()["data"]["addInteractionNote"]["summary"] == "客户同意明日上门"

    theirs = {
        "input": {"customerId": f"KH{other.customer_no:08d}", "text": "x"},
        "idempotencyKey": str(uuid.uuid4()),
    }
    refused = _post(bff, agent, NOTE, "AddInteractionNote", theirs)
    assert _codes(refused) == ["FORBIDDEN"]
    softphone = _post(bff, bff.auth("softphone", "A3002"), NOTE, "AddInteractionNote", mine)
    assert _codes(softphone) == ["FORBIDDEN"]  # the softphone bar reads; it does not write
    assert _calls(clean_sims, "crm", "addNote") == 1
