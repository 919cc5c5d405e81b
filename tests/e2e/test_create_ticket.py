"""createTicket through BFF processes: real tokens, the committed `gql/` document, one process's memory
store, and two processes sharing one real redis-server's records."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Simulators
from tests.e2e.calls import answer_and_look_up
from tests.support.admin import stats
from tests.support.processes import BffProcess, start_bff
from tests.support.redis_server import start_redis
from tests.support.world import seeded_world, sole_callers

CREATE = (Path(__file__).parents[2] / "gql" / "create_ticket.graphql").read_text(encoding="utf-8")


def _street_report(grid_index: int, text: str = "路面冒水") -> dict[str, Any]:
    grid = seeded_world().grids[grid_index]
    xs, ys = [p[0] for p in grid.ring], [p[1] for p in grid.ring]
    return {
        "category": "LEAK",
        "description": text,
        "lon": (min(xs) + max(xs)) / 2,
        "lat": (min(ys) + max(ys)) / 2,
    }


def _body(input: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        "query": CREATE,
        "operationName": "CreateTicket",
        "variables": {"input": input, "idempotencyKey": key},
    }


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def _creates(sims: Simulators) -> int:
    ops = stats(sims["workorders"].url)["operations"]
    return int(ops.get("createOrder", {}).get("requests", 0))


def test_a_retry_gets_the_same_bytes_and_no_second_order(bff: BffProcess, clean_sims: Simulators) -> None:
    body, headers = _body(_street_report(0), str(uuid.uuid4())), bff.auth("supervisor")
    first = httpx.post(f"{bff.url}/graphql", json=body, headers=headers)
    second = httpx.post(f"{bff.url}/graphql", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert "errors" not in first.json(), first.text
    assert first.content == second.content
    assert _creates(clean_sims) == 1
    grid = seeded_world().grids[0]
    assert first.json()["data"]["createTicket"]["assignee"]["id"] == grid.worker.worker_id

    reused = httpx.post(
        f"{bff.url}/graphql",
        json=_body(_street_report(0, "别处"), body["variables"]["idempotencyKey"]),
        headers=headers,
    )
    assert _codes(reused.json()) == ["IDEMPOTENCY_KEY_REUSED"]


def test_one_mutation_field_per_request(bff: BffProcess, clean_sims: Simulators) -> None:
    doc = """
    mutation Two($a: CreateTicketInput!) {
      one: createTicket(input: $a, idempotencyKey: "k-1") { id }
      ...More
    }
    fragment More on Mutation { two: createTicket(input: $a, idempotencyKey: "k-2") { id } }
    """
    r = httpx.post(
        f"{bff.url}/graphql",
        json={"query": doc, "variables": {"a": _street_report(1)}},
        headers=bff.auth("supervisor"),
    )
    assert r.status_code == 200 and _codes(r.json()) == ["TOO_MANY_MUTATIONS"]
    assert _creates(clean_sims) == 0


def test_an_agent_files_for_the_caller_only(bff: BffProcess, clean_sims: Simulators) -> None:
    world = seeded_world()
    caller = sole_callers(world)[0]
    other = next(c for c in world.customers if c.customer_no != caller.customer_no)
    agent = answer_and_look_up(bff, "A3001", "c-300", caller)
    account = world.accounts_of[caller.customer_no][0].account_no

    mine = {"category": "METER_FAULT", "description": "水表不走", "accountNo": account}
    filed = httpx.post(f"{bff.url}/graphql", json=_body(mine, str(uuid.uuid4())), headers=agent).json()
    assert "errors" not in filed, filed
    ticket_id = filed["data"]["createTicket"]["id"]
    seen = httpx.post(
        f"{bff.url}/graphql",
        json={"query": "query($id: ID!) { ticket(id: $id) { id status } }", "variables": {"id": ticket_id}},
        headers=agent,
    ).json()
    assert seen["data"]["ticket"] == {"id": ticket_id, "status": "DISPATCHED"}

    theirs = {"category": "LEAK", "description": "漏水", "customerId": f"KH{other.customer_no:08d}"}
    refused = httpx.post(f"{bff.url}/graphql", json=_body(theirs, str(uuid.uuid4())), headers=agent).json()
    assert _codes(refused) == ["FORBIDDEN"] and refused["data"] is None
    assert _creates(clean_sims) == 1


async def test_two_processes_share_keys_through_redis(sims: Simulators, clean_sims: Simulators) -> None:
    redis = start_redis()
    bffs: list[BffProcess] = []
    try:
        bffs = [start_bff(sims, env={"TIDEGATE_REDIS_URL": redis.url}) for _ in range(2)]
        key, report = str(uuid.uuid4()), _street_report(2)
        async with httpx.AsyncClient(timeout=30) as client:

            async def send(b: BffProcess) -> dict[str, Any]:
                r = await client.post(
                    f"{b.url}/graphql", json=_body(report, key), headers=b.auth("supervisor")
                )
                assert r.status_code == 200, r.text
                answer: dict[str, Any] = r.json()
                return answer

            racing = await asyncio.gather(*(send(b) for b in bffs * 4))
            settled = [await send(b) for b in bffs]
    finally:
        for b in bffs:
            b.stop()
        redis.stop()
    ids = {a["data"]["createTicket"]["id"] for a in racing + settled if "errors" not in a}
    assert len(ids) == 1
    assert all(_codes(a) == ["IDEMPOTENCY_IN_PROGRESS"] for a in racing if "errors" in a)
    assert all("errors" not in a for a in settled)
    assert settled[0] == settled[1]  # each process replays the same answer
    assert _creates(clean_sims) == 1
