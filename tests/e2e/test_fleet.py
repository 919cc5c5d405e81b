"""Replicas that know their fleet: BFF processes on one real redis-server count each other, and each
holds billing to its part of the fleet's bulkhead (read off the supervisor's board, which shows this
replica's guards) and draws on the fleet's one rate budget in Redis; one that stops gives its part
back. More than one replica
without Redis refuses to start."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis

from bench.graphql_ws import Closed, GraphQLWs
from tests.conftest import Simulators
from tests.e2e.test_board_query import board
from tests.support.admin import reset_stats, set_faults, stats
from tests.support.processes import ROOT, BffProcess, start_bff
from tests.support.redis_server import RedisProcess
from tests.support.world import seeded_world

POP = "query($p: String!) { customerByPhone(phone: $p) { id accounts { accountNo balance { fen } } } }"
POPS = "subscription($a: ID!) { screenPop(agentId: $a) { callId } }"


def billing_guards(bff: BffProcess) -> dict[str, Any]:
    body = board(bff, bff.auth("supervisor"))
    # (Only the guards matter here: the outages part may time out against a busy GIS.)
    assert all(e["path"][:2] != ["supervisorBoard", "backends"] for e in body.get("errors", [])), body
    lines = body["data"]["supervisorBoard"]["backends"]
    found: dict[str, Any] = next(b for b in lines if b["name"] == "billing")
    return found


def eventually(check: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.1)


def test_fleet_replicas_share_billing_and_take_back_a_stopped_ones_part(
    sims: Simulators, redis_server: RedisProcess
) -> None:
    env = {"TIDEGATE_REDIS_URL": redis_server.url}  # billing: 16 calls in flight, 50 a second, fleet-wide
    for name in ("billing", "crm", "gis", "workorders"):
        _ = sims[name]  # started before the BFFs, which use all four
    first = start_bff(sims, env)
    others: list[BffProcess] = []
    try:
        alone = billing_guards(first)
        assert (alone["maxConcurrent"], alone["maxRps"]) == (16, 50)
        others = [start_bff(sims, env) for _ in range(2)]
        fleet = [first, *others]
        eventually(
            lambda: all(billing_guards(b)["maxConcurrent"] == 5 for b in fleet),
            "three replicas each hold a third of billing's 16 calls in flight (rounded down)",
        )
        # The rate budget is one for the fleet, in Redis: each replica draws on all of it.
        assert all(billing_guards(b)["maxRps"] == 50 for b in fleet)
        peak_rps = _billing_rps_through_one_replica(first, sims["billing"].url)
        print(f"billing peak {peak_rps}/s through one replica")
        # Past a third's share (16.7/s + a burst of 3), within the fleet's 50/s + 10; counted where the
        # calls arrive, so a few admitted at a second's edge may land in the next one (+10%).
        assert 20 < peak_rps <= (50 + 10) * 1.1
        others.pop().stop()  # a clean stop: it leaves the fleet at once
        eventually(
            lambda: all(billing_guards(b)["maxConcurrent"] == 8 for b in (first, others[0])),
            "two replicas left, a half each",
        )
    finally:
        for bff in (first, *others):
            bff.stop()


def _billing_rps_through_one_replica(bff: BffProcess, billing_url: str) -> int:
    """Screen pops for 150 callers, 40 at once, all to one replica (a balancer that favours it):
    billing's busiest second, counted at the simulator."""
    phones = [c.mobile for c in seeded_world().customers if c.mobile][300:450]
    reset_stats(billing_url)

    async def pops() -> None:
        gate = asyncio.Semaphore(40)
        async with httpx.AsyncClient(base_url=bff.url, headers=bff.auth("supervisor"), timeout=30) as http:

            async def one(phone: str) -> None:
                async with gate:
                    r = await http.post("/graphql", json={"query": POP, "variables": {"p": phone}})
                    assert r.status_code == 200 and "errors" not in r.json(), r.text

            await asyncio.gather(*(one(p) for p in phones))

    asyncio.run(pops())
    peak: int = stats(billing_url)["peak_rps"]
    return peak


