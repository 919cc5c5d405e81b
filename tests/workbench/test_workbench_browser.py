"""The agent workbench driven in chromium: a call from ring to wrap-up, as an agent takes it.

Each test signs in through the demo's issuer, rings itself through the demo softphone (Tidegate
signs the CTI event) and works the page by its accessible names and test ids.
"""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from simulators.world import build_world
from tests.support.processes import CTI_SECRET, TEST_AS_OF, TEST_SEED
from tests.workbench.conftest import Stack, Watched

CALLER = "2"  # customer #2 (a caller with accounts in the 300-customer world)


def sign_in(page: Page, stack: Stack, agent: str) -> None:
    page.goto(stack.workbench)
    page.get_by_role("button", name="English").click()  # the toggle: labels below are English
    page.get_by_label("Agent", exact=True).select_option(agent)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Ring me").wait_for()


def ring(page: Page, caller: str = CALLER) -> None:
    page.get_by_label("Customer", exact=True).select_option(caller)
    page.get_by_role("button", name="Ring me").click()
    page.get_by_test_id("pop").wait_for()


def timings(page: Page) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate("() => window.__workbench.timings")
    return result


def audit_lines(stack: Stack) -> list[dict[str, Any]]:
    path = stack.bff.audit_path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_workbench_ring_pops_before_answer_masked_reveal_audited(stack: Stack, watched: Watched) -> None:
    page = watched.page
    sign_in(page, stack, "A1001")
    ring(page)
    assert page.get_by_test_id("phase").get_attribute("data-phase") == "ringing"  # before the answer
    page.wait_for_function("() => window.__workbench.timings.length > 0")
    measured = timings(page)[-1]
    popped, prefetched = measured["popMs"], measured["prefetched"]
    print(f"\nworkbench ring -> last pop card rendered: {popped:.1f} ms (prefetched: {prefetched})")
    assert measured["popMs"] > 0
    for card in ("customer", "accounts", "tickets", "history"):
        assert page.locator(f"[data-card={card}]").first.is_visible()
    mobile = page.get_by_test_id("customer-mobile").first
    masked = mobile.inner_text()
    assert "*" in masked, masked
    page.get_by_role("button", name="Answer").click()
    page.wait_for_selector("[data-phase=oncall]")
    page.keyboard.press("Alt+R")  # the reveal shortcut
    dialog = page.get_by_test_id("reveal-dialog")
    confirm = dialog.get_by_role("button", name="Confirm")
    assert confirm.is_disabled()  # no reason, no reveal
    dialog.get_by_label("Reason (audited)").fill("caller verifying their mobile number")
    confirm.click()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=customer-mobile]').textContent.includes('*')"
    )
    revealed = mobile.inner_text()
    assert revealed.strip() and "*" not in revealed
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        records = [r for r in audit_lines(stack) if r.get("event") == "pii_revealed"]
        if records:
            break
        time.sleep(0.1)
    assert records and records[-1]["reason"] == "caller verifying their mobile number"
    assert records[-1]["agent_id"] == "A1001" and records[-1]["customer"].startswith("KH")
    assert revealed not in json.dumps(records)  # the audit trail never holds the value
    assert watched.operations_sent >= 3  # the pop subscription, the account query, the reveal: all by id


