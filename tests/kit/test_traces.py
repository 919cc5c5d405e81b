"""The simulators' record of received trace contexts (`/_sim/stats` -> `traces`)."""

from __future__ import annotations

import httpx

from simulators.kit.traces import TraceLog, parse_traceparent
from tests.conftest import Simulators

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def test_only_well_formed_traceparents_are_parsed() -> None:
    assert parse_traceparent(f"00-{TRACE}-{PARENT}-01") == (TRACE, PARENT)
    assert parse_traceparent(f" 00-{TRACE}-{PARENT}-03 ") == (TRACE, PARENT)
    for bad in (
        None,
        "",
        f"01-{TRACE}-{PARENT}-01",  # a version we do not speak
        f"00-{TRACE.upper()}-{PARENT}-01",
        f"00-{'0' * 32}-{PARENT}-01",  # all-zero ids are invalid
        f"00-{TRACE}-{'0' * 16}-01",
        f"00-{TRACE}-{PARENT}",
    ):
        assert parse_traceparent(bad) is None, bad


def test_the_log_keeps_the_latest_and_resets() -> None:
    log = TraceLog()
    for i in range(600):
        log.seen(f"{i:032x}", PARENT, "getContact")
    shown = log.as_json()
    assert shown["received"] == 600 and len(shown["recent"]) == 500
    assert shown["recent"][-1] == {"trace_id": f"{599:032x}", "parent_id": PARENT, "op": "getContact"}
    log.reset()
    assert log.as_json() == {"received": 0, "recent": []}


def test_a_simulator_logs_and_keeps_the_trace_id_it_received(clean_sims: Simulators) -> None:
    crm = clean_sims["crm"].url
    httpx.get(
        f"{crm}/crm/api/v2/contacts",
        params={"customerNo": 1},
        headers={"traceparent": f"00-{TRACE}-{PARENT}-01"},
    )
    httpx.get(f"{crm}/crm/api/v2/contacts", params={"customerNo": 2}, headers={"traceparent": "garbage"})
    traces = httpx.get(f"{crm}/_sim/stats").json()["traces"]
    assert traces == {
        "received": 1,
        "recent": [{"trace_id": TRACE, "parent_id": PARENT, "op": "searchContacts"}],
    }
    lines = [ln for ln in clean_sims["crm"].log().splitlines() if f'"trace_id": "{TRACE}"' in ln]
    assert lines and '"path": "/crm/api/v2/contacts"' in lines[-1]
    httpx.post(f"{crm}/_sim/stats/reset").raise_for_status()
    assert httpx.get(f"{crm}/_sim/stats").json()["traces"]["received"] == 0
