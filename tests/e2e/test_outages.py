"""Declaring and restoring an outage end to end: a BFF process with real JWTs and a real redis-server
(the idempotency records), over simulators of its own (these writes change what the shared ones
answer). What the back offices hold is read from them directly: the work-order system's orders by
reference and parent, the GIS notice, the CRM's SMS outbox. Counts and states only, never timings.

Expected values come from the seeded world (the simulator's own trace), not from the code under test.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.timestamps import SHANGHAI
from services.idempotency import scoped_key
from services.outage_notices import SYNC_LIMIT
from tests.e2e.calls import answer_and_look_up
from tests.support.admin import stats
from tests.support.processes import BffProcess, SimProcess, start_bff, start_simulator
from tests.support.redis_server import RedisProcess, start_redis
from tests.support.world import seeded_world, sole_callers

DECLARE = """
mutation Declare($main: ID!, $kind: OutageKind!, $restore: DateTime!, $reason: String!, $key: String!) {
  declareOutage(
    mainId: $main, kind: $kind, estimatedRestore: $restore, reason: $reason, idempotencyKey: $key
  ) {
    outage { id kind status affectedAccounts reason estimatedRestoreAt }
    masterTicket { id parentId status category clientRef }
    closureTasks { id parentId clientRef description }
    notices { customers sent duplicates withoutMobile background }
  }
}
"""
RESTORE = """
mutation Restore($id: ID!, $key: String!) {
  restoreOutage(outageId: $id, idempotencyKey: $key) {
    outage { id status }
    masterTicket { id status }
    notices { customers sent duplicates withoutMobile background }
  }
}
"""
CREATE = """
mutation Create($input: CreateTicketInput!, $key: String!) {
  createTicket(input: $input, idempotencyKey: $key) { id parentId clientRef }
}
"""
ACTIVE = "{ outages(active: true) { id status affectedAccounts kind } }"
PLAN = "query($m: ID!) { isolationPlan(mainId: $m) { accountCount customerCount valvesToClose { id } } }"
NOTICES = "query($id: ID!) { outageNotices(outageId: $id) { outageId declared allClear } }"
RACE_TICKETS = 36
RETRYABLE = {"IDEMPOTENCY_IN_PROGRESS", "RATE_LIMITED", "BACKEND_TIMEOUT", "BACKEND_UNAVAILABLE"}


@dataclass(frozen=True)
class Main:
    asset_no: str
    valves: tuple[str, ...]  # the world's own trace: the valves to close, by asset number
    account_nos: tuple[str, ...]
    customer_nos: frozenset[int]


def _mains(count: int, big: int = 0) -> list[Main]:
    """Served mains whose traces share no main (one outage each): `count` with a few dozen customers,
    then `big` with more than a request's worth of texts (`SYNC_LIMIT`)."""
    world = seeded_world()
    net = world.network
    valve_asset = {v.valve_id: v.asset_no for v in net.valves}
    taken: set[int] = set()
    out: list[Main] = []
    for m in net.mains:
        trace = net.trace(m.main_id)
        dry = set(trace.main_ids)
        accounts = [a for a in world.accounts if a.main_id in dry]
        if m.status != 0 or len(trace.valves) < 2 or not trace.sealed or dry & taken:
            continue
        customers = len({a.customer_no for a in accounts})
        if not (10 <= customers <= 60 if len(out) < count else customers > SYNC_LIMIT):
            continue
        taken |= dry
        out.append(
            Main(
                m.asset_no,
                tuple(valve_asset[v] for v in sorted(trace.valves)),
                tuple(a.account_no for a in accounts),
                frozenset(a.customer_no for a in accounts),
            )
        )
        if len(out) == count + big:
            return out
    raise AssertionError("not enough separate outages in the seeded network")


@dataclass
class Stack:
    bff: BffProcess
    sims: dict[str, SimProcess]
    redis: RedisProcess
    mains: list[Main]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    sims = {name: start_simulator(name) for name in ("billing", "crm", "gis", "workorders")}
    redis = start_redis()
    bff = start_bff(sims, env={"TIDEGATE_REDIS_URL": redis.url, "TIDEGATE_RATE_LIMITS": "false"})
    try:
        yield Stack(bff, sims, redis, _mains(4, big=1))
    finally:
        bff.stop()
        redis.stop()
        for sim in sims.values():
            sim.stop()


