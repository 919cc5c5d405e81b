"""Live updates across Tidegate processes: three `tidegate serve` processes sharing one redis-server, the
simulators as processes, real tokens, signed CTI events and signed work-order webhooks, and the agent's
websocket on a different process from the CTI's event, the webhook and the agent's next query.

The work-order simulator is this module's own, so its webhook subscription points at our processes
and nobody else's tests see it.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import redis

from bench.graphql_ws import GraphQLWs
from tests.conftest import Simulators
from tests.support.admin import stats
from tests.support.field_crew import file_order, move_order
from tests.support.live import next_data, until
from tests.support.processes import BffProcess, SimProcess, start_bff, start_simulator
from tests.support.redis_server import RedisProcess, start_redis
from tests.support.world import seeded_world, sole_callers

SCREEN_POP = (Path(__file__).parents[2] / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")
POPS = "subscription($a: ID!) { screenPop(agentId: $a) { callId prefetched customers { id name } } }"
TICKET = "subscription($id: ID) { ticketUpdated(ticketId: $id) { id status updatedAt } }"
ONE = "query($id: ID!) { customer(id: $id) { id name } }"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"tidegate-e2e-webhook-secret-32by").decode()
CACHE_KEY = base64.urlsafe_b64encode(bytes(range(32, 64))).decode()


@dataclass
class Fleet:
    """Three BFF processes on one Redis: `a` holds websockets, `b` takes the CTI and the webhooks,
    `c` answers the agent's queries."""

    a: BffProcess
    b: BffProcess
    c: BffProcess
    workorders: SimProcess
    sims: dict[str, SimProcess]
    redis: RedisProcess

    def ws(self, bff: BffProcess) -> str:
        return bff.url.replace("http://", "ws://") + "/graphql"

    def subscribers(self, channel: str) -> int:
        """What Redis counts on `channel`: a stream is live once its process has subscribed."""
        client = redis.Redis(port=self.redis.port)
        try:
            ((_, count),) = cast("list[tuple[Any, int]]", client.pubsub_numsub(channel))
        finally:
            client.close()
        return count


