"""`revealCustomerPii`: an agent shows their caller's PII on purpose, with a reason the audit trail
keeps; never another customer's, never after the call, never without a reason or the scope."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from gateway.persisted.manifest import load_manifest
from tests.support.processes import BffProcess
from tests.support.world import seeded_world, sole_callers

POP = "query($p: String!) { customerByPhone(phone: $p) { id mobile idCard } }"
REVEAL = (
    "mutation($id: ID!, $r: String!) { revealCustomerPii(customerId: $id, reason: $r) "
    "{ customerId name mobile idCard } }"
)


def _ask(bff: BffProcess, query: str, variables: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    r = httpx.post(f"{bff.url}/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def _revealed_records(bff: BffProcess, customer: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if bff.audit_path.exists():
            lines = [json.loads(line) for line in bff.audit_path.read_text(encoding="utf-8").splitlines()]
            found = [r for r in lines if r["event"] == "pii_revealed" and r["customer"] == customer]
            if found:
                return found
        time.sleep(0.05)
    return []


def test_an_agent_reveals_the_callers_pii_with_a_reason_and_only_during_the_call(bff: BffProcess) -> None:
    world = seeded_world()
    caller, other = sole_callers(world)[3], sole_callers(world)[4]
    agent = bff.auth("agent", "A2301")
    mine, theirs = f"KH{caller.customer_no:08d}", f"KH{other.customer_no:08d}"
    reason = "verifying the caller's identity"
    assert _codes(_ask(bff, REVEAL, {"id": mine, "r": reason}, agent)) == ["FORBIDDEN"]  # no call yet

    assert bff.cti("CALL_RINGING", "A2301", "rv-1", caller.mobile).status_code == 204
    (masked,) = _ask(bff, POP, {"p": caller.mobile}, agent)["data"]["customerByPhone"]
    assert "****" in masked["mobile"]
    shown = _ask(bff, REVEAL, {"id": mine, "r": reason}, agent)
    assert "errors" not in shown, shown
    pii = shown["data"]["revealCustomerPii"]
    assert pii["customerId"] == mine and pii["mobile"] == caller.mobile and "*" not in pii["idCard"]
    (record,) = _revealed_records(bff, mine)
    assert record["reason"] == reason and record["agent_id"] == "A2301" and record["call_id"] == "rv-1"
    assert set(record["fields"]) == {"name", "mobile", "landline", "idCard"}
    assert caller.mobile is not None and caller.mobile not in json.dumps(record)  # never the values

    assert _codes(_ask(bff, REVEAL, {"id": theirs, "r": reason}, agent)) == ["FORBIDDEN"]
    assert _codes(_ask(bff, REVEAL, {"id": mine, "r": "  "}, agent)) == ["BAD_USER_INPUT"]
    assert _codes(_ask(bff, REVEAL, {"id": "nobody", "r": reason}, agent)) == ["BAD_USER_INPUT"]
    softphone = bff.auth("softphone", "A2301")  # no pii:reveal (and list-only: it sends the id)
    (op_id, *_) = [op.id for op in load_manifest() if op.name == "RevealCustomerPii"]
    by_id = {"documentId": f"sha256:{op_id}", "variables": {"customerId": mine, "reason": reason}}
    refused = httpx.post(f"{bff.url}/graphql", json=by_id, headers=softphone).json()
    assert _codes(refused) == ["FORBIDDEN"], refused

    assert bff.cti("CALL_ENDED", "A2301", "rv-1").status_code == 204
    assert _codes(_ask(bff, REVEAL, {"id": mine, "r": reason}, agent)) == ["FORBIDDEN"]
