"""The supervisor's board in a real browser: Debian's chromium driven by Playwright, against a real BFF
process (persisted-only, as in production) and the four simulators.

Signed CTI events change the queue and the agent's state on the page without a reload; the breakers
and the active outage (with the call from inside it) are shown; the page sends persisted ids only,
no request leaves 127.0.0.1 and the console stays clean. `make board-screenshot` runs this test with
TIDEGATE_BOARD_SCREENSHOT set, and it saves the board mid-call there (docs/images/board.png).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Request, expect, sync_playwright

from gateway.persisted.manifest import load_manifest
from tests.conftest import Simulators
from tests.e2e.test_board_query import caller_in_burst
from tests.support.processes import BffProcess, start_bff
from tests.support.world import seeded_world

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_SUPERVISOR_SECRET = "workbench-supervisor-demo-secret"  # docs/security.md's demo client
AGENT = "B4001"
SCREEN_POP = next(op for op in load_manifest() if op.name == "ScreenPop")
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def persisted_bff(sims: Simulators) -> Iterator[BffProcess]:
    """A BFF that runs manifest operations only, for everyone (production's default)."""
    for name in ("billing", "crm", "gis", "workorders"):
        _ = sims[name]
    only_ids = {"TIDEGATE_PERSISTED_ONLY": "true", "TIDEGATE_PERSISTED_FREE_FORM_ROLES": ""}
    started = start_bff(sims, env=only_ids)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def page() -> Iterator[Page]:
    profile = tempfile.mkdtemp(prefix="board-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1366, "height": 900},
                locale="zh-CN",
            )
            try:
                yield context.pages[0] if context.pages else context.new_page()
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_board_in_a_real_browser_follows_calls(persisted_bff: BffProcess, page: Page) -> None:
    bff = persisted_bff
    world = seeded_world()
    caller = caller_in_burst(world)
    assert caller.mobile is not None
    burst = next(o for o in world.outages if o.kind == 2 and o.status == 1)
    requests: list[Request] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(f"{bff.url}/board")
    expect(page.get_by_role("heading", name="班长看板")).to_be_visible()
    page.get_by_label("密钥").fill(DEMO_SUPERVISOR_SECRET)
    page.get_by_role("button", name="登录").click()

    billing = page.locator("tr[data-backend=billing] [data-breaker]")
    expect(billing).to_have_attribute("data-breaker", "closed", timeout=WAIT_MS)
    expect(billing).to_have_text("闭合")
    expect(page.locator(f"tr[data-outage={burst.outage_id}]")).to_be_visible()
    expect(page.get_by_role("img", name="每分钟来电（近 15 分钟）", exact=False)).to_be_visible()
    assert page.locator("#calls-chart canvas").count() == 1, "uPlot drew the calls chart"

    assert bff.cti("CALL_RINGING", AGENT, "board-browser-1", caller.mobile).status_code == 204
    state = page.locator(f"tr[data-agent={AGENT}] [data-state]")
    expect(state).to_have_attribute("data-state", "RINGING", timeout=WAIT_MS)
    expect(state).to_have_text("振铃")
    expect(page.locator("#ringing")).to_have_text("1")
    outage_calls = page.locator(f"tr[data-outage={burst.outage_id}] [data-calls]")

    assert bff.cti("CALL_ANSWERED", AGENT, "board-browser-1", caller.mobile).status_code == 204
    expect(state).to_have_attribute("data-state", "ANSWERED", timeout=WAIT_MS)
    expect(page.locator("#ringing")).to_have_text("0")
    expect(page.locator("#answered")).to_have_text("1")
    # The agent's workbench asks for the pop (by id): the board's p50/p99 now count it.
    pop = httpx.post(
        f"{bff.url}/graphql",
        json={"documentId": f"sha256:{SCREEN_POP.id}", "variables": {"phone": caller.mobile}},
        headers=bff.auth("agent", AGENT),
        timeout=10,
    )
    assert pop.status_code == 200 and "errors" not in pop.json(), pop.text
    expect(page.locator("#pops")).to_have_text("1", timeout=WAIT_MS)
    expect(page.locator("#pop-p50")).not_to_have_text("–")
    expect(outage_calls).to_have_attribute("data-calls", "1", timeout=WAIT_MS)  # the caller is inside

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Supervisor board")).to_be_visible()
    expect(state).to_have_text("On call")
    expect(page.get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "true")
    if shot := os.environ.get("TIDEGATE_BOARD_SCREENSHOT"):
        page.get_by_role("button", name="中文").click()
        expect(state).to_have_text("通话中")
        Path(shot).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=shot, full_page=True)

    assert bff.cti("CALL_ENDED", AGENT, "board-browser-1").status_code == 204
    expect(state).to_have_attribute("data-state", "IDLE", timeout=WAIT_MS)
    expect(outage_calls).to_have_attribute("data-calls", "0", timeout=WAIT_MS)

    assert requests, "the page made requests"
    off_host = [r.url for r in requests if not r.url.startswith(f"{bff.url}/")]
    assert off_host == []
    graphql = [r for r in requests if r.url == f"{bff.url}/graphql"]
    assert graphql, "the board polled"
    for sent in graphql:
        body = json.loads(sent.post_data or "{}")
        assert set(body) == {"documentId"} and body["documentId"].startswith("sha256:"), body
    assert problems == []