def gql(stack: Stack, query: str, variables: dict[str, Any] | None = None, role: str = "supervisor") -> Any:
    response = httpx.post(
        f"{stack.bff.url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=stack.bff.auth(role),
        timeout=60.0,
    )
    return response.json()


def _declare_vars(main: Main, key: str) -> dict[str, Any]:
    restore = datetime.now(SHANGHAI).replace(microsecond=0) + timedelta(hours=6)
    return {
        "main": main.asset_no,
        "kind": "EMERGENCY",
        "restore": restore.isoformat(),
        "reason": "主管爆管抢修",
        "key": key,
    }


def orders(stack: Stack, **params: str) -> list[dict[str, Any]]:
    body = httpx.get(
        f"{stack.sims['workorders'].url}/wo/api/orders", params={**params, "size": "200"}, timeout=10.0
    ).json()
    assert body["total"] <= 200
    return list(body["list"])


def order_total(stack: Stack) -> int:
    body = httpx.get(f"{stack.sims['workorders'].url}/wo/api/orders", params={"size": "1"}, timeout=10.0)
    return int(body.json()["total"])


def outbox(stack: Stack, prefix: str) -> list[dict[str, Any]]:
    body = httpx.get(
        f"{stack.sims['crm'].url}/crm/api/v2/sms", params={"refPrefix": prefix, "limit": "500"}, timeout=10.0
    ).json()
    assert body["total"] == len(body["items"])
    return list(body["items"])


def test_declaring_files_one_master_with_a_task_per_closure_and_publishes_the_notice(stack: Stack) -> None:
    main = stack.mains[0]
    plan = gql(stack, PLAN, {"m": main.asset_no})["data"]["isolationPlan"]
    assert [v["id"] for v in plan["valvesToClose"]] == list(main.valves)
    answer = gql(stack, DECLARE, _declare_vars(main, str(uuid.uuid4())))
    assert "errors" not in answer, answer
    found = answer["data"]["declareOutage"]
    outage, master, tasks = found["outage"], found["masterTicket"], found["closureTasks"]
    assert outage["id"] == f"TG-{main.asset_no}-1"
    assert (outage["status"], outage["kind"]) == ("ACTIVE", "EMERGENCY")
    assert outage["affectedAccounts"] == plan["accountCount"] == len(main.account_nos)
    # One master order under the outage's id, one child task per valve, under the master.
    assert [o["order_no"] for o in orders(stack, client_ref=outage["id"])] == [master["id"]]
    assert master["parentId"] is None and master["category"] == "BURST_MAIN"
    children = orders(stack, parent_no=master["id"])
    assert sorted(o["order_no"] for o in children) == sorted(t["id"] for t in tasks)
    assert len(tasks) == len(main.valves) and all(t["parentId"] == master["id"] for t in tasks)
    assert sorted(t["clientRef"] for t in tasks) == sorted(f"{outage['id']}/{v}" for v in main.valves)
    # The GIS notice, through Tidegate's own outage list, with the trace's count.
    active = {o["id"]: o for o in gql(stack, ACTIVE)["data"]["outages"]}
    assert active[outage["id"]]["affectedAccounts"] == len(main.account_nos)
    # One text per affected customer with a mobile, each to the CRM's number for that customer.
    notices = found["notices"]
    assert notices["customers"] == plan["customerCount"] == len(main.customer_nos)
    assert not notices["background"] and notices["duplicates"] == 0
    sent = outbox(stack, f"{outage['id']}/D/")
    assert len(sent) == notices["sent"] == notices["customers"] - notices["withoutMobile"] > 0
    assert {m["customerNo"] for m in sent} <= set(main.customer_nos)
    assert len({m["customerNo"] for m in sent}) == len(sent)
    world = seeded_world()
    assert all(m["mobile"] == world.customer_by_no[m["customerNo"]].mobile for m in sent)
    assert notices["withoutMobile"] == sum(1 for n in main.customer_nos if not world.customer_by_no[n].mobile)
    # Tidegate's own log names no mobile in clear.
    log = stack.bff.log()
    assert "outage notices sent" in log and "****" in log
    assert not [m["mobile"] for m in sent if m["mobile"] in log]


