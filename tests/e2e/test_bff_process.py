"""The BFF as a real process over real HTTP, in front of the four simulator processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Simulators
from tests.support.processes import BffProcess, start_bff
from tests.support.world import seeded_world

SCREEN_POP = (Path(__file__).parents[2] / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bff(sims: Simulators) -> Iterator[BffProcess]:
    for name in ("billing", "crm", "gis", "workorders"):
        _ = sims[name]  # start them all before the BFF points at them
    started = start_bff(sims)
    try:
        yield started
    finally:
        started.stop()


def test_screen_pop_over_http(bff: BffProcess) -> None:
    world = seeded_world()
    customer = next(c for c in world.customers if c.mobile and len(world.accounts_of[c.customer_no]) > 1)
    r = httpx.post(
        f"{bff.url}/graphql",
        json={"query": SCREEN_POP, "variables": {"phone": customer.mobile}},
        headers=bff.auth(),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert "errors" not in body, body.get("errors")
    pops = {p["id"]: p for p in body["data"]["customerByPhone"]}
    pop = pops[f"KH{customer.customer_no:08d}"]
    assert len(pop["accounts"]) == len(world.accounts_of[customer.customer_no])
    assert all(a["balance"]["yuan"].count(".") == 1 for a in pop["accounts"])


def test_every_error_over_http_carries_a_code(bff: BffProcess) -> None:
    auth = bff.auth()
    cases = [
        httpx.post(
            f"{bff.url}/graphql", content=b"{nope", headers={"Content-Type": "application/json", **auth}
        ),
        httpx.post(
            f"{bff.url}/graphql", json={"query": "{ customerByPhone(phone: 1) { id } }"}, headers=auth
        ),
        httpx.post(
            f"{bff.url}/graphql",
            json={"query": '{ account(accountNo: "0000000001") { holderName } }'},
            headers=auth,
        ),
        httpx.post(f"{bff.url}/graphql", json={"query": "{ customer(id: "}, headers=auth),
    ]
    for r in cases:
        assert r.status_code < 500
        errors = r.json()["errors"]
        assert errors and all(e["extensions"]["code"] for e in errors), r.text
    assert [r.json()["errors"][0]["extensions"]["code"] for r in cases] == [
        "BAD_REQUEST",
        "GRAPHQL_VALIDATION_FAILED",
        "NOT_FOUND",
        "GRAPHQL_PARSE_FAILED",
    ]


def test_graphiql_is_not_served_outside_dev_mode(bff: BffProcess) -> None:
    # The demo serves it (tests/gateway/test_demo.py); a BFF with its defaults says where it lives.
    page = httpx.get(f"{bff.url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"] == "application/json"
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
