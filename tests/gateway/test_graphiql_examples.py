"""GraphiQL's example tabs run as they open: against `make demo`'s own world (the default seed and
size), every tab's query with its variables answers data and no error; and subscriptions work from
the page in a real browser (the page's origin may open the websocket, the token in connection_init).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator

import httpx
import orjson
import pytest

from gateway.http.graphiql import assets_installed
from simulators.world.build import DEFAULT_CUSTOMERS
from tests.support.admin import set_faults
from tests.support.demo_stack import DemoRun, start_demo

BROWSER = {"accept": "text/html,application/xhtml+xml"}
TABS = re.compile(r'<script type="application/json" id="tidegate-example-operations">(.*?)</script>', re.S)
pytestmark = pytest.mark.skipif(not assets_installed(), reason="GraphiQL assets not installed: make install")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """`tidegate demo` with the world `make demo` builds (default seed, 20,000 customers)."""
    home = tmp_path_factory.mktemp("graphiql-demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDEGATE_")}
    env["TIDEGATE_LOCAL_ISSUER_KEY_PATH"] = str(home / "issuer-key.pem")
    env["TIDEGATE_AUDIT_PATH"] = str(home / "audit.jsonl")
    # Each tab must run whole: the pop's 300 ms budget is lifted, or a busy CI machine's slow billing
    # answer (a cut field, BACKEND_TIMEOUT) fails a test about the examples, not about speed.
    env["TIDEGATE_BUDGET_CRITICAL_MS"] = "5000"
    run = start_demo(customers=DEFAULT_CUSTOMERS, env=env, ready_timeout_s=240)
    try:
        assert "bff" in run.children, "".join(run.lines)
        # Billing refuses writes during its nightly settlement (23:30-00:30 Shanghai): not today's point.
        set_faults(run.children["billing"][0], settlement_window=False)
        yield run
    finally:
        if run.proc.poll() is None:
            run.proc.send_signal(signal.SIGINT)
            try:
                run.proc.wait(30)
            except subprocess.TimeoutExpired:
                run.kill()


def _token(bff: str, client: str) -> str:
    r = httpx.post(
        f"{bff.removesuffix('/graphql')}/oauth/token",
        auth=(client, f"{client}-demo-secret"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def _tabs(bff: str) -> list[dict[str, str]]:
    page = httpx.get(bff, headers=BROWSER, timeout=10).text
    (data,) = TABS.findall(page)
    return list(orjson.loads(data))


def test_every_graphiql_example_tab_runs_with_its_variables(demo: DemoRun) -> None:
    bff = demo.children["bff"][0]
    token = _token(bff, "workbench-supervisor")
    tabs = _tabs(bff)
    assert tabs
    for tab in tabs:
        variables = orjson.loads(tab["variables"])
        assert None not in variables.values(), tab["query"][:80]  # every variable has an example
        r = httpx.post(
            bff,
            json={"query": tab["query"], "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        body = r.json()
        assert r.status_code == 200 and "errors" not in body, (tab["query"][:80], body)
        (answer,) = body["data"].values()
        assert answer, (tab["query"][:80], body)  # a caller who exists: not an empty list or null


def test_graphiql_in_a_browser_runs_a_subscription_over_the_page_websocket(demo: DemoRun) -> None:
    """From the GraphiQL page's own origin, under its CSP, graphql-transport-ws answers a
    subscription with the token in connection_init: what the page's `subscriptionUrl` points at."""
    playwright = pytest.importorskip("playwright.sync_api")
    bff = demo.children["bff"][0]
    token = _token(bff, "workbench-supervisor")
    listed = httpx.post(
        bff,
        json={"query": "{ tickets(first: 1) { id } }"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    ticket_id = listed["data"]["tickets"][0]["id"]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(bff)
            page.wait_for_selector(".graphiql-container", timeout=30_000)
            first = page.evaluate(
                """([token, ticketId]) => new Promise((resolve, reject) => {
                  const url = location.origin.replace(/^http/, "ws") + location.pathname;
                  const ws = new WebSocket(url, "graphql-transport-ws");
                  setTimeout(() => reject(new Error("no answer")), 20000);
                  ws.onopen = () => ws.send(JSON.stringify(
                    {type: "connection_init", payload: {Authorization: "Bearer " + token}}));
                  ws.onmessage = (event) => {
                    const message = JSON.parse(event.data);
                    if (message.type === "connection_ack") ws.send(JSON.stringify({id: "1",
                      type: "subscribe", payload: {query:
                        "subscription($t: ID!) { ticketUpdated(ticketId: $t) { id status } }",
                        variables: {t: ticketId}}}));
                    else { ws.close(); resolve(message); }
                  };
                  ws.onerror = () => reject(new Error("websocket error"));
                })""",
                [token, ticket_id],
            )
        finally:
            browser.close()
    # The first event of ticketUpdated is the ticket as it is now.
    assert first["type"] == "next", first
    assert first["payload"]["data"]["ticketUpdated"]["id"] == ticket_id, first
    assert not [e for e in errors if "Content Security Policy" in e], errors