def test_workbench_double_click_files_one_ticket_and_follows_it_live(stack: Stack, watched: Watched) -> None:
    page = watched.page
    sign_in(page, stack, "A1002")
    ring(page)
    page.get_by_role("button", name="Answer").click()
    page.wait_for_selector("[data-phase=oncall]")
    page.keyboard.press("Alt+N")  # the new-ticket shortcut
    form = page.get_by_test_id("ticket-form")
    form.get_by_label("Description").fill("water running from the meter box")
    page.get_by_test_id("mains-map").click(position={"x": 130, "y": 110})
    form.get_by_role("button", name="Submit").dblclick()
    created = page.get_by_test_id("created-ticket")
    created.wait_for()
    order_no = created.get_attribute("data-ticket-id")
    assert order_no
    wo = stack.sims["workorders"].url
    orders = httpx.get(f"{wo}/wo/api/orders", params={"cust_code": "KH-00000002", "size": 100}).json()["list"]
    mine = [o for o in orders if o["description"].startswith("water running from the meter box")]
    assert len(mine) == 1, mine  # a double click, one work order
    # The crew takes the job and completes it: each change comes back by webhook, live on the page.
    path = ("02", "03", "05", "06")
    status = mine[0]["status"]
    for target in path[path.index(status) + 1 if status in path else 0 :]:
        body = {"to": target, "operator": "W001"}
        httpx.post(f"{wo}/wo/api/orders/{order_no}/transition", json=body).raise_for_status()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ticket-status]').textContent === 'COMPLETED'",
        timeout=15_000,
    )


def test_workbench_call_end_clears_the_page_and_a_reread_is_refused(stack: Stack, watched: Watched) -> None:
    page = watched.page
    sign_in(page, stack, "A1003")
    ring(page)
    page.keyboard.press("Alt+A")  # answer
    page.wait_for_selector("[data-phase=oncall]")
    page.keyboard.press("Alt+W")  # wrap-up
    wrap = page.get_by_test_id("wrapup-form")
    wrap.get_by_label("Disposition").select_option("RESOLVED")
    wrap.get_by_label("Interaction note").fill("asked about the last bill")
    wrap.get_by_role("button", name="Finish and end the call").click()
    page.get_by_test_id("cleared").wait_for()
    assert page.get_by_test_id("pop").count() == 0  # the customer's data is gone from the screen
    assert "*" not in page.locator("main").inner_text()
    page.get_by_role("button", name="Try to read again").click()
    result = page.get_by_test_id("reread-result")
    result.wait_for()
    assert "FORBIDDEN" in result.inner_text()


def test_workbench_slow_billing_shows_a_partial_pop_billing_marked(stack: Stack, watched: Watched) -> None:
    page = watched.page
    billing = stack.sims["billing"].url
    before = httpx.get(f"{billing}/_sim/faults").json()
    slow = {"ops": {"GetAccounts": {"latency_ms": 4_000}}}
    httpx.patch(f"{billing}/_sim/faults", json=slow).raise_for_status()
    try:
        sign_in(page, stack, "A1004")
        ring(page, "3")
        page.wait_for_selector("[data-card=accounts][data-partial=true]", timeout=15_000)
        accounts = page.locator("[data-card=accounts]").first
        assert "Part of this answer is missing" in accounts.inner_text()
        assert page.locator("[data-card=customer]").first.is_visible()  # the rest still shows
        assert page.get_by_test_id("customer-name").first.inner_text().strip()
    finally:
        httpx.put(f"{billing}/_sim/faults", json=before).raise_for_status()


def test_workbench_slow_billing_serves_known_accounts_marked_stale(stack: Stack, watched: Watched) -> None:
    page = watched.page
    sign_in(page, stack, "A1006")
    ring(page, "5")  # billing answers: the accounts are cached
    page.locator("[data-card=accounts] .account").first.wait_for()
    assert page.locator("[data-card=accounts] [data-testid=stale]").count() == 0  # fresh from billing
    page.get_by_role("button", name="Hang up").click()
    page.get_by_test_id("cleared").wait_for()
    billing = stack.sims["billing"].url
    before = httpx.get(f"{billing}/_sim/faults").json()
    slow = {"ops": {"GetAccounts": {"latency_ms": 4_000}}}
    httpx.patch(f"{billing}/_sim/faults", json=slow).raise_for_status()
    try:
        ring(page, "5")
        page.wait_for_selector("[data-card=accounts] [data-testid=stale]", timeout=15_000)
        accounts = page.locator("[data-card=accounts]").first
        assert "May be out of date" in accounts.inner_text()  # Account.freshness: served "as of"
        assert accounts.get_attribute("data-partial") == "false"  # served, from the cache, and said so
    finally:
        httpx.put(f"{billing}/_sim/faults", json=before).raise_for_status()


