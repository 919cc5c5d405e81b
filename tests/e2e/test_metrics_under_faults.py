"""The must-show test of issue 8: a scripted load against the real simulators and the real BFF
process, billing's faults injected at run time, then `/metrics` read with Prometheus' own parser:
errors counted by code, billing's breaker gone open (transition counted), stale serves counted,
admission rejects counted. Counts and states only, never times.

And the request log: one JSON line per request with operation, client, outcome, duration, trace id
and call id, and no phone or ID-card digits anywhere in the process's output.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from simulators.world.model import Customer
from tests.conftest import Simulators
from tests.support.admin import set_faults
from tests.support.processes import BffProcess, start_bff
from tests.support.prom import Scrape
from tests.support.world import seeded_world

SCREEN_POP = (Path(__file__).parents[2] / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")
METER = "query Meter($a: String!) { account(accountNo: $a) { meter { meterNo } } }"
HISTORY = "query District { tickets(first: 1) { id } }"  # sheddable: district-wide
AGENT = "A7001"

ENV = {
    # The agent's query loads the pop itself (no ring-time prefetch), so the load reaches billing.
    "TIDEGATE_SCREEN_POP_PREFETCH": "false",
    "TIDEGATE_BILLING_TIMEOUT_S": "0.5",
    # Open billing's breaker once half of at least four calls in its window failed: a few errors
    # get through first, then it refuses; and it stays open for the rest of the test.
    "TIDEGATE_BILLING_BREAKER_FAILURE_RATE": "50",
    "TIDEGATE_BREAKER_MINIMUM_CALLS": "4",
    "TIDEGATE_BREAKER_WAIT_S": "600",
    # Accounts are fresh for a second, then served only if billing fails (stale-if-error).
    "TIDEGATE_CACHE_ACCOUNTS_TTL_S": "1",
    "TIDEGATE_CACHE_ACCOUNTS_SWR_S": "0",
    "TIDEGATE_CACHE_ACCOUNTS_SIE_S": "3600",
    # District-wide reports get one request, then 429 (the pops are critical: untouched).
    "TIDEGATE_RATE_SHEDDABLE_RPS": "0.01",
    "TIDEGATE_RATE_SHEDDABLE_BURST": "1",
}


@pytest.fixture
def bff(clean_sims: Simulators) -> Iterator[BffProcess]:
    """A BFF of its own on the shared simulators, whose faults `clean_sims` resets afterwards."""
    for name in ("billing", "crm", "gis", "workorders"):
        _ = clean_sims[name]
    started = start_bff(clean_sims, ENV)
    try:
        yield started
    finally:
        started.stop()


def callers(n: int, skip: int = 0) -> list[Customer]:
    """Customers who alone own their mobile and hold at least one account."""
    world = seeded_world()
    found = [
        c
        for c in world.customers
        if c.mobile and len(world.customers_by_phone[c.mobile]) == 1 and world.accounts_of[c.customer_no]
    ]
    return found[skip : skip + n]


def pop(
    bff: BffProcess, caller: Customer, call_id: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The softphone's screen pop for a call ringing at the agent's desk."""
    assert bff.cti("CALL_RINGING", AGENT, call_id, caller.mobile).status_code == 204
    r = httpx.post(
        f"{bff.url}/graphql",
        json={"query": SCREEN_POP, "variables": {"phone": caller.mobile}, "operationName": "ScreenPop"},
        headers={**bff.auth("agent", AGENT), **(headers or {})},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def meter(bff: BffProcess, account_no: str) -> list[str]:
    r = httpx.post(
        f"{bff.url}/graphql",
        json={"query": METER, "variables": {"a": account_no}},
        headers=bff.auth(),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return codes(r.json())


def scrape(bff: BffProcess) -> Scrape:
    r = httpx.get(f"{bff.url}/metrics")
    assert r.status_code == 200
    return Scrape(r.text)


def test_errors_breaker_and_stale_serves_show_on_metrics(bff: BffProcess, clean_sims: Simulators) -> None:
    billing = clean_sims["billing"].url
    warm = callers(4)
    world = seeded_world()
    spare = [a.account_no for c in callers(30, skip=4) for a in world.accounts_of[c.customer_no]]

    # 1. Normal load: four screen pops on four calls; every caller's accounts land in the cache.
    for i, caller in enumerate(warm):
        assert codes(pop(bff, caller, f"warm-{i}")) == []
    before = scrape(bff)
    assert before.value("tidegate_circuit_breaker_state", backend="billing", state="closed") == 1
    assert before.value("tidegate_cache_requests_total", cache="accounts", result="miss") >= len(warm)
    assert before.value("tidegate_cache_requests_total", cache="accounts", result="stale") == 0
    assert before.value("tidegate_backend_calls_total", backend="billing", outcome="ok") >= len(warm)
    pops = {
        "graphql_operation_name": "ScreenPop",
        "graphql_operation_type": "query",
        "operation_class": "critical",
    }
    assert before.value("tidegate_graphql_request_duration_seconds_count", **pops) == len(warm)

    # 2. Billing hangs: a meter read times out (BACKEND_TIMEOUT at its path).
    set_faults(billing, timeout_rate=1.0, hang_ms=3_000)
    seen = meter(bff, spare.pop())
    assert "BACKEND_TIMEOUT" in seen, seen

    # 3. Billing answers 9999 (system busy): BACKEND_ERROR until the breaker opens, then BACKEND_UNAVAILABLE.
    set_faults(billing, timeout_rate=0.0, error_rate=1.0)
    for _ in range(20):
        seen += meter(bff, spare.pop())
        if "BACKEND_UNAVAILABLE" in seen:
            break
    assert "BACKEND_ERROR" in seen and "BACKEND_UNAVAILABLE" in seen, seen

    # 4. The warm callers ring again once their accounts are past fresh: served stale, marked so.
    time.sleep(1.2)
    for i, caller in enumerate(warm):
        body = pop(bff, caller, f"again-{i}")
        assert body["extensions"]["stale"], body  # the accounts, from the cache
        assert body["data"]["customerByPhone"][0]["accounts"][0]["freshness"]["stale"] is True

    # 5. District-wide reports beyond the sheddable class's bucket are refused at admission.
    refused = [
        httpx.post(f"{bff.url}/graphql", json={"query": HISTORY}, headers=bff.auth()) for _ in range(3)
    ]
    assert 429 in [r.status_code for r in refused]

    after = scrape(bff)
    errors = "tidegate_graphql_errors_total"
    for code in ("BACKEND_TIMEOUT", "BACKEND_ERROR", "BACKEND_UNAVAILABLE", "RATE_LIMITED"):
        assert after.value(errors, error_code=code) >= 1, code
    assert after.value(errors, error_code="BACKEND_UNAVAILABLE", graphql_operation_name="Meter") >= 1
    assert after.value(errors, error_code="RATE_LIMITED", operation_class="sheddable") >= 1

    assert after.value("tidegate_circuit_breaker_state", backend="billing", state="open") == 1
    assert after.value("tidegate_circuit_breaker_state", backend="billing", state="closed") == 0
    assert after.value("tidegate_circuit_breaker_state", backend="crm", state="closed") == 1
    transitions = "tidegate_circuit_breaker_transitions_total"
    assert after.value(transitions, backend="billing", from_state="closed", to_state="open") == 1

    stale_before = before.value("tidegate_cache_requests_total", cache="accounts", result="stale")
    assert after.value(
        "tidegate_cache_requests_total", cache="accounts", result="stale"
    ) >= stale_before + len(warm)

    calls = "tidegate_backend_calls_total"
    for outcome in ("BACKEND_TIMEOUT", "BACKEND_ERROR", "BACKEND_UNAVAILABLE"):
        assert after.value(calls, backend="billing", outcome=outcome) >= 1, outcome
    sent = "http_client_request_duration_seconds_count"
    assert (
        after.value(sent, backend="billing", error_type="BACKEND_TIMEOUT", http_response_status_code="") >= 1
    )
    assert after.value(sent, backend="crm", error_type="", http_response_status_code="200") >= 2 * len(warm)

    admission = {"limiter": "admission", "backend": "", "operation_class": "sheddable"}
    assert after.value("tidegate_rate_limit_decisions_total", **admission, decision="rejected") >= 1
    assert after.value("tidegate_graphql_request_duration_seconds_count", **pops) == 2 * len(warm)
    assert after.value("http_server_request_duration_seconds_count", http_route="/graphql") >= 2 * len(warm)

    # Degraded, not down: billing's breaker is open, yet the BFF serves (stale accounts, partial pops).
    ready = httpx.get(f"{bff.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["billing"]["status"] == "down"
    assert ready.json()["checks"]["crm"]["status"] == "up"


def test_one_log_line_per_request_without_pii(bff: BffProcess) -> None:
    (caller,) = callers(1, skip=40)
    body = pop(bff, caller, "log-call-1", headers={"apollographql-client-name": "softphone"})
    assert codes(body) == []
    refused = httpx.post(f"{bff.url}/graphql", json={"query": "{ __typename }"})
    assert refused.status_code == 401

    lines = [orjson.loads(line) for line in bff.log().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("msg") == "graphql request"]
    (line,) = [r for r in requests if r.get("call_id") == "log-call-1"]
    assert line["operation"] == "ScreenPop"
    assert line["operation_type"] == "query" and line["operation_class"] == "critical"
    assert line["client_id"] == "workbench"  # the token's client (tests mint for "workbench")
    assert line["outcome"] == "ok" and line["status"] == 200
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert "trace_id" in line  # null with tracing off; the span's id when on
    assert any(r["outcome"] == "UNAUTHENTICATED" and r["status"] == 401 for r in requests)

    text = bff.log()
    assert caller.mobile and caller.mobile not in text
    assert not caller.id_card or caller.id_card not in text
    assert caller.name not in text
