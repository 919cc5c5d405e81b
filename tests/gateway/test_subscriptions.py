"""Subscriptions through the whole app: uvicorn in this process, real websockets (graphql-transport-ws),
the real simulators and a real redis-server carrying the bus. Auth in connection_init, least privilege
per event, the ring-time screen pop pushed and then serving the answered-call query."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
import pytest
import uvicorn
from redis.asyncio import Redis

from bench.graphql_ws import GraphQLWs, closed_with
from gateway.app import create_app
from gateway.live.cti import signed_event
from gateway.persisted.manifest import load_manifest
from gateway.settings import Settings
from infra.pubsub import RedisBus
from infra.resilience.ratelimit import redis_client
from simulators.launch import free_port
from simulators.world.model import Customer
from tests.conftest import Simulators
from tests.gateway.conftest import TEST_ISSUER, TEST_KEYS
from tests.support.admin import stats
from tests.support.field_crew import file_order, move_order
from tests.support.processes import CTI_SECRET, SimProcess, start_simulator
from tests.support.redis_server import RedisProcess
from tests.support.world import seeded_world, sole_callers

SCREEN_POP = (Path(__file__).parents[2] / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")
POPS = """subscription($agent: ID!) {
  screenPop(agentId: $agent) { callId agentId caller prefetched ringingAt customers { id name mobile } }
}"""
TICKET = "subscription($id: ID) { ticketUpdated(ticketId: $id) { id status updatedAt } }"
CUSTOMER_TICKETS = "subscription($c: ID) { ticketUpdated(customerId: $c) { id status } }"
CACHE_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
Systems = dict[str, SimProcess]  # billing, crm, gis (shared) and work orders (this module's own)


def token(role: str = "agent", agent_id: str = "A5001", ttl_s: int | None = None) -> str:
    return TEST_ISSUER.mint(client_id=f"ws-{agent_id}", role=role, agent_id=agent_id, ttl_s=ttl_s)


@dataclass
class LiveApp:
    url: str
    redis: Redis

    @property
    def ws(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    async def cti(self, event: str, agent_id: str, call_id: str, caller: str | None = None) -> int:
        body, headers = signed_event(CTI_SECRET, event, agent_id, call_id, caller)
        async with httpx.AsyncClient() as client:
            r = await client.post(f"{self.url}/cti/events", content=body, headers=headers)
        return r.status_code

    async def query(self, document: str, variables: dict[str, Any], bearer: str) -> dict[str, Any]:
        async with httpx.AsyncClient() as client:
            r = await client.post(
                f"{self.url}/graphql",
                json={"query": document, "variables": variables},
                headers={"Authorization": f"Bearer {bearer}"},
            )
        assert r.status_code == 200, r.text
        return cast("dict[str, Any]", r.json())

    async def subscribed(self, channel: str, count: int = 1) -> None:
        """Wait for the state: Redis sees `count` subscribers on `channel` (the stream is live)."""
        for _ in range(500):
            numsub = cast("list[tuple[Any, int]]", await self.redis.pubsub_numsub(channel))
            if numsub[0][1] >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"nobody subscribed to {channel}")


def settings_for(sims: Systems, redis: RedisProcess, **extra: Any) -> Settings:
    urls = {f"{name}_url": sims[name].url for name in ("billing", "crm", "gis", "workorders")}
    given = {"redis_url": redis.url, "cache_key": CACHE_KEY, "cti_secrets": CTI_SECRET}
    values: dict[str, Any] = {**urls, **given, "budget_critical_ms": 10_000, **extra}
    return Settings(**values)  # keyword arguments: the environment's TIDEGATE_* still apply beneath


@asynccontextmanager
async def serve(settings: Settings, redis: RedisProcess) -> AsyncIterator[LiveApp]:
    """The app under uvicorn on a free port in this event loop, until the test is done with it."""
    port = free_port()
    config = uvicorn.Config(create_app(settings, keys=TEST_KEYS), port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn stopped before it started"
        await asyncio.sleep(0.01)
    probe = Redis(port=redis.port)
    try:
        yield LiveApp(f"http://127.0.0.1:{port}", probe)
    finally:
        server.should_exit = True
        await task
        await probe.aclose()


@pytest.fixture(scope="module")
def own_workorders() -> Iterator[SimProcess]:
    """Our own work-order system: the tickets these tests file and move never reach another module's
    answers (a field worker's mobile on a ticket would, for one)."""
    sim = start_simulator("workorders")
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def systems(clean_sims: Simulators, own_workorders: SimProcess) -> Systems:
    httpx.post(f"{own_workorders.url}/_sim/stats/reset").raise_for_status()
    return {"billing": clean_sims["billing"], "crm": clean_sims["crm"], "gis": clean_sims["gis"]} | {
        "workorders": own_workorders
    }


@pytest.fixture
async def app(systems: Systems, redis_server: RedisProcess) -> AsyncIterator[LiveApp]:
    async with serve(settings_for(systems, redis_server), redis_server) as live:
        yield live


def _caller(index: int = 0) -> Customer:
    """A customer who alone holds their mobile and has an account (the pop finds exactly them)."""
    world = seeded_world()
    found = [c for c in sole_callers(world) if world.accounts_of[c.customer_no]]
    return found[-10 - index]  # from the far end: other modules pick callers from the front


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


async def _audit_lines(containing: Sequence[str]) -> list[str]:
    """The audit trail's lines holding every one of `containing`, once there is one (TIDEGATE_AUDIT_PATH:
    a scratch file, see tests/conftest.py). Awaited, not slept on: the app's audit writer runs on this
    loop, a moment after the refusal is sent."""
    async with asyncio.timeout(10):  # a safety net against a hang, not a latency assertion
        while True:
            lines = _read_lines(Path(Settings().observability.audit_path))
            found = [line for line in lines if all(part in line for part in containing)]
            if found:
                return found
            await asyncio.sleep(0.02)


def _calls(sims: Systems) -> dict[str, int]:
    """Requests per `system.operation` since the last reset."""
    out: dict[str, int] = {}
    for name in ("billing", "crm", "gis", "workorders"):
        for op, s in stats(sims[name].url)["operations"].items():
            out[f"{name}.{op}"] = s["requests"]
    return out


async def _next(ws: GraphQLWs, op: str) -> dict[str, Any]:
    async with asyncio.timeout(10):  # a safety net against a hang, not a latency assertion
        message = await ws.receive(op)
    assert message["type"] == "next", message
    return cast("dict[str, Any]", message["payload"])


async def _message(ws: GraphQLWs, op: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        return await ws.receive(op)


# -- connection_init: auth ---------------------------------------------------------------------------


async def test_a_connection_without_a_valid_token_is_closed_forbidden(app: LiveApp) -> None:
    assert await closed_with(app.ws, None) == 4403
    assert await closed_with(app.ws, "not-a-jwt") == 4403
    auditor = TEST_ISSUER.mint(client_id="audit", role="auditor", scope="nothing:here")
    assert await closed_with(app.ws, auditor) == 4403  # no scope of this API
    async with GraphQLWs.connect(app.ws, None, params={"token": token()}):
        pass  # `{"token": ...}` is accepted as well as `Authorization: Bearer`


async def test_subscribing_before_the_ack_is_closed_unauthorized(app: LiveApp) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(app.ws, protocols=("graphql-transport-ws",)) as ws,
    ):
        await ws.send_str(
            orjson.dumps({"id": "1", "type": "subscribe", "payload": {"query": TICKET}}).decode()
        )
        await ws.receive()
        assert ws.close_code == 4401


async def test_only_graphql_transport_ws_is_spoken(app: LiveApp) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(app.ws, protocols=("graphql-ws",)) as ws,
    ):
        await ws.receive()
        assert ws.close_code == 4406  # the legacy subscriptions-transport-ws protocol is refused