def test_redeclaring_is_idempotent_and_sends_nothing_twice(stack: Stack) -> None:
    main = stack.mains[1]
    key = str(uuid.uuid4())
    # One payload for both sends: its restore time is "now + 6 h", and a retry repeats it exactly.
    payload = _declare_vars(main, key)
    first = gql(stack, DECLARE, payload)["data"]["declareOutage"]
    outage_id, master_id = first["outage"]["id"], first["masterTicket"]["id"]
    texts = len(outbox(stack, f"{outage_id}/D/"))
    # The same key: the first answer again. Another key (another supervisor's click): the same outage.
    again = gql(stack, DECLARE, payload)["data"]["declareOutage"]
    other = gql(stack, DECLARE, _declare_vars(main, str(uuid.uuid4())))["data"]["declareOutage"]
    assert again == first
    assert (other["outage"]["id"], other["masterTicket"]["id"]) == (outage_id, master_id)
    assert [t["id"] for t in other["closureTasks"]] == [t["id"] for t in first["closureTasks"]]
    assert other["notices"]["sent"] == 0 and other["notices"]["duplicates"] == texts
    assert len(orders(stack, client_ref=outage_id)) == 1
    assert len(orders(stack, parent_no=master_id)) == len(main.valves)
    assert len(outbox(stack, f"{outage_id}/D/")) == texts
    counted = gql(stack, NOTICES, {"id": outage_id})["data"]["outageNotices"]
    assert counted == {"outageId": outage_id, "declared": texts, "allClear": 0}
    # The key reused for another main is refused, and files nothing.
    reused = gql(stack, DECLARE, _declare_vars(stack.mains[3], key))
    assert reused["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_an_agent_may_not_declare_restore_or_count(stack: Stack) -> None:
    main = stack.mains[3]
    before = order_total(stack)
    refused = gql(stack, DECLARE, _declare_vars(main, str(uuid.uuid4())), role="agent")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    restore = gql(stack, RESTORE, {"id": f"TG-{main.asset_no}-1", "key": "k1"}, role="agent")
    assert restore["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert order_total(stack) == before  # nothing filed


def test_bad_input_is_refused_with_a_code(stack: Stack) -> None:
    main = stack.mains[3]
    past = {**_declare_vars(main, str(uuid.uuid4())), "restore": "2020-01-01T00:00:00+08:00"}
    assert gql(stack, DECLARE, past)["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    unknown = {**_declare_vars(main, str(uuid.uuid4())), "main": "GS-999999"}
    assert gql(stack, DECLARE, unknown)["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    by_hand = gql(stack, RESTORE, {"id": "TD-202611-001", "key": str(uuid.uuid4())})
    assert by_hand["errors"][0]["extensions"]["code"] == "OUTAGE_NOT_DECLARED"


async def _post(client: httpx.AsyncClient, stack: Stack, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post(
        f"{stack.bff.url}/graphql", json={"query": query, "variables": variables}, headers=stack.bff.auth()
    )
    return response.json()


async def _until_answered(
    client: httpx.AsyncClient, stack: Stack, query: str, variables: dict[str, Any]
) -> Any:
    """As a client does: a key in progress, or a back office at capacity, means ask again with the
    same key (what went through before stays done: every step is keyed at its back office)."""
    for _ in range(60):
        body = await _post(client, stack, query, variables)
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        if not RETRYABLE & set(codes):
            return body
        await asyncio.sleep(0.5)
    raise AssertionError(f"never answered: {variables}")


async def test_tickets_racing_the_declaration_make_one_master_and_no_duplicates(stack: Stack) -> None:
    """Three supervisors declare the same burst while its customers' no-water tickets pour in (some
    sent twice under one key, as a double click does). Then: one master order, one task per valve;
    no key has more than one order; a ticket either is the master or its own order, never both; and
    every ticket sent after the declaration answered is the master."""
    main = stack.mains[2]
    accounts = list(main.account_nos) * (1 + RACE_TICKETS // len(main.account_nos))
    keys = [str(uuid.uuid4()) for _ in range(RACE_TICKETS)]
    inputs = {
        k: {"category": "NO_WATER", "description": f"家里没水了 {i}", "accountNo": accounts[i]}
        for i, k in enumerate(keys)
    }
    submissions = keys + keys[::4]  # a quarter sent twice
    async with httpx.AsyncClient(timeout=120.0) as client:
        declarations = [
            _until_answered(client, stack, DECLARE, _declare_vars(main, str(uuid.uuid4()))) for _ in range(3)
        ]
        tickets = [
            _until_answered(client, stack, CREATE, {"input": inputs[k], "key": k}) for k in submissions
        ]
        answered = await asyncio.gather(*declarations, *tickets)
        assert all("errors" not in a for a in answered[:3]), [a.get("errors") for a in answered[:3]]
        declared = [a["data"]["declareOutage"] for a in answered[:3]]
        racing = answered[3:]
        after_keys = [str(uuid.uuid4()) for _ in range(12)]
        after = await asyncio.gather(
            *(
                _until_answered(
                    client,
                    stack,
                    CREATE,
                    {"input": {**inputs[keys[i]], "description": f"还是没水 {i}"}, "key": k},
                )
                for i, k in enumerate(after_keys)
            )
        )
    assert all("errors" not in a for a in racing + after), [a for a in racing + after if "errors" in a][:3]
    outage_id = declared[0]["outage"]["id"]
    master_id = declared[0]["masterTicket"]["id"]
    assert {(d["outage"]["id"], d["masterTicket"]["id"]) for d in declared} == {(outage_id, master_id)}
    assert [o["order_no"] for o in orders(stack, client_ref=outage_id)] == [master_id]
    assert len(orders(stack, parent_no=master_id)) == len(main.valves)
    by_key: dict[str, set[str]] = {}
    for key, body in zip(submissions, racing, strict=True):
        by_key.setdefault(key, set()).add(body["data"]["createTicket"]["id"])
    assert all(len(ids) == 1 for ids in by_key.values())  # a key's every answer is the same ticket
    for key, ids in by_key.items():
        reference = scoped_key("workbench", "createTicket", key).reference
        own = orders(stack, client_ref=reference)
        (answer,) = ids
        if answer == master_id:
            assert own == []  # attached: no order of its own
        else:
            assert [o["order_no"] for o in own] == [answer]  # filed before the notice was up, once
    assert {a["data"]["createTicket"]["id"] for a in after} == {master_id}
    for key in after_keys:
        assert orders(stack, client_ref=scoped_key("workbench", "createTicket", key).reference) == []
    print(
        "race:",
        sum(1 for ids in by_key.values() if ids == {master_id}),
        "of",
        len(by_key),
        "racing tickets attached to the master",
    )


def test_restoring_closes_the_notice_completes_the_master_and_sends_the_all_clear_once(stack: Stack) -> None:
    main = stack.mains[0]
    outage_id = f"TG-{main.asset_no}-1"
    declared_texts = len(outbox(stack, f"{outage_id}/D/"))
    assert declared_texts > 0  # declared by the first test of this module
    key = str(uuid.uuid4())
    first = gql(stack, RESTORE, {"id": outage_id, "key": key})
    assert "errors" not in first, first
    restored = first["data"]["restoreOutage"]
    assert restored["outage"]["status"] == "RESTORED"
    assert restored["masterTicket"]["status"] == "COMPLETED"
    assert restored["notices"]["sent"] == declared_texts  # the same customers, the same mobiles
    assert outage_id not in {o["id"] for o in gql(stack, ACTIVE)["data"]["outages"]}
    master = orders(stack, client_ref=outage_id)[0]
    assert master["status"] == "06"
    assert {o["status"] for o in orders(stack, parent_no=master["order_no"])} == {"06"}
    # Again, same key and another: the same answer, no second all-clear.
    assert gql(stack, RESTORE, {"id": outage_id, "key": key}) == first
    other = gql(stack, RESTORE, {"id": outage_id, "key": str(uuid.uuid4())})["data"]["restoreOutage"]
    assert other["outage"]["status"] == "RESTORED" and other["notices"]["sent"] == 0
    assert len(outbox(stack, f"{outage_id}/R/")) == declared_texts
    counted = gql(stack, NOTICES, {"id": outage_id})["data"]["outageNotices"]
    assert counted == {"outageId": outage_id, "declared": declared_texts, "allClear": declared_texts}
    # The main can burst again: a new declaration is the main's second outage, with a new master.
    again = gql(stack, DECLARE, _declare_vars(main, str(uuid.uuid4())))["data"]["declareOutage"]
    assert again["outage"]["id"] == f"TG-{main.asset_no}-2"
    assert again["masterTicket"]["id"] != master["order_no"]


def _sms_batches(stack: Stack) -> int:
    return int(stats(stack.sims["crm"].url)["operations"].get("sendSms", {}).get("requests", 0))


def _outbox_reaches(stack: Stack, outage_id: str, expected: int) -> None:
    """Wait for a background run to fill the outbox to `expected`; it must never pass it."""
    for _ in range(240):
        counted = gql(stack, NOTICES, {"id": outage_id})["data"]["outageNotices"]["declared"]
        assert counted <= expected
        if counted == expected:
            assert len(outbox(stack, f"{outage_id}/D/")) == expected
            return
        time.sleep(0.25)
    raise AssertionError(f"the notice run for {outage_id} stopped at {counted} of {expected}")


def test_a_large_notice_run_goes_on_in_the_background_and_once_per_customer(stack: Stack) -> None:
    main = stack.mains[4]
    world = seeded_world()
    with_mobile = {n for n in main.customer_nos if world.customer_by_no[n].mobile}
    first = gql(stack, DECLARE, _declare_vars(main, str(uuid.uuid4())))["data"]["declareOutage"]
    outage_id, notices = first["outage"]["id"], first["notices"]
    assert notices == {
        "customers": len(main.customer_nos),
        "sent": 0,
        "duplicates": 0,
        "withoutMobile": 0,
        "background": True,
    }
    _outbox_reaches(stack, outage_id, len(with_mobile))
    # Declared again (another key): the run goes again, batch by batch, and the CRM sends nothing twice.
    batches = -(-len(main.customer_nos) // 100)
    before = _sms_batches(stack)
    again = gql(stack, DECLARE, _declare_vars(main, str(uuid.uuid4())))["data"]["declareOutage"]
    assert again["outage"]["id"] == outage_id and again["notices"]["background"]
    for _ in range(240):  # until the second run's batches have all reached the CRM
        _outbox_reaches(stack, outage_id, len(with_mobile))
        if _sms_batches(stack) - before >= batches:
            break
        time.sleep(0.25)
    assert _sms_batches(stack) - before >= batches  # (>=: run one's last batch may count late)
    _outbox_reaches(stack, outage_id, len(with_mobile))
    sent = outbox(stack, f"{outage_id}/D/")
    assert {m["customerNo"] for m in sent} == with_mobile


def test_an_agents_no_water_ticket_for_an_affected_caller_is_the_master(stack: Stack) -> None:
    """The agent on the call files as usual; the answer is the outage's repair, which the agent may
    then read for the rest of the call (it is on their call now)."""
    main = stack.mains[3]
    declared = gql(stack, DECLARE, _declare_vars(main, str(uuid.uuid4())))["data"]["declareOutage"]
    master_id = declared["masterTicket"]["id"]
    world = seeded_world()
    on_main = set(main.account_nos)
    caller = next(
        c
        for c in sole_callers(world)
        if any(a.account_no in on_main for a in world.accounts_of.get(c.customer_no, []))
    )
    account = next(a for a in world.accounts_of[caller.customer_no] if a.account_no in on_main)
    agent = answer_and_look_up(stack.bff, "A2001", f"call-{uuid.uuid4().hex[:8]}", caller)
    filed = httpx.post(
        f"{stack.bff.url}/graphql",
        json={
            "query": CREATE,
            "variables": {
                "input": {"category": "NO_WATER", "description": "停水了", "accountNo": account.account_no},
                "key": str(uuid.uuid4()),
            },
        },
        headers=agent,
        timeout=60.0,
    ).json()
    assert "errors" not in filed, filed
    assert filed["data"]["createTicket"]["id"] == master_id
    read = httpx.post(
        f"{stack.bff.url}/graphql",
        json={"query": "query($id: ID!) { ticket(id: $id) { id status } }", "variables": {"id": master_id}},
        headers=agent,
        timeout=30.0,
    ).json()
    assert read["data"]["ticket"]["id"] == master_id
    # A billing question from the same caller is no part of the outage: filed as its own order.
    other = httpx.post(
        f"{stack.bff.url}/graphql",
        json={
            "query": CREATE,
            "variables": {
                "input": {
                    "category": "BILLING_DISPUTE",
                    "description": "水费有误",
                    "accountNo": account.account_no,
                },
                "key": str(uuid.uuid4()),
            },
        },
        headers=agent,
        timeout=60.0,
    ).json()
    assert "errors" not in other, other
    assert other["data"]["createTicket"]["id"] != master_id
