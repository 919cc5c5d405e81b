"""Each backend failure becomes a coded error at the failing path; the rest of the answer arrives."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.conftest import Simulators
from tests.services.conftest import Run
from tests.services.test_screen_pop import SCREEN_POP
from tests.support.admin import set_faults
from tests.support.world import seeded_world


def _faults(sims: Simulators, name: str, **knobs: Any) -> None:
    set_faults(sims[name].url, **knobs)


def _caller() -> str:
    world = seeded_world()
    customer = next(c for c in world.customers if c.mobile and len(world.interactions(c.customer_no)) >= 2)
    return customer.mobile or ""


def _codes_by_path(errors: Any) -> dict[str, str]:
    return {".".join(str(p) for p in e.path): e.extensions["code"] for e in errors or []}


async def test_an_unknown_code_is_unknown_and_logged_not_an_error(
    run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    world = seeded_world()
    rogue = next(a for a in world.accounts if a.use_type == "05")
    with caplog.at_level(logging.WARNING):
        result = await run(
            "query($n: String!) { account(accountNo: $n) { useType status } }",
            {"n": rogue.account_no.lstrip("0")},
        )
    assert result.errors is None
    assert result.data == {"account": {"useType": "UNKNOWN", "status": "ACTIVE"}}
    assert any(getattr(r, "raw_code", None) == "05" for r in caplog.records)


async def test_malformed_xml_fails_only_the_billing_fields(run: Run, clean_sims: Simulators) -> None:
    _faults(clean_sims, "billing", ops={"GetAccounts": {"garble_rate": 1.0}})
    query = """query($p: String!) { customerByPhone(phone: $p) {
        name idCard interactions(last: 5) { id }
        accounts { holderName balance { fen } meter { meterNo } } } }"""
    result = await run(query, {"p": _caller()})
    codes = _codes_by_path(result.errors)
    assert codes and set(codes.values()) == {"BACKEND_ERROR"}
    # Everything that needed the account record failed with it, and nothing else did.
    assert all(path.endswith((".holderName", ".balance", ".idCard")) for path in codes), codes
    pop = result.data["customerByPhone"][0]  # type: ignore[index]
    assert pop["name"] and len(pop["interactions"]) >= 2  # CRM data still arrived
    assert pop["accounts"][0]["meter"]["meterNo"]  # so did the meter, from another billing call


async def test_a_soap_fault_fails_only_its_field(run: Run, clean_sims: Simulators) -> None:
    _faults(clean_sims, "billing", ops={"GetBills": {"error_rate": 1.0}})
    account = seeded_world().accounts[3]
    query = "query($n: String!) { account(accountNo: $n) { holderName bills(last: 2) { billNo } } }"
    result = await run(query, {"n": account.account_no})
    assert _codes_by_path(result.errors) == {"account.bills": "BACKEND_ERROR"}
    assert result.errors[0].extensions["backend"] == "billing"  # type: ignore[index]
    assert result.data == {
        "account": {"holderName": seeded_world().customer_by_no[account.customer_no].name, "bills": None}
    }


async def test_unknown_account_is_not_found(run: Run) -> None:
    result = await run('{ account(accountNo: "0000000001") { holderName } }')
    assert _codes_by_path(result.errors) == {"account": "NOT_FOUND"}
    result = await run('{ account(accountNo: "12ab") { holderName } }')
    assert _codes_by_path(result.errors) == {"account": "BAD_USER_INPUT"}


async def test_an_esri_error_object_fails_only_the_outages(run: Run, clean_sims: Simulators) -> None:
    _faults(clean_sims, "gis", error_rate=1.0)
    result = await run(SCREEN_POP, {"phone": _caller()})
    codes = _codes_by_path(result.errors)
    assert codes == {"customerByPhone.0.activeOutages": "BACKEND_ERROR"}
    assert result.data["customerByPhone"][0]["accounts"]  # type: ignore[index]


async def test_a_backend_timeout_is_backend_timeout_at_its_path(run: Run, clean_sims: Simulators) -> None:
    _faults(clean_sims, "crm", ops={"batchQueryInteractions": {"latency_ms": 2_000}})
    result = await run(SCREEN_POP, {"phone": _caller()}, timeouts={"crm": 0.3})
    assert _codes_by_path(result.errors) == {"customerByPhone.0.interactions": "BACKEND_TIMEOUT"}
    pop = result.data["customerByPhone"][0]  # type: ignore[index]
    assert pop["interactions"] is None and pop["accounts"] and pop["name"]


async def test_crm_down_falls_back_to_billing_for_who_is_calling(run: Run, clean_sims: Simulators) -> None:
    _faults(clean_sims, "crm", error_rate=1.0)
    world = seeded_world()
    mobile = _caller()
    result = await run(SCREEN_POP, {"phone": mobile})
    pops = result.data["customerByPhone"]  # type: ignore[index]
    assert sorted(p["id"] for p in pops) == sorted(f"KH{n:08d}" for n in world.customers_by_phone[mobile])
    assert all(p["accounts"] and p["name"] for p in pops)
    codes = _codes_by_path(result.errors)
    assert codes and all(path.endswith(".interactions") for path in codes), codes


async def test_crm_down_and_billing_finding_nobody_is_the_crms_failure_not_no_match(
    run: Run, clean_sims: Simulators
) -> None:
    """A number the CRM could not look up and billing does not know: the CRM's coded failure at the
    field, never an empty "no match" that would send the agent to identify a caller the CRM knows."""
    _faults(clean_sims, "crm", error_rate=1.0)
    result = await run(SCREEN_POP, {"phone": "13900000000"})
    assert result.data is not None and result.data["customerByPhone"] is None
    codes = _codes_by_path(result.errors)
    assert codes == {"customerByPhone": "BACKEND_ERROR"}, codes
