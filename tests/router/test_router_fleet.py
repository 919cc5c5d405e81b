"""Through Hive Gateway to two replicas behind one URL: the screen pop, a persisted operation by id, a
mutation and subscriptions (SSE and graphql-ws to the router, graphql-ws from the router to Tidegate).

Each answer must be what Tidegate itself gives (masked, refused and coded alike): the router forwards
the person's own token and adds nothing of its own but the survey subgraph's fields.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from bench.graphql_ws import GraphQLWs
from gateway.auth import local_issuer
from gateway.live.webhook_signature import sign
from gateway.settings import Settings
from simulators.world.model import Customer
from tests.router.conftest import WEBHOOK_KEY, Fleet
from tests.support.admin import stats
from tests.support.live import next_data
from tests.support.world import seeded_world, sole_callers

ROOT = Path(__file__).resolve().parents[2]
SCREEN_POP = (ROOT / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")
CREATE = (ROOT / "gql" / "create_ticket.graphql").read_text(encoding="utf-8")
MANIFEST = json.loads((ROOT / "gql" / "manifest.json").read_text(encoding="utf-8"))
SCREEN_POP_ID = next(o["id"] for o in MANIFEST["operations"] if o["name"] == "ScreenPop")
POPS = """subscription($a: ID!) {
  screenPop(agentId: $a) { callId agentId customers { id satisfaction { score } } }
}"""
TICKET = "subscription($id: ID) { ticketUpdated(ticketId: $id) { id status } }"


def _caller(index: int) -> Customer:
    """Callers from the middle of the list: other modules pick theirs from either end."""
    world = seeded_world()
    found = [c for c in sole_callers(world) if world.accounts_of[c.customer_no]]
    return found[len(found) // 2 + index]


def _street_report(grid_index: int, text: str) -> dict[str, Any]:
    """A leak in the middle of a grid, so its worker is assigned (as in tests/e2e/test_create_ticket.py)."""
    grid = seeded_world().grids[grid_index]
    xs, ys = [p[0] for p in grid.ring], [p[1] for p in grid.ring]
    return {
        "category": "LEAK",
        "description": text,
        "lon": (min(xs) + max(xs)) / 2,
        "lat": (min(ys) + max(ys)) / 2,
    }


def _codes(body: dict[str, Any]) -> list[str | None]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


def _ids(body: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(c["id"], [a["accountNo"] for a in c["accounts"]]) for c in body["data"]["customerByPhone"]]


def test_fleet_screen_pop_through_the_router_is_tidegates_own(fleet: Fleet) -> None:
    caller = _caller(0)
    headers = fleet.bff.auth("supervisor")
    body = {"query": SCREEN_POP, "operationName": "ScreenPop", "variables": {"phone": caller.mobile}}
    direct = httpx.post(f"{fleet.bff.url}/graphql", json=body, headers=headers, timeout=30).json()
    routed = fleet.post(body, headers).json()
    assert "errors" not in routed, routed
    assert _ids(routed) == _ids(direct) != []
    assert routed["data"]["customerByPhone"][0]["name"] == direct["data"]["customerByPhone"][0]["name"]

    # Both subgraphs in one answer: Tidegate's customer, the survey subgraph's satisfaction.
    both = fleet.post(
        {
            "query": "query($p: String!) { customerByPhone(phone: $p) { id satisfaction { score } } }",
            "variables": {"p": caller.mobile},
        },
        headers,
    ).json()
    assert "errors" not in both, both
    assert 1 <= both["data"]["customerByPhone"][0]["satisfaction"]["score"] <= 5

    # No token: Tidegate's own refusal (the router invents no identity and holds no token of its own).
    bare = fleet.post(body).json()
    assert set(_codes(bare)) == {"UNAUTHENTICATED"}, bare


def test_fleet_persisted_operation_by_id_through_the_router(fleet: Fleet) -> None:
    caller, agent_id = _caller(1), "A7201"
    assert caller.mobile is not None
    assert fleet.bff.cti("CALL_ANSWERED", agent_id, "router-call-1", caller.mobile).status_code == 204
    agent = fleet.bff.auth("agent", agent_id)
    variables = {"phone": caller.mobile}
    apq = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": SCREEN_POP_ID}},
        "variables": variables,
    }
    by_document_id = {"documentId": f"sha256:{SCREEN_POP_ID}", "variables": variables}
    for request in (apq, by_document_id):
        routed = fleet.post(request, agent).json()
        assert "errors" not in routed, routed
        (customer,) = routed["data"]["customerByPhone"]
        assert customer["id"] == f"KH{caller.customer_no:08d}"
        assert "*" in customer["name"]  # masked for an agent, as Tidegate masks it
    unknown = fleet.post({"documentId": "sha256:" + "0" * 64, "variables": variables}, agent).json()
    assert _codes(unknown) == ["PERSISTED_QUERY_NOT_IN_LIST"]

    # The softphone is list-only at Tidegate: the router's planned fetch is a document, not an id.
    softphone = {"Authorization": f"Bearer {_softphone_token(fleet, agent_id)}"}
    refused = fleet.post(by_document_id, softphone).json()
    assert _codes(refused) == ["PERSISTED_QUERY_ID_REQUIRED"], refused


def _softphone_token(fleet: Fleet, agent_id: str) -> str:
    """A softphone's token (client id and role `softphone`), from the replicas' issuer key."""
    settings = Settings(local_issuer=True, local_issuer_key_path=fleet.bff.issuer_key_path)
    return local_issuer(settings).mint(client_id="softphone", role="softphone", agent_id=agent_id)


def test_fleet_mutation_through_the_router_is_idempotent(fleet: Fleet) -> None:
    grid = seeded_world().grids[1]
    report = _street_report(1, "路面冒水")
    body = {"query": CREATE, "variables": {"input": report, "idempotencyKey": str(uuid.uuid4())}}
    headers = fleet.bff.auth("supervisor")
    creates = _creates(fleet)
    first, again = fleet.post(body, headers).json(), fleet.post(body, headers).json()
    assert "errors" not in first, first
    assert first == again  # the retry, perhaps on the other replica, gets the same ticket
    assert _creates(fleet) == creates + 1
    assert first["data"]["createTicket"]["assignee"]["id"] == grid.worker.worker_id


def _creates(fleet: Fleet) -> int:
    ops = stats(fleet.sims["workorders"].url)["operations"]
    return int(ops.get("createOrder", {}).get("requests", 0))


async def test_fleet_subscriptions_through_the_router_sse_and_graphql_ws(fleet: Fleet) -> None:
    """A ring posted to a replica reaches an SSE subscriber at the router (with the survey's field
    joined to each customer); a graphql-ws subscriber at the router gets a ticket's first state."""
    caller, agent_id = _caller(2), "A7301"
    assert caller.mobile is not None
    headers = {**fleet.bff.auth("supervisor"), "Accept": "text/event-stream"}
    body = {"query": POPS, "variables": {"a": agent_id}}
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("POST", fleet.graphql, json=body, headers=headers) as stream,
    ):
        assert stream.status_code == 200
        assert fleet.bff.cti("CALL_RINGING", agent_id, "router-ring-1", caller.mobile).status_code == 204
        event = await anext(_sse_events(stream))
    pop = event["data"]["screenPop"]
    assert (pop["callId"], pop["agentId"]) == ("router-ring-1", agent_id)
    assert [c["id"] for c in pop["customers"]] == [f"KH{caller.customer_no:08d}"]
    assert pop["customers"][0]["satisfaction"]["score"] in range(1, 6)

    ticket = _ticket(fleet)
    ws_url = fleet.graphql.replace("http://", "ws://")
    async with GraphQLWs.connect(ws_url, fleet.bff.token("supervisor")) as ws:
        op = await ws.subscribe(TICKET, {"id": ticket})
        assert (await next_data(ws, op))["ticketUpdated"] == {"id": ticket, "status": "DISPATCHED"}


