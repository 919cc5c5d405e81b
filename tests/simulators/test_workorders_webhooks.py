"""The work-order simulator as a real process delivering webhooks to a real HTTP receiver in the test.

The receiver checks every signature by hand (the Standard Webhooks recipe, no code shared with either
side) and with the specification's reference library's own `Webhook.verify` (the simulator signs
with the same library, so the hand check is what makes this test able to fail), and can refuse
attempts, so the sender's retries, duplicates, hold-backs and field crew are
seen on the wire and in `/_sim/stats`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

from simulators.launch import free_port
from tests.support.processes import SimProcess, start_simulator

API = "/wo/api"
KEY = b"work-order-webhook-test-key-32by"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
WAIT_S = 30.0


@dataclass
class Received:
    message_id: str
    timestamp: int
    event: dict[str, Any]
    signature_ok: bool
    library_ok: bool


@dataclass
class Receiver:
    """Answers 2xx unless `refuse(message_id, attempt)` says otherwise; records every request."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    refuse: Callable[[str, int], bool] = lambda _id, _attempt: False

    def attempts(self, message_id: str) -> list[Received]:
        return [r for r in self.requests if r.message_id == message_id]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        message_id = request.headers["webhook-id"]
        stamp = request.headers["webhook-timestamp"]
        expected = base64.b64encode(
            hmac.new(KEY, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        ).decode()
        offered = request.headers.get("webhook-signature", "").split()
        try:
            Webhook(SECRET).verify(body, dict(request.headers), json_parse=False)
            library_ok = True
        except WebhookVerificationError:
            library_ok = False
        self.requests.append(
            Received(message_id, int(stamp), json.loads(body), f"v1,{expected}" in offered, library_ok)
        )
        if self.refuse(message_id, len(self.attempts(message_id))):
            return web.Response(status=503)
        return web.Response(status=204)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    started = start_simulator("workorders", customers=300)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
async def receiver(sim: SimProcess) -> AsyncIterator[Receiver]:
    """A receiver subscribed with fast retries and no habits; tests turn the habits on. On the way out
    the crew stops and the outbox drains, so nothing spills into the next test."""
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    rec.url = f"http://127.0.0.1:{port}/hook"
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        hooks = {"url": rec.url, "secrets": [SECRET], "duplicate_rate": 0, "reorder_rate": 0}
        hooks |= {"backoff_base_ms": 20, "backoff_cap_ms": 100}
        (await admin.put("/_sim/webhooks", json=hooks)).raise_for_status()
        (await admin.post("/_sim/stats/reset")).raise_for_status()
        try:
            yield rec
        finally:
            rec.refuse = lambda _id, _attempt: False
            (await admin.put("/_sim/crew", json={})).raise_for_status()
            await until(admin, lambda s: s["pending"] == 0 and s["in_flight"] == 0)
            await runner.cleanup()


async def webhook_stats(admin: httpx.AsyncClient) -> dict[str, Any]:
    stats: dict[str, Any] = (await admin.get("/_sim/stats")).json()["webhooks"]
    return stats


async def until(admin: httpx.AsyncClient, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Poll the simulator's webhook stats until `done`; fail (with them) after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while True:
        stats = await webhook_stats(admin)
        if done(stats):
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(f"webhook stats never got there: {stats}")
        await asyncio.sleep(0.05)


async def create(admin: httpx.AsyncClient) -> dict[str, Any]:
    grid = (await admin.get(f"{API}/grids")).json()["list"][0]["grid_code"]
    body = {"type": "LS", "description": "楼道水管漏水", "cust_code": "KH-00000042", "grid_code": grid}
    r = await admin.post(f"{API}/orders", json=body)
    r.raise_for_status()
    order: dict[str, Any] = r.json()
    return order


async def transition(admin: httpx.AsyncClient, order_no: str, *targets: str) -> None:
    for target in targets:
        (await admin.post(f"{API}/orders/{order_no}/transition", json={"to": target})).raise_for_status()


async def test_every_status_change_is_delivered_signed_in_the_vendors_shape(
    sim: SimProcess, receiver: Receiver
) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        order = await create(admin)  # 受理 and 派单 at once: two changes
        await transition(admin, order["order_no"], "03", "05")
        stats = await until(admin, lambda s: s["acks"] >= 4)
    events = sorted((r.event for r in receiver.requests), key=lambda e: e["seq"])
    assert [(e["seq"], e["prev_status"], e["status"]) for e in events] == [
        (1, None, "01"),
        (2, "01", "02"),
        (3, "02", "03"),
        (4, "03", "05"),
    ]
    assert all(r.signature_ok and r.library_ok for r in receiver.requests)
    assert abs(receiver.requests[0].timestamp - time.time()) < 300
    last = events[-1]
    assert last["type"] == "order.status_changed" and last["order_no"] == order["order_no"]
    assert last["cust_code"] == "KH-00000042" and last["status_name"] == "施工中"
    assert isinstance(last["changed_at"], int) and last["changed_at"] > order["created_at"] - 1
    assert (stats["events"], stats["queued"], stats["attempts"], stats["acks"]) == (4, 4, 4, 4)
    assert len({r.message_id for r in receiver.requests}) == 4


async def test_refused_deliveries_are_retried_with_the_same_id_until_a_2xx(
    sim: SimProcess, receiver: Receiver
) -> None:
    receiver.refuse = lambda _id, attempt: attempt <= 3  # three 503s, then accepted
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        await create(admin)
        stats = await until(admin, lambda s: s["acks"] >= 2)
    ids = {r.message_id for r in receiver.requests}
    assert len(ids) == 2
    for message_id in ids:
        attempts = receiver.attempts(message_id)
        assert len(attempts) == 4 and all(a.signature_ok for a in attempts)
        stamps = [a.timestamp for a in attempts]
        assert stamps == sorted(stamps)  # each attempt signed afresh, never with an older time
    assert (stats["attempts"], stats["acks"], stats["retries"]) == (8, 2, 6)
    assert stats["failures"] == {"http_503": 6}


async def test_a_dead_receiver_is_retried_until_it_comes_back(sim: SimProcess, receiver: Receiver) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        (await admin.patch("/_sim/webhooks", json={"url": dead})).raise_for_status()
        await create(admin)
        await until(admin, lambda s: s["failures"].get("connect", 0) >= 4)
        (await admin.patch("/_sim/webhooks", json={"url": receiver.url})).raise_for_status()
        stats = await until(admin, lambda s: s["acks"] == 2 and s["pending"] == 0)
    assert stats["retries"] >= 4 and stats["attempts"] == stats["retries"] + 2
    assert sorted(r.event["seq"] for r in receiver.requests) == [1, 2]


async def test_duplicates_repeat_the_same_id_and_body(sim: SimProcess, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        (
            await admin.patch("/_sim/webhooks", json={"duplicate_rate": 1.0, "hold_back_ms": 50})
        ).raise_for_status()
        order = await create(admin)
        await transition(admin, order["order_no"], "03")
        stats = await until(admin, lambda s: s["acks"] == 6 and s["pending"] == 0)
    by_id: dict[str, list[dict[str, Any]]] = {}
    for r in receiver.requests:
        by_id.setdefault(r.message_id, []).append(r.event)
    assert len(by_id) == 3 and all(len(v) == 2 and v[0] == v[1] for v in by_id.values())
    assert stats["duplicates"] == 3


async def test_held_back_events_arrive_after_later_changes_of_the_same_order(
    sim: SimProcess, receiver: Receiver
) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        (
            await admin.patch("/_sim/webhooks", json={"reorder_rate": 0.5, "hold_back_ms": 300})
        ).raise_for_status()
        orders = [await create(admin) for _ in range(6)]
        for order in orders:
            await transition(admin, order["order_no"], "03", "05", "06", "07", "08")
        stats = await until(admin, lambda s: s["acks"] == 42 and s["pending"] == 0)
    overtaken = 0
    newest: dict[str, int] = {}
    for r in receiver.requests:
        order_no, seq = r.event["order_no"], r.event["seq"]
        overtaken += seq < newest.get(order_no, 0)
        newest[order_no] = max(newest.get(order_no, 0), seq)
    assert stats["held_back"] > 0 and overtaken > 0 and stats["out_of_order_acks"] > 0
    assert newest == {o["order_no"]: 7 for o in orders}  # every change arrived, however late


async def test_the_field_crew_closes_an_order_and_each_step_is_delivered(
    sim: SimProcess, receiver: Receiver
) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        order = await create(admin)
        (await admin.put("/_sim/crew", json={"interval_ms": 20, "hold_rate": 0})).raise_for_status()
        deadline = time.monotonic() + WAIT_S
        while (await admin.get(f"{API}/orders/{order['order_no']}")).json()["status"] != "08":
            assert time.monotonic() < deadline, "the crew never closed the order"
            await asyncio.sleep(0.05)
        (await admin.put("/_sim/crew", json={})).raise_for_status()
        crew = (await admin.get("/_sim/stats")).json()["crew"]
        await until(admin, lambda s: s["pending"] == 0 and s["in_flight"] == 0)
        mine = [r.event for r in receiver.requests if r.event["order_no"] == order["order_no"]]
    assert crew["steps"] >= 5
    assert [e["status"] for e in sorted(mine, key=lambda e: e["seq"])] == [
        "01",
        "02",
        "03",
        "05",
        "06",
        "07",
        "08",
    ]
    assert {e["operator"] for e in mine if e["seq"] > 2} == {order["worker_id"]}


async def test_admin_validates_knobs_and_masks_secrets(sim: SimProcess, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        for bad in ({"secrets": ["plain"]}, {"url": "ftp://x"}, {"duplicate_rate": 3}, {"nope": 1}):
            r = await admin.patch("/_sim/webhooks", json=bad)
            assert r.status_code == 422, bad
        assert (await admin.patch("/_sim/crew", json={"interval_ms": -1})).status_code == 422
        shown = (await admin.get("/_sim/webhooks")).json()
        assert shown["url"] == receiver.url and shown["secrets"] == ["whsec_***"]
        assert SECRET not in (await admin.get("/_sim/webhooks")).text


async def test_changes_made_while_nobody_subscribes_are_counted_not_sent(
    sim: SimProcess, receiver: Receiver
) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        (await admin.patch("/_sim/webhooks", json={"url": None})).raise_for_status()
        await create(admin)
        stats = await webhook_stats(admin)
        (await admin.patch("/_sim/webhooks", json={"url": receiver.url})).raise_for_status()
    assert (stats["events"], stats["no_endpoint"], stats["queued"], stats["pending"]) == (2, 2, 0, 0)
    assert receiver.requests == []
