"""Single-use CTI events end to end (issue 15 #3): two `tidegate serve` replicas sharing one
redis-server, real signed events over real HTTP, real tokens. A captured RINGING or ANSWERED posted
again after CALL_ENDED, to either replica, is refused and gives the agent nothing back."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from gateway.live.cti import sign, signed_event
from tests.conftest import Simulators
from tests.support.processes import CTI_SECRET, BffProcess, start_bff
from tests.support.redis_server import RedisProcess, start_redis
from tests.support.world import sole_callers

ONE = "query($id: ID!) { customer(id: $id) { id name } }"
POP = "query($p: String!) { customerByPhone(phone: $p) { id } }"
CACHE_KEY = base64.urlsafe_b64encode(bytes(range(64, 96))).decode()  # the replicas share the feed's key


@pytest.fixture(scope="module")
def replicas(sims: Simulators, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[BffProcess]]:
    redis: RedisProcess = start_redis()
    key = tmp_path_factory.mktemp("issuer") / "issuer-key.pem"
    env = {
        "TIDEGATE_REDIS_URL": redis.url,
        "TIDEGATE_CACHE_KEY": CACHE_KEY,
        "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key),  # one key: a token works on both replicas
    }
    backends = {name: sims[name] for name in ("billing", "crm", "gis", "workorders")}
    started: list[BffProcess] = []
    try:
        for _ in range(2):
            started.append(start_bff(backends, env))
        yield started
    finally:
        for bff in started:
            bff.stop()
        redis.stop()


def _ask(bff: BffProcess, query: str, variables: dict[str, Any], agent: str) -> dict[str, Any]:
    headers = bff.auth("agent", agent)
    r = httpx.post(f"{bff.url}/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def _refusal(r: httpx.Response) -> tuple[int, str | None]:
    """The status and the error's code (None for a 204: before the fix, a replay was applied)."""
    return r.status_code, r.json()["errors"][0]["extensions"]["code"] if r.content else None


def test_a_replayed_ringing_or_answered_after_the_end_is_refused_and_opens_nothing(
    replicas: list[BffProcess],
) -> None:
    a, b = replicas
    caller = sole_callers()[40]
    agent, call = "A8001", f"replay-{uuid.uuid4().hex[:8]}"
    ringing = signed_event(CTI_SECRET, "CALL_RINGING", agent, call, caller.mobile)
    answered = signed_event(CTI_SECRET, "CALL_ANSWERED", agent, call, caller.mobile)
    assert a.post_cti(*ringing).status_code == 204
    assert a.post_cti(*answered).status_code == 204
    (seen,) = _ask(a, POP, {"p": caller.mobile}, agent)["data"]["customerByPhone"]
    assert "errors" not in _ask(a, ONE, {"id": seen["id"]}, agent)  # the call's customer, while it lasts

    assert a.cti("CALL_ENDED", agent, call).status_code == 204
    assert _codes(_ask(a, ONE, {"id": seen["id"]}, agent)) == ["FORBIDDEN"]

    # The captured events, byte for byte, to the replica that saw them and to the other one.
    for replica in (a, b):
        assert _refusal(replica.post_cti(*ringing)) == (409, "CTI_EVENT_REPLAYED")
        assert _refusal(replica.post_cti(*answered)) == (409, "CTI_EVENT_REPLAYED")
    # A fresh, validly signed event of the ended call (a late or out-of-order CTI event) on either.
    assert _refusal(b.cti("CALL_RINGING", agent, call, caller.mobile)) == (409, "CTI_CALL_ENDED")
    assert _refusal(a.cti("CALL_ANSWERED", agent, call, caller.mobile)) == (409, "CTI_CALL_ENDED")

    # Least privilege holds: the agent is refused the customer, and the caller's number pops nothing.
    assert _codes(_ask(a, ONE, {"id": seen["id"]}, agent)) == ["FORBIDDEN"]
    assert _codes(_ask(a, POP, {"p": caller.mobile}, agent)) == ["FORBIDDEN"]


def test_a_replay_inside_a_live_call_is_refused_too(replicas: list[BffProcess]) -> None:
    a, b = replicas
    agent, call = "A8002", f"live-{uuid.uuid4().hex[:8]}"
    ringing = signed_event(CTI_SECRET, "CALL_RINGING", agent, call, "13800000000")
    assert a.post_cti(*ringing).status_code == 204
    assert _refusal(b.post_cti(*ringing)) == (409, "CTI_EVENT_REPLAYED")
    assert a.cti("CALL_ANSWERED", agent, call).status_code == 204
    # Going backwards is refused; the same step again (a new id) is harmless.
    assert _refusal(a.cti("CALL_RINGING", agent, call)) == (409, "CTI_EVENT_OUT_OF_ORDER")
    assert a.cti("CALL_ANSWERED", agent, call).status_code == 204
    assert a.cti("CALL_ENDED", agent, call).status_code == 204
    assert _refusal(a.cti("CALL_ENDED", agent, call)) == (409, "CTI_CALL_ENDED")


@pytest.mark.parametrize("event_id", [None, "", 42, "has space", "x" * 129])
def test_an_event_without_a_usable_id_is_a_coded_400(replicas: list[BffProcess], event_id: object) -> None:
    doc: dict[str, object] = {"event": "CALL_RINGING", "agentId": "A8003", "callId": "no-id"}
    if event_id is not None:
        doc["eventId"] = event_id
    body = orjson.dumps(doc)
    stamp = str(int(time.time()))
    headers = {"X-CTI-Timestamp": stamp, "X-CTI-Signature": sign(CTI_SECRET, stamp, body)}
    assert _refusal(replicas[0].post_cti(body, headers)) == (400, "CTI_EVENT_ID_REQUIRED")
