"""The workbench in a real browser: Debian's chromium driven by Playwright, against a real BFF and
the four simulators as real processes (their own, so faults and webhooks here touch no other test).
One browser and one BFF per module; each test gets a fresh page whose requests and console are
recorded and checked when it ends (nothing off 127.0.0.1, no console errors)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, WebSocket, sync_playwright

from gateway.demo_secrets import DEMO_WEBHOOK_SECRET
from gateway.http.workbench import bundle_built
from tests.support.processes import BffProcess, SimProcess, start_bff, start_simulator

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@dataclass
class Stack:
    sims: dict[str, SimProcess]
    bff: BffProcess

    @property
    def workbench(self) -> str:
        return f"{self.bff.url}/workbench"


def start_stack(env: dict[str, str] | None = None) -> Stack:
    """The simulators (300 customers) and a BFF sending webhooks' way, persisted-only like production:
    the workbench sends ids, never documents, so it must work there."""
    sims: dict[str, SimProcess] = {}
    try:
        for name in ("billing", "crm", "gis", "workorders"):
            sims[name] = start_simulator(name, customers=300)
        bff = start_bff(
            sims,
            env={
                "TIDEGATE_PERSISTED_ONLY": "true",
                "TIDEGATE_WORKORDERS_WEBHOOK_SECRETS": DEMO_WEBHOOK_SECRET,
                **(env or {}),
            },
        )
    except Exception:
        for sim in sims.values():
            sim.stop()
        raise
    hooks = {"url": f"{bff.url}/webhooks/workorders", "secrets": [DEMO_WEBHOOK_SECRET], "duplicate_rate": 0}
    httpx.patch(f"{sims['workorders'].url}/_sim/webhooks", json=hooks).raise_for_status()
    return Stack(sims, bff)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if not bundle_built():
        pytest.fail("the workbench bundle is missing: run `make install` (tests/workbench need it)")
    # Accounts go stale at once and may stand in for an hour when billing is late: a second ring of a
    # caller while billing is slow shows them marked "as of" (the first ring of anyone still asks billing).
    started = start_stack(
        {
            "TIDEGATE_CACHE_ACCOUNTS_TTL_S": "0.05",
            "TIDEGATE_CACHE_ACCOUNTS_SWR_S": "0",
            "TIDEGATE_CACHE_ACCOUNTS_SIE_S": "3600",
        }
    )
    try:
        yield started
    finally:
        started.bff.stop()
        for sim in started.sims.values():
            sim.stop()


@pytest.fixture(scope="module")
def browser_context() -> Iterator[BrowserContext]:
    """One chromium per module, with a user-data-dir of its own."""
    profile = Path(tempfile.mkdtemp(prefix="workbench-chromium-"))
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1366, "height": 768},
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Watched:
    """A page and what it did: every request's URL and every console error."""

    page: Page
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    documents_sent: list[str] = field(default_factory=list)  # any GraphQL text that left the page
    operations_sent: int = 0

    def check_clean(self) -> None:
        off_host = [u for u in self.requests if urlsplit(u).hostname not in LOCAL_HOSTS]
        assert not off_host, f"requests left 127.0.0.1: {off_host}"
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.documents_sent, f"the workbench sent query text: {self.documents_sent}"

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)
        if request.method == "POST" and urlsplit(request.url).path == "/graphql":
            self._operation(json.loads(request.post_data or "{}"))

    def on_websocket(self, socket: WebSocket) -> None:
        self.requests.append(socket.url)

        def sent(frame: str | bytes) -> None:
            message = json.loads(frame)
            if message.get("type") == "subscribe":
                self._operation(message["payload"])

        socket.on("framesent", sent)

    def _operation(self, payload: dict[str, object]) -> None:
        """Counted, and its text kept if it carried any (it must name a persisted id instead)."""
        self.operations_sent += 1
        if payload.get("query"):
            self.documents_sent.append(str(payload["query"])[:80])


@pytest.fixture
def watched(browser_context: BrowserContext) -> Iterator[Watched]:
    page = browser_context.new_page()
    seen = Watched(page)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.console_errors.append(message.text)

    page.on("request", seen.on_request)
    page.on("websocket", seen.on_websocket)
    page.on("console", console)
    page.on("pageerror", lambda e: seen.console_errors.append(str(e)))
    try:
        yield seen
    finally:
        page.close()
    seen.check_clean()