@pytest.mark.parametrize("path", ["/workbench"])
def test_workbench_page_headers_forbid_other_origins(stack: Stack, path: str) -> None:
    r = httpx.get(f"{stack.bff.url}{path}")
    assert r.status_code == 200
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "tidegate-workbench-config" in r.text and '"demo":true' in r.text


def test_workbench_softphone_bar_follows_the_cti(stack: Stack, watched: Watched) -> None:
    """Answered and ended at the phone (the CTI tells Tidegate, not this page): the bar follows, and
    the customer's data leaves the screen when the call ends."""
    page = watched.page
    sign_in(page, stack, "A1003")
    ring(page, "7")
    call_id = page.get_by_test_id("pop").get_attribute("data-call-id")
    assert call_id
    assert stack.bff.cti("CALL_ANSWERED", "A1003", call_id, secret=CTI_SECRET).status_code == 204
    page.wait_for_selector("[data-phase=oncall]")
    assert stack.bff.cti("CALL_ENDED", "A1003", call_id, secret=CTI_SECRET).status_code == 204
    page.get_by_test_id("cleared").wait_for()
    assert page.get_by_test_id("pop").count() == 0
    assert page.get_by_test_id("phase").get_attribute("data-phase") == "idle"


def _caller_in_an_active_outage() -> tuple[int, str]:
    """A customer of the module's 300-customer world whose account taps a main an active outage cut off."""
    world = build_world(TEST_SEED, 300, date.fromisoformat(TEST_AS_OF))
    active = {o.outage_id: set(o.main_ids) for o in world.outages if o.status == 1}
    for account in world.accounts:
        for outage_id, mains in active.items():
            if account.main_id in mains and world.customer_by_no[account.customer_no].mobile:
                return account.customer_no, outage_id
    raise AssertionError("the seeded world has no caller inside an active outage")


def test_workbench_pop_shows_the_red_outage_banner(stack: Stack, watched: Watched) -> None:
    customer_no, outage_id = _caller_in_an_active_outage()
    page = watched.page
    sign_in(page, stack, "A1005")
    assert page.evaluate("(no) => window.__workbench.ring(no)", str(customer_no))
    banner = page.get_by_test_id("outage-banner").first
    banner.wait_for()
    assert "Estimated restore" in banner.inner_text() and banner.get_attribute("role") == "alert"
    assert banner.get_attribute("data-outage-id") == outage_id


def test_workbench_token_is_refreshed_before_it_expires(stack: Stack, watched: Watched) -> None:
    """The token lives in memory and is asked for again at 80 % of its life: the page's clock is
    moved past that point (Playwright's clock), and the next operation carries the new token."""
    page = watched.page
    page.clock.install()
    issued: list[Any] = []
    bearers: list[str] = []
    page.on("response", lambda r: issued.append(r) if r.url.endswith("/workbench/demo/token") else None)
    page.on(
        "request",
        lambda r: bearers.append(r.headers.get("authorization", "")) if r.url.endswith("/graphql") else None,
    )
    sign_in(page, stack, "A1003")  # the softphone-bar test above ends its call
    assert len(issued) == 1
    first = issued[0].json()
    assert first["expires_in"] == 900
    page.clock.run_for(700_000)  # 700 s: before 80 % of 900 s, nothing is asked for
    assert len(issued) == 1
    page.clock.run_for(30_000)  # 730 s: past 720 s
    deadline = time.monotonic() + 10
    while len(issued) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert len(issued) == 2, "the token was not refreshed before it expired"
    second = issued[1].json()
    assert second["access_token"] != first["access_token"]
    before = len(bearers)
    # The pop itself comes over the websocket; the account cards then ask over HTTP, after the pop
    # has rendered, so the test waits for that first request rather than reading the list at once.
    with page.expect_request(lambda r: r.url.endswith("/graphql")):
        ring(page)  # the ring and the pop run after the refresh
    sent = bearers[before:]
    assert sent and all(b == f"Bearer {second['access_token']}" for b in sent), sent[:3]
