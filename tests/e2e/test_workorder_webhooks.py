"""Work-order webhooks end to end: a real work-order simulator delivering to real BFF processes that
share a real redis-server. The stored state is read back through GraphQL (`Ticket.liveStatus`).

Forged, stale and unknown-secret deliveries get 4xx and change nothing; duplicates and reordered
deliveries end on the right state; a BFF killed mid-delivery and restarted on its port loses nothing
(the simulator retries until a 2xx); a change delivered to one BFF is visible through the other.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest

import tests.support.processes as processes
from gateway.live.webhook_signature import sign
from tests.support.processes import BffProcess, SimProcess, start_bff, start_simulator
from tests.support.redis_server import RedisProcess, start_redis

API = "/wo/api"
KEY = b"tidegate-e2e-webhook-secret-32by"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
STRANGER = b"someone-else-entirely-secret-32b"
WAIT_S = 60.0
LIVE = "query ($id: ID!) { ticket(id: $id) { id status liveStatus { status sequence changedAt } } }"
# Vendor status codes -> TicketStatus, as backends/workorders/codes.yaml has them.
MAPPED = {"01": "ACCEPTED", "02": "DISPATCHED", "03": "ACKNOWLEDGED", "04": "ON_HOLD", "05": "IN_PROGRESS"}
MAPPED |= {"06": "COMPLETED", "07": "FOLLOW_UP", "08": "CLOSED", "11": "RETURNED", "99": "CANCELLED"}


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisProcess]:
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def wo() -> Iterator[SimProcess]:
    """A work-order simulator of this module's own: its webhook subscription is ours to point."""
    sim = start_simulator("workorders", customers=300)
    try:
        yield sim
    finally:
        sim.stop()


def bff_env(redis: RedisProcess) -> dict[str, str]:
    return {"TIDEGATE_WORKORDERS_WEBHOOK_SECRETS": SECRET, "TIDEGATE_REDIS_URL": redis.url}


@pytest.fixture(scope="module")
def bffs(wo: SimProcess, redis: RedisProcess) -> Iterator[tuple[BffProcess, BffProcess]]:
    """Two replicas sharing one redis-server."""
    one = start_bff({"workorders": wo}, bff_env(redis))
    try:
        two = start_bff({"workorders": wo}, bff_env(redis))
    except BaseException:
        one.stop()
        raise
    try:
        yield one, two
    finally:
        one.stop()
        two.stop()


@pytest.fixture
def admin(wo: SimProcess) -> Iterator[httpx.Client]:
    """The simulator's admin and REST API; on the way out its outbox has drained."""
    with httpx.Client(base_url=wo.url, timeout=10.0) as client:
        client.post("/_sim/stats/reset").raise_for_status()
        try:
            yield client
        finally:
            wait_for(client, lambda s: s["pending"] == 0 and s["in_flight"] == 0)


def subscribe(admin: httpx.Client, bff: BffProcess | None, **knobs: Any) -> None:
    hooks: dict[str, Any] = {"url": f"{bff.url}/webhooks/workorders" if bff else None, "secrets": [SECRET]}
    hooks |= {"duplicate_rate": 0, "reorder_rate": 0, "backoff_base_ms": 50, "backoff_cap_ms": 400}
    admin.put("/_sim/webhooks", json=hooks | knobs).raise_for_status()


def webhook_stats(admin: httpx.Client) -> dict[str, Any]:
    stats: dict[str, Any] = admin.get("/_sim/stats").json()["webhooks"]
    return stats


def wait_for(admin: httpx.Client, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        stats = webhook_stats(admin)
        if done(stats):
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(f"the simulator's deliveries never got there: {stats}")
        time.sleep(0.05)


def drained(stats: dict[str, Any]) -> bool:
    return bool(stats["pending"] == 0 and stats["in_flight"] == 0 and stats["acks"] >= stats["queued"])


def create(admin: httpx.Client) -> str:
    grid = admin.get(f"{API}/grids").json()["list"][0]["grid_code"]
    body = {"type": "LS", "description": "表井漏水", "cust_code": "KH-00000042", "grid_code": grid}
    r = admin.post(f"{API}/orders", json=body)
    r.raise_for_status()
    number: str = r.json()["order_no"]
    return number


def move(admin: httpx.Client, order_no: str, *targets: str) -> None:
    for target in targets:
        r = admin.post(f"{API}/orders/{order_no}/transition", json={"to": target, "operator": "W001"})
        r.raise_for_status()


def vendor_state(admin: httpx.Client, order_no: str) -> tuple[str, int]:
    """What the simulator holds: the mapped status and the sequence of its newest change."""
    order = admin.get(f"{API}/orders/{order_no}").json()
    return MAPPED[order["status"]], len(order["history"])


def live(bff: BffProcess, order_no: str) -> dict[str, Any] | None:
    r = httpx.post(
        f"{bff.url}/graphql", json={"query": LIVE, "variables": {"id": order_no}}, headers=bff.auth()
    )
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    found: dict[str, Any] | None = body["data"]["ticket"]["liveStatus"]
    return found


def live_state(bff: BffProcess, order_no: str) -> tuple[str, int] | None:
    found = live(bff, order_no)
    return (found["status"], found["sequence"]) if found else None


def webhook_outcomes(bff: BffProcess) -> Counter[str]:
    """How this BFF answered deliveries, from its JSON log lines."""
    out: Counter[str] = Counter()
    for line in bff.log().splitlines():
        if line.startswith("{") and '"work-order webhook"' in line:
            out[json.loads(line)["outcome"]] += 1
    return out


def post_event(
    bff: BffProcess,
    body: bytes,
    message_id: str,
    *,
    keys: tuple[bytes, ...] = (KEY,),
    timestamp: int | None = None,
    sent_body: bytes | None = None,
) -> httpx.Response:
    stamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(list(keys), message_id, stamp, body),
    }
    return httpx.post(f"{bff.url}/webhooks/workorders", content=sent_body or body, headers=headers)