async def test_a_connection_closes_when_its_token_expires(
    systems: Systems, redis_server: RedisProcess
) -> None:
    settings = settings_for(systems, redis_server, token_leeway_s=0)
    async with serve(settings, redis_server) as live, GraphQLWs.connect(live.ws, token(ttl_s=1)) as ws:
        async with asyncio.timeout(30):
            await ws.closed.wait()
        assert ws.close_code == 4403


async def test_a_client_holds_a_bounded_number_of_connections(
    systems: Systems, redis_server: RedisProcess
) -> None:
    settings = settings_for(systems, redis_server, subscription_connections_per_client=2)
    async with serve(settings, redis_server) as live:
        mine = token(agent_id="A5002")
        async with GraphQLWs.connect(live.ws, mine), GraphQLWs.connect(live.ws, mine):
            assert await closed_with(live.ws, mine) == 4403
            async with GraphQLWs.connect(live.ws, token(agent_id="A5003")):
                pass  # another client is not affected
        async with GraphQLWs.connect(live.ws, mine):
            pass  # the slots came back when the connections closed


async def test_a_connection_runs_a_bounded_number_of_subscriptions(
    systems: Systems, redis_server: RedisProcess
) -> None:
    settings = settings_for(systems, redis_server, subscriptions_per_connection=2)
    async with (
        serve(settings, redis_server) as live,
        GraphQLWs.connect(live.ws, token(agent_id="A5004")) as ws,
    ):
        ops = [await ws.subscribe(POPS, {"agent": "A5004"}) for _ in range(3)]
        refused = await _message(ws, ops[2])
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"