async def _sse_events(stream: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The `next` events' payloads of a GraphQL over SSE answer (distinct connections mode)."""
    kind = ""
    async with asyncio.timeout(20):  # a safety net against a hang, not a latency assertion
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                kind = line.removeprefix("event:").strip()
            elif line.startswith("data:") and kind == "next":
                yield json.loads(line.removeprefix("data:"))


def _ticket(fleet: Fleet) -> str:
    report = _street_report(2, "井盖松动")
    body = {"query": CREATE, "variables": {"input": report, "idempotencyKey": str(uuid.uuid4())}}
    created = fleet.post(body, fleet.bff.auth("supervisor")).json()
    assert "errors" not in created, created
    return str(created["data"]["createTicket"]["id"])


MIXED = """query ($ids: [ID!]!, $a: ID!, $b: ID!) {
  surveyCalls(customerIds: $ids) { id customer { id name kind satisfaction { score } } }
  a: customer(id: $a) { id name }
  b: customer(id: $b) { id name }
}"""


def test_fleet_one_refused_customer_beside_an_allowed_one(fleet: Fleet) -> None:
    """Issue 20 through Hive Gateway: an agent on a call with A asks for A and for B (not on the call),
    by alias and through the survey subgraph's non-null `SurveyCall.customer!`. A arrives whole; B is
    null at `b` and blank (its Tidegate fields null) in `surveyCalls`, FORBIDDEN on B's paths only,
    and `data` stands: before, the error landed on `Customer.name: String!` and `data` was null."""
    caller, agent_id = _caller(3), "A7401"
    assert caller.mobile is not None
    assert fleet.bff.cti("CALL_ANSWERED", agent_id, "router-mixed-1", caller.mobile).status_code == 204
    agent = fleet.bff.auth("agent", agent_id)
    popped = fleet.post(
        {
            "query": "query($p: String!) { customerByPhone(phone: $p) { id } }",
            "variables": {"p": caller.mobile},
        },
        agent,
    ).json()
    matched = {c["id"] for c in popped["data"]["customerByPhone"]}
    a = f"KH{caller.customer_no:08d}"
    b = next(f"KH{n:08d}" for n in range(1, 50) if f"KH{n:08d}" not in matched)

    body = fleet.post({"query": MIXED, "variables": {"ids": [a, b], "a": a, "b": b}}, agent).json()
    assert body["data"] is not None, body
    first, second = body["data"]["surveyCalls"]
    assert first["customer"]["id"] == a and "*" in first["customer"]["name"] and first["customer"]["kind"]
    assert second["customer"]["id"] == b
    assert (second["customer"]["name"], second["customer"]["kind"]) == (None, None)
    assert second["customer"]["satisfaction"]["score"] in range(1, 6)  # the survey's own field survives
    assert body["data"]["a"] == {"id": a, "name": first["customer"]["name"]}
    assert body["data"]["b"] is None
    errors = body["errors"]
    assert errors and set(_codes(body)) == {"FORBIDDEN"}, body
    paths = [e["path"] for e in errors]
    assert ["b"] in paths
    assert all(p == ["b"] or p[:3] == ["surveyCalls", 1, "customer"] for p in paths), paths
    assert fleet.bff.cti("CALL_ENDED", agent_id, "router-mixed-1").status_code == 204


async def test_fleet_a_webhooks_status_change_reaches_a_graphql_ws_subscriber_at_the_router(
    fleet: Fleet,
) -> None:
    """A live event, not only the first state: the work-order system's signed status change, posted
    to a replica, reaches a graphql-ws subscriber at the router, through the router's own graphql-ws
    socket to Tidegate (the `ws` transport entry; without it Hive Gateway's subscription fails)."""
    ticket = _ticket(fleet)
    ws_url = fleet.graphql.replace("http://", "ws://")
    async with GraphQLWs.connect(ws_url, fleet.bff.token("supervisor")) as ws:
        op = await ws.subscribe(TICKET, {"id": ticket})
        assert (await next_data(ws, op))["ticketUpdated"] == {"id": ticket, "status": "DISPATCHED"}
        # The field worker acknowledges it in the work-order system, which then signs the change to
        # Tidegate (the bus only says "look again": the subscriber's replica reads the order anew).
        _acknowledge(fleet, ticket)
        change = {"type": "order.status_changed", "order_no": ticket, "status": "03", "seq": 3}
        posted = _webhook(fleet, {**change, "changed_at": int(time.time() * 1000)})
        assert posted.json() == {"outcome": "applied"}, posted.text
        assert (await next_data(ws, op))["ticketUpdated"] == {"id": ticket, "status": "ACKNOWLEDGED"}


def _webhook(fleet: Fleet, event: dict[str, Any]) -> httpx.Response:
    """A status change as the work-order system signs it (Standard Webhooks), to the replicas."""
    body, message_id, stamp = json.dumps(event).encode(), f"msg_{uuid.uuid4().hex}", int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign([WEBHOOK_KEY], message_id, stamp, body),
    }
    return httpx.post(f"{fleet.bff.url}/webhooks/workorders", content=body, headers=headers, timeout=10)


def _acknowledge(fleet: Fleet, ticket: str) -> None:
    """The field worker acknowledges the order in the work-order system (status 03)."""
    wo = fleet.sims["workorders"].url
    moved = httpx.post(f"{wo}/wo/api/orders/{ticket}/transition", json={"to": "03", "operator": "W001"})
    assert moved.status_code == 200, moved.text
