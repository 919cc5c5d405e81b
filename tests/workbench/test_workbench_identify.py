"""A caller Tidegate does not know, identified in the workbench (issue 17), in chromium.

A module of its own, so its BFF and billing are fresh: the other module slows billing past the
deadline on purpose, which leaves billing's circuit breaker open for a while, and the search by 户号
asks billing.
"""

from __future__ import annotations

import re
from datetime import date

from simulators.world import build_world, phone_key
from tests.support.audit import wait_for_audit
from tests.support.processes import CTI_SECRET, TEST_AS_OF, TEST_SEED
from tests.workbench.conftest import Stack, Watched
from tests.workbench.test_workbench_browser import sign_in

UNKNOWN = "13800138000"  # the README's number: nobody in the seeded district has it


def _identifiable_caller() -> tuple[str, str, str, str]:
    """A customer of the module's world with an ID number and an account, not one the other tests ring:
    (customer id, account number, last four of the ID number, street) as the caller would say them."""
    world = build_world(TEST_SEED, 300, date.fromisoformat(TEST_AS_OF))
    for customer in world.customers[40:]:
        accounts = world.accounts_of[customer.customer_no]
        found = re.search(r"区(.+?)\d+号", accounts[0].premises.address) if accounts else None
        if customer.id_card and found:
            kh = f"KH{customer.customer_no:08d}"
            return kh, accounts[0].account_no, customer.id_card[-4:], found.group(1)
    raise AssertionError("the seeded world has no customer with an ID number and an account")


def test_workbench_unknown_caller_is_identified_and_bound(stack: Stack, watched: Watched) -> None:
    """A number nobody has rings: the pop says "not identified" (no error), and the agent searches by
    户号, answers one question wrong (told how many tries are left), verifies, binds with a reason;
    the BFF's pushed pop then shows that customer on the same call."""
    world = build_world(TEST_SEED, 300, date.fromisoformat(TEST_AS_OF))
    assert phone_key(UNKNOWN) not in world.customers_by_phone
    customer_id, account_no, last4, street = _identifiable_caller()
    page = watched.page
    sign_in(page, stack, "A1003")
    call_id = "wb-unknown-caller"
    assert stack.bff.cti("CALL_RINGING", "A1003", call_id, UNKNOWN, secret=CTI_SECRET).status_code == 204
    panel = page.get_by_test_id("no-match")
    panel.wait_for()
    assert "Caller not identified" in panel.inner_text()
    assert panel.get_attribute("data-status") == "NO_MATCH"
    assert page.get_by_test_id("pop").get_attribute("data-call-id") == call_id
    page.get_by_role("button", name="Answer").click()
    page.wait_for_selector("[data-phase=oncall]")

    panel.get_by_label("Account number").fill(account_no)
    panel.get_by_role("button", name="Search").click()
    candidate = panel.get_by_test_id("candidate")
    page.wait_for_selector("[data-testid=candidate], [data-testid=identify-error], [data-testid=candidates]")
    assert candidate.count() == 1, panel.inner_text()
    shown = candidate.inner_text()
    assert "*" in shown and account_no not in shown  # candidates are masked
    candidate.get_by_role("button", name="Verify this customer").click()
    wrong = "0000" if last4 != "0000" else "1111"
    panel.get_by_label("Last four of the ID number").fill(wrong)
    panel.get_by_label("Street").fill(street)
    panel.get_by_role("button", name="Verify", exact=True).click()
    assert "attempts left: 2" in page.get_by_test_id("wrong-answer").inner_text()
    panel.get_by_label("Last four of the ID number").fill(last4)
    panel.get_by_role("button", name="Verify", exact=True).click()
    reason = "caller on a neighbour's phone; ID last four and street checked"
    panel.get_by_label("Reason for binding (audited)").fill(reason)
    panel.get_by_role("button", name="Bind the call").click()

    # The pushed pop: the bound customer on the same call, still on call; the panel is gone.
    page.wait_for_function(
        "(id) => [...document.querySelectorAll('[data-testid=pop] .tags')]"
        ".some((e) => e.textContent.includes(id))",
        arg=customer_id,
        timeout=10_000,
    )
    assert page.get_by_test_id("no-match").count() == 0
    assert page.get_by_test_id("pop").get_attribute("data-call-id") == call_id
    assert page.get_by_test_id("phase").get_attribute("data-phase") == "oncall"
    bound = wait_for_audit(
        stack.bff.audit_path, lambda r: r.get("event") == "call_bound" and r.get("call_id") == call_id
    )
    assert bound and (bound[-1]["customer"], bound[-1]["reason"]) == (customer_id, reason)
    page.get_by_role("button", name="Hang up").click()
    page.get_by_test_id("cleared").wait_for()
