"""The supervisor's board query (`SupervisorBoard`, by persisted id) against a real BFF process and
the four simulators: who may read it, and that its figures follow real CTI events and real pops."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.persisted.manifest import load_manifest
from simulators.world import World
from simulators.world.model import Account, Customer
from tests.conftest import Simulators
from tests.support.admin import set_faults
from tests.support.processes import BffProcess, start_bff
from tests.support.world import seeded_world

BOARD = next(op for op in load_manifest() if op.name == "SupervisorBoard")
SCREEN_POP = (Path(__file__).parents[2] / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")
AGENT = "B3001"  # an agent id no other module's BFF sees (each module has its own BFF anyway)


def caller_in_burst(world: World) -> Customer:
    """A caller with a mobile of their own whose premise lies in the active emergency outage."""
    burst = next(o for o in world.outages if o.kind == 2 and o.status == 1)
    on_main: list[Account] = [a for a in world.accounts if a.main_id in burst.main_ids]
    return next(
        c
        for a in on_main
        if (c := world.customer_by_no[a.customer_no]).mobile and len(world.customers_by_phone[c.mobile]) == 1
    )


def board(bff: BffProcess, headers: dict[str, str]) -> dict[str, Any]:
    answer = httpx.post(
        f"{bff.url}/graphql",
        json={"documentId": f"sha256:{BOARD.id}"},
        headers={**headers, "apollographql-client-name": "board"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def eventually(bff: BffProcess, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The board once `check` holds (the ring-time pop binds the caller's accounts a moment later)."""
    deadline = time.monotonic() + 20
    while True:
        body = board(bff, bff.auth("supervisor"))
        assert "errors" not in body, body
        found: dict[str, Any] = body["data"]["supervisorBoard"]
        if check(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_an_agent_is_refused_the_board(bff: BffProcess) -> None:
    body = board(bff, bff.auth("agent", AGENT))
    assert body["data"] == {"supervisorBoard": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


def test_the_board_follows_real_calls_pops_and_outages(bff: BffProcess) -> None:
    world = seeded_world()
    caller = caller_in_burst(world)
    assert caller.mobile is not None
    burst = next(o for o in world.outages if o.kind == 2 and o.status == 1)
    first = eventually(bff, lambda b: True)
    assert first["ringing"] == 0 and first["agents"] == []
    assert {b["name"]: b["breaker"] for b in first["backends"]} == {
        "billing": "closed",
        "crm": "closed",
        "gis": "closed",
        "workorders": "closed",
    }
    billing = next(b for b in first["backends"] if b["name"] == "billing")  # the one with all guards
    assert billing["maxConcurrent"] > 0 and billing["maxRps"] > 0 and billing["inFlight"] == 0

    assert bff.cti("CALL_RINGING", AGENT, "board-call-1", caller.mobile).status_code == 204
    ringing = eventually(bff, lambda b: b["ringing"] == 1)
    assert ringing["answered"] == 0
    assert ringing["agents"][0]["agentId"] == AGENT and ringing["agents"][0]["state"] == "RINGING"
    assert ringing["callsLastMinute"] == 1 and ringing["callsPerMinute"][-1] == 1

    assert bff.cti("CALL_ANSWERED", AGENT, "board-call-1", caller.mobile).status_code == 204
    agent = bff.auth("agent", AGENT)
    pop = httpx.post(  # binds the caller's accounts to the call (the ring-time pop may have already)
        f"{bff.url}/graphql",
        json={"query": SCREEN_POP, "variables": {"phone": caller.mobile}, "operationName": "ScreenPop"},
        headers=agent,
        timeout=10,
    )
    assert pop.status_code == 200 and "errors" not in pop.json(), pop.text
    answered = eventually(bff, lambda b: b["answered"] == 1 and b["popsCounted"] >= 1)
    assert answered["ringing"] == 0 and answered["agents"][0]["state"] == "ANSWERED"
    assert answered["popsCounted"] == 1
    assert answered["popP50Ms"] is not None and answered["popP99Ms"] >= answered["popP50Ms"] > 0
    outage = next(o for o in answered["outages"] if o["outage"]["id"] == burst.outage_id)
    assert outage["callIds"] == ["board-call-1"] and outage["calls"] == 1
    assert all(o["calls"] == 0 for o in answered["outages"] if o["outage"]["id"] != burst.outage_id)
    assert any(c["hits"] + c["misses"] > 0 for c in answered["caches"]), "the pop read through the cache"

    assert bff.cti("CALL_ENDED", AGENT, "board-call-1").status_code == 204
    ended = eventually(bff, lambda b: b["answered"] == 0)
    assert ended["agents"] == [{"agentId": AGENT, "state": "IDLE", "callId": None, "secondsInState": None}]
    outage = next(o for o in ended["outages"] if o["outage"]["id"] == burst.outage_id)
    assert outage["calls"] == 0


IVR = next(op for op in load_manifest() if op.name == "CallerOutageStatus")


def test_the_board_counts_the_callers_the_ivr_told(bff: BffProcess) -> None:
    world = seeded_world()
    caller = caller_in_burst(world)
    burst = next(o for o in world.outages if o.kind == 2 and o.status == 1)
    softphone = {**bff.auth("softphone", "A1001"), "apollographql-client-name": "softphone"}

    def ask(phone: str) -> dict[str, Any]:
        answer = httpx.post(
            f"{bff.url}/graphql",
            json={"documentId": f"sha256:{IVR.id}", "variables": {"phone": phone}},
            headers=softphone,
            timeout=10,
        )
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
        status: dict[str, Any] = answer.json()["data"]["callerOutageStatus"]
        return status

    told = 0
    deadline = time.monotonic() + 30
    while told < 3:  # the suite's BFFs build the index on the first look-up: "not affected" until then
        status = ask(caller.mobile or "")
        if status["affected"]:
            assert status["outageId"] == burst.outage_id
            told += 1
        else:
            assert time.monotonic() < deadline, "the outage index was never built"
            time.sleep(0.2)
    assert not ask("anonymous")["affected"]  # a withheld number is told nothing, and not counted
    lines = {o["outage"]["id"]: o for o in eventually(bff, lambda b: True)["outages"]}
    assert lines.pop(burst.outage_id)["ivrAnswered"] == told
    assert lines and all(o["ivrAnswered"] == 0 for o in lines.values())


TRIP = {
    "TIDEGATE_BILLING_BREAKER_FAILURE_RATE": "50",
    "TIDEGATE_BREAKER_MINIMUM_CALLS": "4",
    "TIDEGATE_BREAKER_WAIT_S": "600",
}
METER = "query Meter($a: String!) { account(accountNo: $a) { meter { meterNo } } }"


@pytest.fixture
def tripping_bff(clean_sims: Simulators) -> Iterator[BffProcess]:
    """A BFF whose billing breaker opens after a few failures, on simulators reset afterwards."""
    for name in ("billing", "crm", "gis", "workorders"):
        _ = clean_sims[name]
    started = start_bff(clean_sims, TRIP)
    try:
        yield started
    finally:
        started.stop()


def test_the_board_shows_billing_breaker_open(tripping_bff: BffProcess, clean_sims: Simulators) -> None:
    bff = tripping_bff
    world = seeded_world()
    accounts = [a.account_no for a in world.accounts[100:130]]
    set_faults(clean_sims["billing"].url, error_rate=1.0)
    seen: list[str] = []
    for account_no in accounts:
        answer = httpx.post(
            f"{bff.url}/graphql",
            json={"query": METER, "variables": {"a": account_no}},
            headers=bff.auth(),
            timeout=30,
        ).json()
        seen += [e["extensions"]["code"] for e in answer.get("errors", [])]
        if "BACKEND_UNAVAILABLE" in seen:
            break
    assert "BACKEND_UNAVAILABLE" in seen, seen
    lines = {b["name"]: b for b in eventually(bff, lambda b: True)["backends"]}
    assert lines["billing"]["breaker"] == "open" and lines["billing"]["status"] == "down"
    assert lines["billing"]["failureRate"] >= 50
    assert lines["billing"]["lastOutcome"] == "BACKEND_UNAVAILABLE"
    assert lines["crm"]["breaker"] == "closed" and lines["crm"]["status"] == "up"


def test_gis_down_costs_only_the_outages(tripping_bff: BffProcess, clean_sims: Simulators) -> None:
    set_faults(clean_sims["gis"].url, error_rate=1.0)
    body = board(tripping_bff, tripping_bff.auth("supervisor"))
    found = body["data"]["supervisorBoard"]
    assert found["outages"] is None and found["backends"], body
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["supervisorBoard", "outages"], "BACKEND_ERROR")
    ]