async def test_queries_and_mutations_are_refused_over_the_websocket(app: LiveApp) -> None:
    async with GraphQLWs.connect(app.ws, token(agent_id="A5006")) as ws:
        refused = await _message(ws, await ws.subscribe("query { __typename }"))
        assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
        await ws.subscribe(POPS, {"agent": "A5006"})
        await app.subscribed("screenpop:A5006")  # the connection is still good for subscriptions


async def test_a_subscription_sent_over_http_is_refused_with_a_code(app: LiveApp) -> None:
    async with httpx.AsyncClient() as client:
        r = await client.post(
            f"{app.url}/graphql",
            json={"query": POPS, "variables": {"agent": "A5001"}},
            headers={"Authorization": f"Bearer {token()}"},
        )
    assert 400 <= r.status_code < 500
    assert r.json()["errors"][0]["extensions"]["code"]


# -- screenPop -----------------------------------------------------------------------------------------


async def test_an_agent_watches_only_their_own_screen_pops(app: LiveApp) -> None:
    async with GraphQLWs.connect(app.ws, token(agent_id="A5005")) as ws:
        theirs = await ws.subscribe(POPS, {"agent": "A9999"})
        refused = await _message(ws, theirs)
        assert refused["type"] == "error"
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["FORBIDDEN"]
        await ws.subscribe(POPS, {"agent": "A5005"})
        await app.subscribed("screenpop:A5005")  # their own is open
    refusals = [orjson.loads(line) for line in await _audit_lines(['"screenPop"', '"A9999"'])]
    assert [(r["event"], r["agent_id"], r["key"]) for r in refusals][-1] == ("refused", "A5005", "A9999")
    async with GraphQLWs.connect(app.ws, token("supervisor", agent_id="S5001")) as ws:
        await ws.subscribe(POPS, {"agent": "A9999"})
        await app.subscribed("screenpop:A9999")  # a supervisor may watch any agent


