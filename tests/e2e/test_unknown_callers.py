"""Callers Tidegate does not know, transfers and conferences (issue 17), end to end: two `tidegate serve`
processes on one redis-server (the call feed between them), the simulators as processes, real
tokens, signed CTI events, graphql-transport-ws for the pops, the audit file.

This module's billing simulator is its own: its phone search answers in a fixed 800 ms, slower than
the screen pop's real 300 ms deadline (and the 250 ms a pop waits for it), faster than billing's
1.5 s call timeout, as billing's long tail often is. The CTI posts to `b`; agents ask `a`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import redis

from bench.graphql_ws import GraphQLWs
from simulators.world import phone_key
from simulators.world.model import Customer as WorldCustomer
from tests.conftest import Simulators
from tests.support.admin import stats
from tests.support.audit import read_audit, wait_for_audit
from tests.support.live import next_data, until
from tests.support.processes import BffProcess, SimProcess, start_bff, start_simulator
from tests.support.redis_server import RedisProcess, start_redis
from tests.support.world import seeded_world, sole_callers

GQL = Path(__file__).parents[2] / "gql"
SCREEN_POP = (GQL / "screen_pop.graphql").read_text(encoding="utf-8")
CALLER_MATCH = (GQL / "caller_match.graphql").read_text(encoding="utf-8")
CANDIDATES = (GQL / "identification_candidates.graphql").read_text(encoding="utf-8")
VERIFY = (GQL / "verify_caller.graphql").read_text(encoding="utf-8")
BIND = (GQL / "bind_caller.graphql").read_text(encoding="utf-8")
POPS = """subscription($a: ID!) { screenPop(agentId: $a) {
    callId prefetched match { status source searching } customers { id } } }"""
ONE = "query($id: ID!) { customer(id: $id) { id name } }"
LOOK_UP = "query($p: String!) { customerByPhone(phone: $p) { id } }"
CACHE_KEY = base64.urlsafe_b64encode(bytes(range(64, 96))).decode()
UNKNOWN = "13800138000"  # the README's number: nobody in the seeded district has it
PHONE_SEARCH_MS = 800


@dataclass
class Pair:
    a: BffProcess  # the agents' queries and websockets
    b: BffProcess  # the CTI's events
    billing: SimProcess
    redis: RedisProcess

    def ws(self) -> str:
        return self.a.url.replace("http://", "ws://") + "/graphql"

    def subscribers(self, channel: str) -> int:
        client = redis.Redis(port=self.redis.port)
        try:
            ((_, count),) = cast("list[tuple[Any, int]]", client.pubsub_numsub(channel))
        finally:
            client.close()
        return count


@pytest.fixture(scope="module")
def pair(sims: Simulators) -> Iterator[Pair]:
    server = start_redis()
    billing = start_simulator("billing")
    faults = {"latency_scale": 0.0, "ops": {"QueryAccountsByPhone": {"latency_ms": PHONE_SEARCH_MS}}}
    httpx.put(f"{billing.url}/_sim/faults", json=faults).raise_for_status()
    backends = {"billing": billing, "crm": sims["crm"], "gis": sims["gis"], "workorders": sims["workorders"]}
    env = {
        "TIDEGATE_REDIS_URL": server.url,
        "TIDEGATE_CACHE_KEY": CACHE_KEY,
        "TIDEGATE_BUDGET_CRITICAL_MS": "300",  # the real screen-pop deadline
        "TIDEGATE_REPLICAS": "2",
    }
    started: list[BffProcess] = []
    try:
        a = start_bff(backends, env)
        started.append(a)
        started.append(start_bff(backends, {**env, "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(a.issuer_key_path)}))
        yield Pair(started[0], started[1], billing, server)
    finally:
        for bff in started:
            bff.stop()
        billing.stop()
        server.stop()


def _ask(bff: BffProcess, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    r = httpx.post(
        f"{bff.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return cast("dict[str, Any]", r.json())


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def _phone_searches(billing: SimProcess) -> int:
    found = stats(billing.url)["operations"].get("QueryAccountsByPhone")
    return int(found["requests"]) if found else 0


def _audit(bff: BffProcess) -> list[dict[str, Any]]:
    return read_audit(bff.audit_path)


def _identifiable(index: int) -> WorldCustomer:
    """A person with an ID number and an account, whose mobile is theirs alone."""
    world = seeded_world()
    found = [c for c in sole_callers(world) if c.id_card and world.accounts_of[c.customer_no]]
    return found[len(found) // 2 + index]  # the middle of the list: other modules pick from the ends


def _street(address: str) -> str:
    """`江城市临江区新华路391号...` -> `新华路`: what a caller says when asked for their street."""
    found = re.search(r"区(.+?)\d+号", address)
    assert found is not None, address
    return found.group(1)


def _kh(customer_no: int) -> str:
    return f"KH{customer_no:08d}"


def test_an_unknown_number_is_no_match_within_the_deadline_and_readyz_stays_ready(pair: Pair) -> None:
    assert phone_key(UNKNOWN) not in seeded_world().customers_by_phone
    token = pair.a.token("agent", "A7001")
    assert pair.b.cti("CALL_ANSWERED", "A7001", "call-7001", UNKNOWN).status_code == 204
    started = time.monotonic()
    pop = _ask(pair.a, SCREEN_POP, {"phone": UNKNOWN}, token)
    print(f"unknown caller answered no match in {(time.monotonic() - started) * 1000:.0f} ms")
    assert _codes(pop) == [] and pop["data"] == {"customerByPhone": []}  # not BACKEND_TIMEOUT
    match = _ask(pair.a, CALLER_MATCH, {}, token)
    assert _codes(match) == []
    assert match["data"]["callerMatch"]["status"] == "NO_MATCH"
    assert match["data"]["callerMatch"]["callId"] == "call-7001"
    # billing's search finishes in the background (it finds nobody); billing was not failed.
    asyncio.run(until(lambda: not _searching(pair.a, token), "the phone search over"))
    ready = httpx.get(f"{pair.a.url}/readyz").json()
    assert ready["status"] == "ready", ready
    assert ready["checks"]["billing"]["last_outcome"] == "ok", ready
    assert pair.b.cti("CALL_ENDED", "A7001", "call-7001").status_code == 204


def _match(bff: BffProcess, token: str) -> dict[str, Any] | None:
    return cast("dict[str, Any] | None", _ask(bff, CALLER_MATCH, {}, token)["data"]["callerMatch"])


def _searching(bff: BffProcess, token: str) -> bool:
    match = _match(bff, token)
    return bool(match and match["searching"])


async def test_a_late_billing_match_updates_the_pop_live(pair: Pair) -> None:
    world = seeded_world()
    number = sorted(world.crm_unlisted_phones)[0]  # billing has it, the CRM never did
    (owner,) = world.customers_by_phone[number]
    token = pair.a.token("agent", "A7002")
    async with GraphQLWs.connect(pair.ws(), token) as ws:
        op = await ws.subscribe(POPS, {"a": "A7002"})
        await until(lambda: pair.subscribers("screenpop:A7002") == 1, "the subscription live")
        assert pair.b.cti("CALL_RINGING", "A7002", "call-7002", number).status_code == 204
        first = (await next_data(ws, op))["screenPop"]
        later = (await next_data(ws, op))["screenPop"]
    assert first["callId"] == "call-7002" and first["customers"] == []
    assert first["match"]["status"] == "NO_MATCH"
    assert later["callId"] == "call-7002"
    assert later["match"] == {"status": "MATCHED", "source": "PHONE_BILLING_LATE", "searching": False}
    assert [c["id"] for c in later["customers"]] == [_kh(owner)]
    # The binding reached the agent's queries too: they may now read the caller, and looking the
    # number up on this process answers the caller the call found (billing is not asked again).
    assert _codes(_ask(pair.a, ONE, {"id": _kh(owner)}, token)) == []
    searches = _phone_searches(pair.billing)
    again = _ask(pair.a, LOOK_UP, {"p": number}, token)
    assert _codes(again) == [] and again["data"]["customerByPhone"] == [{"id": _kh(owner)}]
    assert _phone_searches(pair.billing) == searches
    assert pair.b.cti("CALL_ENDED", "A7002", "call-7002").status_code == 204
    await until(lambda: _codes(_ask(pair.a, ONE, {"id": _kh(owner)}, token)) == ["FORBIDDEN"], "ended")


async def test_a_withheld_number_is_a_normal_no_match(pair: Pair) -> None:
    token = pair.a.token("agent", "A7003")
    async with GraphQLWs.connect(pair.ws(), token) as ws:
        op = await ws.subscribe(POPS, {"a": "A7003"})
        await until(lambda: pair.subscribers("screenpop:A7003") == 1, "the subscription live")
        # A switch that withholds the number sends no digits: "anonymous", "", or nothing at all.
        assert pair.b.cti("CALL_RINGING", "A7003", "call-7003", "anonymous").status_code == 204
        pop = (await next_data(ws, op))["screenPop"]
    assert pop["customers"] == [] and pop["match"]["status"] == "WITHHELD"
    await until(lambda: _ask(pair.a, CALLER_MATCH, {}, token)["data"]["callerMatch"] is not None, "call on a")
    match = _ask(pair.a, CALLER_MATCH, {}, token)["data"]["callerMatch"]
    assert match["status"] == "WITHHELD" and match["customers"] == []
    assert pair.b.cti("CALL_ENDED", "A7003", "call-7003").status_code == 204


def test_search_verify_bind_then_least_privilege_follows_the_bound_customer(pair: Pair) -> None:
    world = seeded_world()
    caller, other = _identifiable(0), _identifiable(1)
    account = world.accounts_of[caller.customer_no][0]
    token = pair.a.token("agent", "A7004")
    # Not on a call: no searching the customer base.
    refused = _ask(pair.a, CANDIDATES, {"accountNo": account.account_no}, token)
    assert _codes(refused) == ["FORBIDDEN"]

    assert pair.b.cti("CALL_ANSWERED", "A7004", "call-7004", None).status_code == 204  # withheld
    asyncio.run(until(lambda: _match(pair.a, token) is not None, "the call on a"))
    found = _ask(pair.a, CANDIDATES, {"accountNo": account.account_no.lstrip("0")}, token)
    assert _codes(found) == []
    (candidate,) = found["data"]["identificationCandidates"]
    assert "*" in candidate["accountNo"] and candidate["accountNo"] != account.account_no
    assert "*" in candidate["holderName"] and candidate["holderName"] != caller.name
    assert account.account_no not in json.dumps(found, ensure_ascii=False)
    by_name = _ask(pair.a, CANDIDATES, {"name": caller.name, "first": 3}, token)
    assert _codes(by_name) == [] and 1 <= len(by_name["data"]["identificationCandidates"]) <= 3

    premature = _ask(pair.a, BIND, {"input": {"candidateId": candidate["candidateId"], "reason": "x"}}, token)
    assert _codes(premature) == ["IDENTIFICATION_NOT_VERIFIED"]
    assert caller.id_card is not None
    answers = {"candidateId": candidate["candidateId"], "idCardLast4": caller.id_card[-4:]}
    checked = _ask(pair.a, VERIFY, {"input": {**answers, "street": _street(account.premises.address)}}, token)
    # Failed once in a parallel CI run (verified false, no error) and never since: say why if again.
    verified = _codes(checked) == [] and checked["data"]["verifyCaller"]["verified"] is True
    if not verified:  # the audit record names the customer billing's record belonged to
        why = wait_for_audit(pair.a.audit_path, lambda r: "caller_verif" in json.dumps(r), timeout_s=2)
        pytest.fail(f"not verified as {_kh(caller.customer_no)}: {checked} {why}")
    reason = "caller on a neighbour's phone; ID last four and street checked"
    bound = _ask(pair.a, BIND, {"input": {"candidateId": candidate["candidateId"], "reason": reason}}, token)
    assert _codes(bound) == []
    assert bound["data"]["bindCaller"]["status"] == "IDENTIFIED"
    assert [c["id"] for c in bound["data"]["bindCaller"]["customers"]] == [_kh(caller.customer_no)]

    bound_lines = wait_for_audit(
        pair.a.audit_path, lambda r: r["event"] == "call_bound" and r["call_id"] == "call-7004"
    )
    line = bound_lines[0]
    assert (line["agent_id"], line["customer"], line["reason"]) == ("A7004", _kh(caller.customer_no), reason)
    assert all("street" not in r and "idCardLast4" not in r for r in _audit(pair.a))  # answers unwritten

    assert _codes(_ask(pair.a, ONE, {"id": _kh(caller.customer_no)}, token)) == []
    assert _codes(_ask(pair.a, ONE, {"id": _kh(other.customer_no)}, token)) == ["FORBIDDEN"]
    again = _ask(pair.a, CANDIDATES, {"accountNo": account.account_no}, token)
    assert _codes(again) == ["FORBIDDEN"]  # identified: searching is over on this call
    searched = wait_for_audit(
        pair.a.audit_path, lambda r: r["event"] == "caller_search" and r["call_id"] == "call-7004", at_least=2
    )
    assert [r["by"] for r in searched] == [["accountNo"], ["name"]]

    # Transferred, the identification goes with the call: the new agent reads the bound customer.
    mine = {"id": _kh(caller.customer_no)}
    other_agent = pair.a.token("agent", "A7009")
    assert pair.b.cti("CALL_TRANSFERRED", "A7009", "call-7004").status_code == 204
    asyncio.run(until(lambda: _codes(_ask(pair.a, ONE, mine, other_agent)) == [], "moved with the call"))
    assert _codes(_ask(pair.a, ONE, mine, token)) == ["FORBIDDEN"]
    moved = _match(pair.a, other_agent)
    assert moved is not None and moved["status"] == "IDENTIFIED"
    assert pair.b.cti("CALL_ENDED", "A7009", "call-7004").status_code == 204
    asyncio.run(until(lambda: _codes(_ask(pair.a, ONE, mine, other_agent)) == ["FORBIDDEN"], "the end"))


def test_wrong_answers_lock_identification_on_the_call(pair: Pair) -> None:
    world = seeded_world()
    caller = _identifiable(2)
    account = world.accounts_of[caller.customer_no][0]
    token = pair.a.token("agent", "A7005")
    assert pair.b.cti("CALL_ANSWERED", "A7005", "call-7005", UNKNOWN).status_code == 204
    asyncio.run(until(lambda: _match(pair.a, token) is not None, "the call on a"))
    (candidate,) = _ask(pair.a, CANDIDATES, {"accountNo": account.account_no}, token)["data"][
        "identificationCandidates"
    ]
    assert caller.id_card is not None
    wrong_last4 = "0000" if caller.id_card[-4:] != "0000" else "1111"
    wrong = {"candidateId": candidate["candidateId"], "idCardLast4": wrong_last4, "street": "人民路"}
    left = []
    for _ in range(3):
        answer = _ask(pair.a, VERIFY, {"input": wrong}, token)
        assert _codes(answer) == [] and answer["data"]["verifyCaller"]["verified"] is False
        left.append(
            (answer["data"]["verifyCaller"]["attemptsLeft"], answer["data"]["verifyCaller"]["locked"])
        )
    assert left == [(2, False), (1, False), (0, True)]
    right = {**wrong, "idCardLast4": caller.id_card[-4:], "street": _street(account.premises.address)}
    assert _codes(_ask(pair.a, VERIFY, {"input": right}, token)) == ["IDENTIFICATION_LOCKED"]
    # The count lives in redis: the other process refuses too.
    assert _codes(_ask(pair.b, VERIFY, {"input": right}, token)) == ["IDENTIFICATION_LOCKED"]
    failures = wait_for_audit(
        pair.a.audit_path,
        lambda r: r["event"] == "caller_verification_failed" and r["call_id"] == "call-7005",
        at_least=3,
    )
    assert [r["attempts"] for r in failures if r["call_id"] == "call-7005"] == [1, 2, 3]
    # Searching is bounded per call too: ten masked rows at a time must not page through the district.
    by_account = {"accountNo": account.account_no}
    codes = [_codes(_ask(pair.a, CANDIDATES, by_account, token)) for _ in range(10)]
    assert codes == [[]] * 9 + [["IDENTIFICATION_LOCKED"]]  # the first search was one of the ten
    assert pair.b.cti("CALL_ENDED", "A7005", "call-7005").status_code == 204


async def test_a_transfer_moves_access_a_conference_shares_it_and_the_end_revokes_all(pair: Pair) -> None:
    caller = _identifiable(3)
    assert caller.mobile is not None
    me, to, joins = "A7006", "A7007", "A7008"
    tokens = {agent: pair.a.token("agent", agent) for agent in (me, to, joins)}
    customer = _kh(caller.customer_no)

    def reads(agent: str) -> list[str]:
        return _codes(_ask(pair.a, ONE, {"id": customer}, tokens[agent]))

    assert pair.b.cti("CALL_RINGING", me, "call-7006", caller.mobile).status_code == 204
    assert pair.b.cti("CALL_ANSWERED", me, "call-7006", caller.mobile).status_code == 204
    await until(lambda: reads(me) == [], "the first agent reads the caller")
    assert reads(to) == ["FORBIDDEN"]

    async with GraphQLWs.connect(pair.ws(), tokens[to]) as ws:
        op = await ws.subscribe(POPS, {"a": to})
        await until(lambda: pair.subscribers(f"screenpop:{to}") == 1, "the subscription live")
        assert pair.b.cti("CALL_TRANSFERRED", to, "call-7006").status_code == 204
        pop = (await next_data(ws, op))["screenPop"]
    assert pop["callId"] == "call-7006" and [c["id"] for c in pop["customers"]] == [customer]
    await until(lambda: reads(me) == ["FORBIDDEN"], "the transferring agent loses the caller")
    assert reads(to) == []

    assert pair.b.cti("CALL_ANSWERED", to, "call-7006", caller.mobile).status_code == 204
    assert pair.b.cti("CALL_CONFERENCE_JOINED", joins, "call-7006").status_code == 204
    await until(lambda: reads(joins) == [], "the joining agent shares the caller")
    assert reads(to) == [] and reads(me) == ["FORBIDDEN"]

    assert pair.b.cti("CALL_ENDED", to, "call-7006").status_code == 204
    await until(lambda: reads(joins) == ["FORBIDDEN"] and reads(to) == ["FORBIDDEN"], "the end revokes all")
    assert reads(me) == ["FORBIDDEN"]
    assert pair.b.cti("CALL_TRANSFERRED", me, "call-7006").status_code == 409  # an ended call stays ended