@pytest.fixture(scope="module")
def fleet(sims: Simulators, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    redis: RedisProcess = start_redis()
    workorders = start_simulator("workorders")
    backends = {"billing": sims["billing"], "crm": sims["crm"], "gis": sims["gis"], "workorders": workorders}
    key = tmp_path_factory.mktemp("issuer") / "issuer-key.pem"
    env = {
        "TIDEGATE_REDIS_URL": redis.url,
        "TIDEGATE_CACHE_KEY": CACHE_KEY,
        "TIDEGATE_WORKORDERS_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key),  # one key: a token works on every process
        "TIDEGATE_REPLICAS": "3",
    }
    started: list[BffProcess] = []
    try:
        for _ in range(3):
            started.append(start_bff(backends, env))
        a, b, c = started
        config = {"url": f"{b.url}/webhooks/workorders", "secrets": [WEBHOOK_SECRET], "reorder_rate": 0}
        httpx.put(f"{workorders.url}/_sim/webhooks", json=config).raise_for_status()
        yield Fleet(a, b, c, workorders, backends, redis)
    finally:
        for bff in started:
            bff.stop()
        workorders.stop()
        redis.stop()


@pytest.fixture
def reset(fleet: Fleet) -> Iterator[None]:
    for sim in fleet.sims.values():
        httpx.post(f"{sim.url}/_sim/stats/reset").raise_for_status()
    yield


def _caller(index: int) -> Any:
    world = seeded_world()
    found = [c for c in sole_callers(world) if world.accounts_of[c.customer_no]]
    return found[-1 - index]  # the far end of the list: other modules pick from the front


def _ask(bff: BffProcess, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    r = httpx.post(
        f"{bff.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return cast("dict[str, Any]", r.json())


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def _requests(sim: SimProcess, op: str) -> int:
    found = stats(sim.url)["operations"].get(op)
    return int(found["requests"]) if found else 0


def _order(fleet: Fleet, customer_no: int) -> str:
    return file_order(fleet.workorders.url, customer_no, "小区门口漏水", "WG-03")


def _move(fleet: Fleet, order_no: str, to: str) -> None:
    move_order(fleet.workorders.url, order_no, to)


def _status(fleet: Fleet, order_no: str, token: str) -> str:
    body = _ask(fleet.c, "query($id: ID!) { ticket(id: $id) { status } }", {"id": order_no}, token)
    return str(body["data"]["ticket"]["status"]) if body.get("data") and body["data"]["ticket"] else ""


async def test_an_agent_on_one_replica_sees_the_completion_the_webhook_brought_to_another(
    fleet: Fleet, reset: None
) -> None:
    caller = _caller(0)
    token = fleet.a.token("agent", "A6001")
    order = _order(fleet, caller.customer_no)
    _move(fleet, order, "03")
    _move(fleet, order, "05")
    # The CTI's event lands on b; b's ring-time pop binds the caller's customers to the call, and the
    # call and its binding reach a (the websocket) and c over the bus.
    assert fleet.b.cti("CALL_RINGING", "A6001", "call-6001", caller.mobile).status_code == 204
    assert fleet.b.cti("CALL_ANSWERED", "A6001", "call-6001", caller.mobile).status_code == 204
    # The state before we start: the webhooks for 03 and 05 have been applied (c reads IN_PROGRESS).
    await until(lambda: _status(fleet, order, token) == "IN_PROGRESS", "the order in progress")

    async with GraphQLWs.connect(fleet.ws(fleet.a), token) as ws:
        op = await ws.subscribe(TICKET, {"id": order})
        first = (await next_data(ws, op))["ticketUpdated"]
        assert (first["id"], first["status"]) == (order, "IN_PROGRESS")
        completed_at = time.monotonic()
        _move(fleet, order, "06")  # the field worker completes it; the simulator's webhook goes to b
        got = (await next_data(ws, op))["ticketUpdated"]
        seen_after_s = time.monotonic() - completed_at
    assert (got["id"], got["status"]) == (order, "COMPLETED")
    print(f"completion seen on process a {seen_after_s * 1000:.0f} ms after the simulator completed it")
    assert "work-order webhook" in fleet.b.log() and "work-order webhook" not in fleet.a.log()


async def test_ring_on_one_replica_pop_on_another_answer_on_a_third(fleet: Fleet, reset: None) -> None:
    caller = _caller(1)
    token = fleet.a.token("agent", "A6002")
    crm = fleet.sims["crm"]
    async with GraphQLWs.connect(fleet.ws(fleet.a), token) as ws:
        op = await ws.subscribe(POPS, {"a": "A6002"})
        await until(lambda: fleet.subscribers("screenpop:A6002") == 1, "the subscription live")
        assert fleet.b.cti("CALL_RINGING", "A6002", "call-6002", caller.mobile).status_code == 204
        pop = (await next_data(ws, op))["screenPop"]
    assert pop["callId"] == "call-6002" and pop["prefetched"] is True
    (customer,) = pop["customers"]
    assert customer["id"] == f"KH{caller.customer_no:08d}"

    assert fleet.b.cti("CALL_ANSWERED", "A6002", "call-6002", caller.mobile).status_code == 204
    histories = _requests(crm, "batchQueryInteractions")
    answered = _ask(fleet.c, SCREEN_POP, {"phone": caller.mobile}, token)
    assert _codes(answered) == []
    assert [c["id"] for c in answered["data"]["customerByPhone"]] == [customer["id"]]
    assert _requests(crm, "batchQueryInteractions") == histories  # c served it from b's ring-time pop

    # The call's binding reached c; so does its end, whichever process the CTI tells.
    assert _codes(_ask(fleet.c, ONE, {"id": customer["id"]}, token)) == []
    assert fleet.a.cti("CALL_ENDED", "A6002", "call-6002").status_code == 204
    await until(
        lambda: _codes(_ask(fleet.c, ONE, {"id": customer["id"]}, token)) == ["FORBIDDEN"], "ended on c"
    )
