"""Three BFF processes on a three-master Redis Cluster (`TIDEGATE_REDIS_CLUSTER_NODES`): they count
each other as a fleet, a work-order webhook and a CTI ring received by replica a reach subscribers on
replica c (sharded pub/sub), and an idempotency key used on a is replayed by c.

The cluster is the session's (`redis_cluster`); the work-order simulator is this module's own, so its
webhook subscription points at our replica a and nobody else's.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
import redis
from redis.cluster import RedisCluster

from bench.graphql_ws import GraphQLWs
from infra.pubsub import SHARD_TAG
from tests.conftest import Simulators
from tests.e2e.test_create_ticket import CREATE, _street_report
from tests.e2e.test_fleet import billing_guards, eventually
from tests.support.admin import stats
from tests.support.field_crew import file_order, move_order
from tests.support.live import next_data, until
from tests.support.processes import BffProcess, SimProcess, start_bff, start_simulator
from tests.support.redis_cluster import RedisClusterProcesses
from tests.support.world import seeded_world, sole_callers

POPS = "subscription($a: ID!) { screenPop(agentId: $a) { callId prefetched customers { id } } }"
TICKET = "subscription($id: ID) { ticketUpdated(ticketId: $id) { id status } }"
STATUS = "query($id: ID!) { ticket(id: $id) { status } }"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"tidegate-e2e-webhook-secret-32by").decode()
CACHE_KEY = base64.urlsafe_b64encode(bytes(range(64, 96))).decode()


@dataclass
class ClusterFleet:
    a: BffProcess  # takes the webhooks, the CTI's events and the first createTicket
    b: BffProcess
    c: BffProcess  # holds the websockets and replays the key
    workorders: SimProcess
    cluster: RedisClusterProcesses

    def shard_subscribers(self, channel: str) -> int:
        """What the bus slot's master counts on `channel` (a stream is live once c has subscribed)."""
        client: Any = redis.Redis(port=self.cluster.master_port_of(SHARD_TAG))  # execute_command is untyped
        try:
            reply = client.execute_command("PUBSUB", "SHARDNUMSUB", SHARD_TAG + channel)
        finally:
            client.close()
        return int(reply[1])


@pytest.fixture(scope="module")
def fleet(
    sims: Simulators, redis_cluster: RedisClusterProcesses, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ClusterFleet]:
    workorders = start_simulator("workorders")
    backends = {"billing": sims["billing"], "crm": sims["crm"], "gis": sims["gis"], "workorders": workorders}
    env = {
        "TIDEGATE_REDIS_CLUSTER_NODES": redis_cluster.addresses,
        "TIDEGATE_CACHE_KEY": CACHE_KEY,
        "TIDEGATE_WORKORDERS_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        # One key: a token works on every replica.
        "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(tmp_path_factory.mktemp("issuer") / "issuer-key.pem"),
        "TIDEGATE_REDIS_TIMEOUT_MS": "500",  # three BFFs and a cluster on two cores: no flapping
    }
    started: list[BffProcess] = []
    try:
        for _ in range(3):
            started.append(start_bff(backends, env))
        a, b, c = started
        config = {"url": f"{a.url}/webhooks/workorders", "secrets": [WEBHOOK_SECRET], "reorder_rate": 0}
        httpx.put(f"{workorders.url}/_sim/webhooks", json=config).raise_for_status()
        yield ClusterFleet(a, b, c, workorders, redis_cluster)
    finally:
        for bff in started:
            bff.stop()
        workorders.stop()


def _ask(bff: BffProcess, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    r = httpx.post(
        f"{bff.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return cast("dict[str, Any]", r.json())


def _status(bff: BffProcess, order_no: str, token: str) -> str:
    body = _ask(bff, STATUS, {"id": order_no}, token)
    return str(body["data"]["ticket"]["status"]) if body.get("data") and body["data"]["ticket"] else ""


def test_cluster_replicas_count_each_other_as_a_fleet(fleet: ClusterFleet) -> None:
    client = RedisCluster(startup_nodes=None, host="127.0.0.1", port=fleet.cluster.nodes[0].port)
    try:
        assert client.zcard("tidegate:fleet") == 3
    finally:
        client.close()
    replicas = (fleet.a, fleet.b, fleet.c)
    for bff in replicas:  # /readyz pings the cluster through the same client
        assert httpx.get(f"{bff.url}/readyz", timeout=10).json()["checks"]["redis"] == {"status": "up"}
    eventually(
        lambda: all(billing_guards(bff)["maxConcurrent"] == 5 for bff in replicas),
        "three replicas each hold a third of billing's 16 calls in flight",
    )


async def test_cluster_ring_and_webhook_on_replica_a_reach_subscribers_on_replica_c(
    fleet: ClusterFleet,
) -> None:
    world = seeded_world()
    caller = [c for c in sole_callers(world) if world.accounts_of[c.customer_no]][-7]
    token = fleet.c.token("agent", "A6901")
    ws_url = fleet.c.url.replace("http://", "ws://") + "/graphql"
    async with GraphQLWs.connect(ws_url, token) as ws:
        pops = await ws.subscribe(POPS, {"a": "A6901"})
        await until(lambda: fleet.shard_subscribers("screenpop:A6901") == 1, "the pop stream live on c")
        assert fleet.a.cti("CALL_RINGING", "A6901", "call-6901", caller.mobile).status_code == 204
        pop = (await next_data(ws, pops))["screenPop"]
        assert pop["callId"] == "call-6901"
        assert [c["id"] for c in pop["customers"]] == [f"KH{caller.customer_no:08d}"]
        # On the call, the agent may follow the caller's orders; the work-order webhooks go to a.
        assert fleet.a.cti("CALL_ANSWERED", "A6901", "call-6901", caller.mobile).status_code == 204
        order = file_order(fleet.workorders.url, caller.customer_no, "小区门口漏水", "WG-03")
        move_order(fleet.workorders.url, order, "03")
        await until(lambda: _status(fleet.c, order, token) == "ACKNOWLEDGED", "the webhook applied")
        tickets = await ws.subscribe(TICKET, {"id": order})
        assert (await next_data(ws, tickets))["ticketUpdated"]["status"] == "ACKNOWLEDGED"
        move_order(fleet.workorders.url, order, "05")
        assert (await next_data(ws, tickets))["ticketUpdated"] == {"id": order, "status": "IN_PROGRESS"}
    assert "work-order webhook" in fleet.a.log() and "work-order webhook" not in fleet.c.log()


def test_cluster_replica_c_replays_the_key_replica_a_used(fleet: ClusterFleet) -> None:
    httpx.post(f"{fleet.workorders.url}/_sim/stats/reset").raise_for_status()
    body = {
        "query": CREATE,
        "operationName": "CreateTicket",
        "variables": {"input": _street_report(3), "idempotencyKey": str(uuid.uuid4())},
    }
    first = httpx.post(f"{fleet.a.url}/graphql", json=body, headers=fleet.a.auth("supervisor"), timeout=30)
    again = httpx.post(f"{fleet.c.url}/graphql", json=body, headers=fleet.c.auth("supervisor"), timeout=30)
    assert first.status_code == again.status_code == 200
    assert "errors" not in first.json(), first.text
    assert again.content == first.content  # the original answer, not a second ticket
    creates = stats(fleet.workorders.url)["operations"]["createOrder"]["requests"]
    assert creates == 1