def test_more_than_one_replica_without_redis_refuses_to_start(sims: Simulators) -> None:
    urls = {f"TIDEGATE_{name.upper()}_URL": sim.url for name, sim in sims.items()}
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", "0"],
        cwd=ROOT,
        env={**urls, "PATH": "/usr/bin:/bin", "TIDEGATE_REPLICAS": "2", "TIDEGATE_LOCAL_ISSUER": "true"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "TIDEGATE_REPLICAS=2 needs TIDEGATE_REDIS_URL" in done.stderr


def test_a_single_replica_without_redis_still_starts(sims: Simulators) -> None:
    bff = start_bff(sims)
    try:
        assert httpx.get(f"{bff.url}/healthz", timeout=5).status_code == 200
        assert billing_guards(bff)["maxConcurrent"] == 16  # the whole pool: it is alone
    finally:
        bff.stop()


def test_fleet_of_workers_each_worker_is_a_replica(sims: Simulators, redis_server: RedisProcess) -> None:
    """`tidegate serve` with two workers on one port: two replicas in the fleet, each holding half of
    billing's 16 calls in flight, whichever of them answers the board."""
    bff = start_bff(sims, {"TIDEGATE_REDIS_URL": redis_server.url, "TIDEGATE_WORKERS": "2"})
    try:
        eventually(
            lambda: all(billing_guards(bff)["maxConcurrent"] == 8 for _ in range(6)),
            "both workers hold half of billing's calls in flight",
        )
        assert len({line.split(":")[1] for line in _members(redis_server)}) == 2  # two worker pids
    finally:
        bff.stop()


def _members(redis_server: RedisProcess) -> list[str]:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        return [str(member) for member in client.zrange("tidegate:fleet", 0, -1)]
    finally:
        client.close()


def test_more_than_one_worker_without_redis_refuses_to_start(sims: Simulators) -> None:
    urls = {f"TIDEGATE_{name.upper()}_URL": sim.url for name, sim in sims.items()}
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", "0", "--workers", "2"],
        cwd=ROOT,
        env={**urls, "PATH": "/usr/bin:/bin", "TIDEGATE_LOCAL_ISSUER": "true"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "2 workers need TIDEGATE_REDIS_URL" in done.stderr


async def test_a_replica_stopping_goes_unready_first_then_tells_subscribers_to_reconnect(
    sims: Simulators,
) -> None:
    """SIGTERM (a deploy, a scale-in): `/readyz` says not_ready at once while the replica still serves
    queries and keeps its subscribers for the drain delay (balancers take it out first); then a
    subscriber gets close code 1012 (service restart: reconnect, to another replica) rather than a
    dropped socket, and the app shuts down through its lifespan."""
    bff = start_bff(sims, {"TIDEGATE_DRAIN_DELAY_S": "3"})
    try:
        token = bff.token("supervisor")
        async with GraphQLWs.connect(bff.url.replace("http://", "ws://") + "/graphql", token) as ws:
            op = await ws.subscribe(POPS, {"a": "A7001"})
            await asyncio.sleep(0.3)  # the subscription is running
            async with httpx.AsyncClient(base_url=bff.url, headers=bff.auth("supervisor")) as http:
                assert (await http.get("/readyz")).json()["status"] != "not_ready"
                bff.proc.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                for _ in range(100):  # at once: the handler runs between two bytecodes
                    if (ready := await http.get("/readyz")).status_code == 503:
                        break
                assert ready.json() == {"status": "not_ready", "phase": "stopping", "checks": {}}
                served = await http.post("/graphql", json={"query": "{ __typename }"})
                assert served.status_code == 200 and served.json() == {"data": {"__typename": "Query"}}
                assert time.monotonic() - signalled < 3, "the socket was still open during the delay"
            with pytest.raises(Closed) as closed:
                await asyncio.wait_for(ws.receive(op), 30)
            assert time.monotonic() - signalled >= 2.9  # not before the drain delay
        assert closed.value.code == 1012
        # uvicorn re-raises the signal once it has shut down gracefully: the lifespan ran to its end.
        assert bff.proc.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in bff.log()
    finally:
        bff.stop()


async def test_a_replica_stopping_finishes_the_requests_in_flight(clean_sims: Simulators) -> None:
    """A screen pop in flight when SIGTERM arrives (billing takes a second to answer) still gets its whole
    answer: the server stops accepting, not answering."""
    for name in ("billing", "crm", "gis", "workorders"):
        _ = clean_sims[name]  # started before the BFF, which uses all four
    bff = start_bff(clean_sims, {"TIDEGATE_DRAIN_DELAY_S": "0"})
    try:
        set_faults(clean_sims["billing"].url, ops={"GetAccounts": {"latency_ms": 1_000}})
        phone = next(c.mobile for c in seeded_world().customers[500:] if c.mobile)
        async with httpx.AsyncClient(base_url=bff.url, headers=bff.auth("supervisor"), timeout=30) as http:
            pending = asyncio.create_task(
                http.post("/graphql", json={"query": POP, "variables": {"p": phone}})
            )
            await asyncio.sleep(0.5)  # the pop is waiting on billing
            bff.proc.send_signal(signal.SIGTERM)
            answer = await pending
        body = answer.json()
        assert answer.status_code == 200 and "errors" not in body, body
        assert all(a["balance"] is not None for p in body["data"]["customerByPhone"] for a in p["accounts"])
        assert bff.proc.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        bff.stop()