async def test_a_result_whose_audit_cannot_be_written_is_an_audit_unavailable_error(
    app: LiveApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No result leaves without its record, over the websocket as over HTTP (503 there): a refusal
    (audited) and a supervisor's unmasked push each become AUDIT_UNAVAILABLE, that operation ends,
    and the connection serves on."""
    from gateway.observability.audit_writer import AuditUnavailable, AuditWriter

    async def full(self: AuditWriter, records: object) -> None:
        raise AuditUnavailable("the audit trail cannot keep up; the request was not answered")

    monkeypatch.setattr(AuditWriter, "write", full)
    caller = _caller(2)
    async with GraphQLWs.connect(app.ws, token(agent_id="A5012")) as ws:
        refused = await _message(ws, await ws.subscribe(POPS, {"agent": "A9998"}))
        assert refused["type"] == "error"
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["AUDIT_UNAVAILABLE"]
    async with GraphQLWs.connect(app.ws, token("supervisor", agent_id="S5012")) as ws:
        op = await ws.subscribe(POPS, {"agent": "A5012"})
        await app.subscribed("screenpop:A5012")
        assert await app.cti("CALL_RINGING", "A5012", "call-5012", f"+86{caller.mobile}") == 204
        pushed = await _message(ws, op)  # the unmasked pop would need its audit record first
        assert pushed["type"] == "error", pushed
        assert [e["extensions"]["code"] for e in pushed["payload"]] == ["AUDIT_UNAVAILABLE"]
        assert "data" not in orjson.dumps(pushed).decode()
        monkeypatch.undo()
        again = await ws.subscribe(POPS, {"agent": "A5013"})  # the connection serves on
        await app.subscribed("screenpop:A5013")
        assert again != op


async def test_the_ring_time_pop_is_pushed_then_serves_the_answered_query(
    app: LiveApp, systems: Systems
) -> None:
    caller = _caller(0)
    agent = token(agent_id="A5010")
    async with GraphQLWs.connect(app.ws, agent) as ws:
        op = await ws.subscribe(POPS, {"agent": "A5010"})
        await app.subscribed("screenpop:A5010")
        assert await app.cti("CALL_RINGING", "A5010", "call-5010", f"+86{caller.mobile}") == 204
        pop = (await _next(ws, op))["data"]["screenPop"]
        ringing = _calls(systems)  # the ring-time pop's calls, all of them: the push asked nothing more

    assert pop["callId"] == "call-5010" and pop["agentId"] == "A5010" and pop["prefetched"] is True
    (customer,) = pop["customers"]
    assert customer["id"] == f"KH{caller.customer_no:08d}"
    assert "*" in customer["mobile"] and "*" in pop["caller"]  # an agent's view: masked
    assert ringing["crm.searchContacts"] == 1 and ringing["billing.GetAccounts"] == 1

    assert await app.cti("CALL_ANSWERED", "A5010", "call-5010", caller.mobile) == 204
    answered = await app.query(SCREEN_POP, {"phone": caller.mobile}, agent)
    assert "errors" not in answered
    assert [c["id"] for c in answered["data"]["customerByPhone"]] == [customer["id"]]
    after = _calls(systems)
    # Served from the ring-time pop: only the CRM's phone lookup (which binds the call here) was asked.
    assert {k: v - ringing.get(k, 0) for k, v in after.items() if v != ringing.get(k, 0)} == {
        "crm.searchContacts": 1
    }
    # Taken once: the next pop in the same call reads afresh (a ticket filed meanwhile must show).
    again = await app.query(SCREEN_POP, {"phone": caller.mobile}, agent)
    assert "errors" not in again
    assert _calls(systems)["workorders.listOrders"] == after["workorders.listOrders"] + 1


async def test_a_subscriber_arriving_mid_ring_gets_the_current_pop_first(app: LiveApp) -> None:
    caller = _caller(1)
    assert await app.cti("CALL_RINGING", "A5011", "call-5011", caller.mobile) == 204
    for _ in range(500):  # the state: the ring-time pop has been kept for the call
        if await app.redis.exists("tidegate:prefetch:screenpop:A5011"):
            break
        await asyncio.sleep(0.01)
    async with GraphQLWs.connect(app.ws, token(agent_id="A5011")) as ws:
        pop = (await _next(ws, await ws.subscribe(POPS, {"agent": "A5011"})))["data"]["screenPop"]
    assert pop["callId"] == "call-5011" and pop["prefetched"] is True
    assert [c["id"] for c in pop["customers"]] == [f"KH{caller.customer_no:08d}"]


async def test_without_the_prefetch_the_pop_is_looked_up_for_the_push(
    systems: Systems, redis_server: RedisProcess
) -> None:
    settings = settings_for(systems, redis_server, screen_pop_prefetch=False)
    caller = _caller(2)
    async with (
        serve(settings, redis_server) as live,
        GraphQLWs.connect(live.ws, token(agent_id="A5012")) as ws,
    ):
        op = await ws.subscribe(POPS, {"agent": "A5012"})
        await live.subscribed("screenpop:A5012")
        assert await live.cti("CALL_RINGING", "A5012", "call-5012", caller.mobile) == 204
        pop = (await _next(ws, op))["data"]["screenPop"]
    assert pop["prefetched"] is False
    assert [c["id"] for c in pop["customers"]] == [f"KH{caller.customer_no:08d}"]


# -- ticketUpdated -------------------------------------------------------------------------------------


def _new_order(sims: Systems, customer_no: int) -> str:
    return file_order(sims["workorders"].url, customer_no, "水表井漏水", "WG-01")


def _move(sims: Systems, order_no: str, to: str) -> None:
    move_order(sims["workorders"].url, order_no, to)


async def _announce(live: LiveApp, redis: RedisProcess, order_no: str, customer_no: int, status: str) -> None:
    """What the webhook endpoint publishes once it has stored a change (its contract)."""
    client = redis_client(redis.url, timeout_s=0.5)
    bus = RedisBus(client)
    message = {
        "ticketId": order_no,
        "customerId": f"KH{customer_no:08d}",
        "status": status,
        "at": "2026-11-26T10:15:00+08:00",
        "eventId": f"evt-{order_no}-{status}",
    }
    try:
        await bus.publish(f"ticket:{order_no}", message)
        await bus.publish(f"customer:KH{customer_no:08d}", message)
    finally:
        await bus.aclose()
        await client.aclose()


async def test_a_ticket_stream_starts_with_the_ticket_then_follows_it(
    app: LiveApp, systems: Systems, redis_server: RedisProcess
) -> None:
    caller = _caller(3)
    order = _new_order(systems, caller.customer_no)
    await app.cti("CALL_ANSWERED", "A5020", "call-5020", caller.mobile)
    agent = token(agent_id="A5020")
    assert "errors" not in await app.query(SCREEN_POP, {"phone": caller.mobile}, agent)  # binds the call
    async with GraphQLWs.connect(app.ws, agent) as ws:
        op = await ws.subscribe(TICKET, {"id": order})
        first = (await _next(ws, op))["data"]["ticketUpdated"]
        assert (first["id"], first["status"]) == (order, "DISPATCHED")
        _move(systems, order, "03")
        await _announce(app, redis_server, order, caller.customer_no, "ACKNOWLEDGED")
        await _announce(app, redis_server, order, caller.customer_no, "ACKNOWLEDGED")  # delivered twice
        _move(systems, order, "05")
        await _announce(app, redis_server, order, caller.customer_no, "IN_PROGRESS")
        got = [(await _next(ws, op))["data"]["ticketUpdated"]["status"] for _ in range(2)]
    assert got == ["ACKNOWLEDGED", "IN_PROGRESS"]  # the duplicate shown once


async def test_an_agent_follows_only_their_callers_tickets_and_only_during_the_call(
    app: LiveApp, systems: Systems, redis_server: RedisProcess
) -> None:
    caller, stranger = _caller(4), _caller(5)
    theirs = _new_order(systems, stranger.customer_no)
    await app.cti("CALL_ANSWERED", "A5021", "call-5021", caller.mobile)
    agent = token(agent_id="A5021")
    assert "errors" not in await app.query(SCREEN_POP, {"phone": caller.mobile}, agent)
    async with GraphQLWs.connect(app.ws, agent) as ws:
        refused = await _message(ws, await ws.subscribe(TICKET, {"id": theirs}))
        assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"
        refused = await _message(
            ws, await ws.subscribe(CUSTOMER_TICKETS, {"c": f"KH{stranger.customer_no:08d}"})
        )
        assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"

        mine = _new_order(systems, caller.customer_no)
        op = await ws.subscribe(CUSTOMER_TICKETS, {"c": f"KH{caller.customer_no:08d}"})
        await app.subscribed(f"customer:KH{caller.customer_no:08d}")
        _move(systems, mine, "03")
        await _announce(app, redis_server, mine, caller.customer_no, "ACKNOWLEDGED")
        assert (await _next(ws, op))["data"]["ticketUpdated"] == {"id": mine, "status": "ACKNOWLEDGED"}

        assert await app.cti("CALL_ENDED", "A5021", "call-5021") == 204
        _move(systems, mine, "05")
        await _announce(app, redis_server, mine, caller.customer_no, "IN_PROGRESS")
        ended = await _next(ws, op)  # the call is over: the stream ends with FORBIDDEN, nothing shown
        assert ended["data"] is None and ended["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert (await _message(ws, op))["type"] == "complete"


async def test_exactly_one_of_ticket_and_customer(app: LiveApp) -> None:
    async with GraphQLWs.connect(app.ws, token("supervisor", agent_id="S5002")) as ws:
        both = 'subscription { ticketUpdated(ticketId: "T", customerId: "KH00000001") { id } }'
        refused = await _message(ws, await ws.subscribe(both))
        assert refused["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        bad = await _message(ws, await ws.subscribe("subscription { ticketUpdated { nope } }"))
        assert bad["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_subscription_runs_by_its_persisted_id_alone(app: LiveApp) -> None:
    """The workbench sends ids only: an empty `query` (graphql-ws insists on the key) and Apollo's
    `extensions.persistedQuery`, or `documentId`; an id not in the manifest is refused with a code."""
    (pop_id, *_) = [op.id for op in load_manifest() if op.name == "WorkbenchPop"]
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": pop_id}}
    async with GraphQLWs.connect(app.ws, token(agent_id="A5007")) as ws:
        agent = {"agentId": "A5007"}
        await ws.subscribe("", agent, {"extensions": persisted})
        await app.subscribed("screenpop:A5007")
        unknown = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
        refused = await _message(ws, await ws.subscribe("", agent, {"extensions": unknown}))
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    async with GraphQLWs.connect(app.ws, token(agent_id="A5008")) as ws:
        await ws.subscribe("", {"agentId": "A5008"}, {"documentId": f"sha256:{pop_id}"})
        await app.subscribed("screenpop:A5008")


async def test_a_persisted_subscriptions_events_run_its_plan(
    app: LiveApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Sent by id, a manifest subscription's events are walked by its plan (`schema.compiled`); the
    same document sent as text runs graphql-core's walk. The connection's closing line counts both."""
    (call_id, *_) = [op.id for op in load_manifest() if op.name == "WorkbenchCall"]
    (body, *_) = [op.body for op in load_manifest() if op.name == "WorkbenchCall"]
    caplog.set_level(logging.INFO, logger="tidegate.websocket")
    for agent, payload in (("A5031", {"documentId": f"sha256:{call_id}"}), ("A5032", None)):
        assert await app.cti("CALL_RINGING", agent, f"cc-{agent}", _caller(3).mobile) == 204
        async with GraphQLWs.connect(app.ws, token(agent_id=agent)) as ws:
            op = await ws.subscribe(body if payload is None else "", {"agentId": agent}, payload)
            assert (await _next(ws, op))["data"]["callUpdated"]["state"] == "RINGING"  # the current call
    async with asyncio.timeout(10):  # the server logs a socket's end once it has seen the close
        while len(closed := [r for r in caplog.records if r.getMessage() == "websocket closed"]) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    assert [(r.__dict__["events"], r.__dict__["compiled_events"]) for r in closed[-2:]] == [(1, 1), (1, 0)]


CALLS = "subscription($agent: ID!) { callUpdated(agentId: $agent) { callId agentId state } }"


async def test_an_agent_follows_their_own_calls_state_and_no_one_elses(app: LiveApp) -> None:
    caller = _caller(7)
    async with GraphQLWs.connect(app.ws, token(agent_id="A5009")) as ws:
        refused = await _message(ws, await ws.subscribe(CALLS, {"agent": "A5010"}))
        assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await app.cti("CALL_RINGING", "A5009", "cu-1", caller.mobile) == 204
        op = await ws.subscribe(CALLS, {"agent": "A5009"})
        first = (await _next(ws, op))["data"]["callUpdated"]  # the current call: the stream is live
        assert (first["callId"], first["state"]) == ("cu-1", "RINGING")
        assert await app.cti("CALL_RINGING", "A5010", "cu-0", caller.mobile) == 204  # not theirs
        assert await app.cti("CALL_ANSWERED", "A5009", "cu-1") == 204
        assert await app.cti("CALL_ENDED", "A5009", "cu-1") == 204
        states = [(await _next(ws, op))["data"]["callUpdated"] for _ in range(2)]
        assert [(s["callId"], s["state"]) for s in states] == [("cu-1", "ANSWERED"), ("cu-1", "ENDED")]
        assert {s["agentId"] for s in states} == {"A5009"}