def event(order_no: str, status: str, seq: int) -> bytes:
    return orjson.dumps(
        {
            "type": "order.status_changed",
            "order_no": order_no,
            "cust_code": "KH-00000042",
            "status": status,
            "seq": seq,
            "changed_at": int(time.time() * 1000),
        }
    )


def test_forged_stale_and_unknown_signatures_are_refused_and_change_nothing(
    admin: httpx.Client, bffs: tuple[BffProcess, BffProcess]
) -> None:
    one, two = bffs
    subscribe(admin, None)  # only the deliveries this test forges reach the BFF
    order_no = create(admin)
    genuine = event(order_no, "03", 3)
    assert post_event(one, genuine, "msg_genuine_1").json() == {"outcome": "applied"}
    assert live_state(one, order_no) == ("ACKNOWLEDGED", 3)

    closing = event(order_no, "08", 9)
    refused = {
        "tampered": post_event(one, genuine, "msg_forged_1", sent_body=closing),
        "stale": post_event(one, closing, "msg_forged_2", timestamp=int(time.time()) - 600),
        "unknown secret": post_event(one, closing, "msg_forged_3", keys=(STRANGER,)),
    }
    for case, r in refused.items():
        assert r.status_code == 401, case
        assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", case
    assert live_state(one, order_no) == live_state(two, order_no) == ("ACKNOWLEDGED", 3)
    # The refused ids were never remembered: once honestly signed, the same delivery is applied.
    assert post_event(two, closing, "msg_forged_3").json() == {"outcome": "applied"}
    assert live_state(one, order_no) == ("CLOSED", 9)


def test_duplicates_and_reordered_deliveries_end_on_the_right_state(
    admin: httpx.Client, bffs: tuple[BffProcess, BffProcess]
) -> None:
    one, two = bffs
    before, before_two = webhook_outcomes(one), webhook_outcomes(two)
    subscribe(admin, one, duplicate_rate=0.5, reorder_rate=0.5, hold_back_ms=300)
    orders = [create(admin) for _ in range(6)]
    paths = [("03", "05", "06", "07", "08"), ("03", "04", "05", "06"), ("11", "02", "03")]
    for index, order_no in enumerate(orders):
        move(admin, order_no, *paths[index % len(paths)])
    stats = wait_for(admin, drained)
    assert stats["duplicates"] > 0 and stats["out_of_order_acks"] > 0  # the habits really happened
    for order_no in orders:
        assert live_state(one, order_no) == vendor_state(admin, order_no), order_no
        assert live_state(two, order_no) == vendor_state(admin, order_no), order_no  # the other replica
    answered = webhook_outcomes(one) - before
    assert answered["duplicate"] > 0 and answered["stale"] > 0
    assert answered["applied"] + answered["stale"] == stats["queued"]
    assert webhook_outcomes(two) == before_two  # replica two saw none of these deliveries: it read Redis


def test_a_bff_restart_during_delivery_loses_nothing(
    admin: httpx.Client, wo: SimProcess, redis: RedisProcess
) -> None:
    bff = start_bff({"workorders": wo}, bff_env(redis))
    try:
        subscribe(admin, bff, backoff_base_ms=100, backoff_cap_ms=800)
        orders = [create(admin) for _ in range(4)]
        wait_for(admin, drained)
        for order_no in orders:
            move(admin, order_no, "03")
        bff.proc.kill()  # no goodbye: deliveries in flight die with it
        bff.proc.wait()
        for order_no in orders:
            move(admin, order_no, "05", "06")
        down = wait_for(admin, lambda s: s["failures"].get("connect", 0) >= 4)
        assert down["pending"] + down["in_flight"] > 0
        bff = restart_on_same_port(bff, wo, redis)
        stats = wait_for(admin, drained)
        for order_no in orders:
            assert live_state(bff, order_no) == vendor_state(admin, order_no) == ("COMPLETED", 5)
        assert stats["retries"] >= 4 and stats["attempts"] > stats["acks"]
    finally:
        bff.stop()


def restart_on_same_port(old: BffProcess, wo: SimProcess, redis: RedisProcess) -> BffProcess:
    """A new BFF process where the killed one listened: the simulator's subscription URL stays valid.
    (`start_bff` picks a free port; here it must pick the old one.)"""
    old.stop()  # the process is gone already: this clears its scratch files
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(processes, "free_port", lambda: old.port)
        return start_bff({"workorders": wo}, bff_env(redis))
