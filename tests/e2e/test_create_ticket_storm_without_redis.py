"""Filing repairs while Redis is away: a createTicket storm over two BFF processes sharing one real
redis-server, which is killed mid-storm (SIGKILL) and later started again, empty, on the same port.

400 submissions, 30% of them under a key another submission already uses, a fifth of all attempts
dropped mid-request; clients retry as in `test_create_ticket_storm`. The outage is placed by counts,
never by time: Redis dies once 80 submissions have been answered, and comes back once 120 responses
(answers or errors) have arrived while it was away. Then, at the work-order simulator: exactly one order
per key, the one every client was told about (0 duplicates), and no order nobody was told about (0
lost); no answer was BACKEND_UNAVAILABLE for the idempotency store, and tickets were filed while
Redis was away. Before the fallback, every attempt in the outage answered BACKEND_UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import Simulators
from tests.e2e.test_create_ticket_storm import ENV
from tests.support.admin import stats
from tests.support.processes import BffProcess, start_bff
from tests.support.redis_server import RedisProcess, start_redis
from tests.support.ticket_storm import CREATE, orders_by_ref, send_once, storm_inputs, storm_keys

SUBMISSIONS = 400
DUPLICATE_SHARE = 0.30
DROP_SHARE = 0.20
IN_FLIGHT = 48
MAX_ATTEMPTS = 30
PATIENCE_S = 1.0
KILL_AFTER_ANSWERS = 80  # Redis dies once this many submissions have their answer
RESTART_AFTER_RESPONSES = 120  # and comes back once this many responses arrived while it was away
RETRYABLE = {"IDEMPOTENCY_IN_PROGRESS", "BACKEND_TIMEOUT", "BACKEND_ERROR", "BACKEND_UNAVAILABLE"}


@dataclass
class Outage:
    """Where the storm is: "up" (before), "away" (killed), "back" (restarted, empty)."""

    redis: RedisProcess
    phase: str = "up"
    answered: int = 0
    responses_away: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def answer(self) -> None:
        self.answered += 1
        self.respond()

    def respond(self) -> None:
        if self.phase == "away":
            self.responses_away += 1
        self.changed.set()

    async def run(self) -> None:
        """Kill Redis, then start it again, each when the counts say so."""
        while self.answered < KILL_AFTER_ANSWERS:
            await self._next()
        self.redis.kill()
        self.phase = "away"
        while self.responses_away < RESTART_AFTER_RESPONSES:
            await self._next()
        await asyncio.to_thread(self.redis.restart)
        self.phase = "back"

    async def _next(self) -> None:
        self.changed.clear()
        await self.changed.wait()


@dataclass
class Tally:
    answers: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    by_phase: Counter[str] = field(default_factory=Counter)  # answers, by where the storm was
    by_process: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)  # "CODE:backend@phase"
    history: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    dropped: int = 0
    attempts: int = 0


async def _submit(
    key: str,
    input: dict[str, Any],
    bffs: list[BffProcess],
    headers: list[dict[str, str]],
    client: httpx.AsyncClient,
    gate: asyncio.Semaphore,
    rng: random.Random,
    tally: Tally,
    outage: Outage,
) -> None:
    """One client's submission: retried under the same key until it has an answer."""
    body = orjson.dumps(
        {
            "query": CREATE,
            "operationName": "CreateTicket",
            "variables": {"input": input, "idempotencyKey": key},
        }
    )
    for _ in range(MAX_ATTEMPTS):
        process = rng.randrange(len(bffs))
        tally.attempts += 1
        async with gate:
            phase = outage.phase  # where the storm was when the attempt went out
            r = await send_once(bffs[process], body, headers[process], client, rng, DROP_SHARE)
        if r is None:
            tally.dropped += 1
            tally.history[key].append(f"dropped@{process}")
            await asyncio.sleep(rng.uniform(0.05, 0.5))
            continue
        assert r.status_code == 200, r.text
        answer = orjson.loads(r.content)
        if "errors" not in answer:
            tally.history[key].append(f"answered@{process}/{phase}")
            tally.answers[key].append(r.content)
            tally.by_phase[phase] += 1
            tally.by_process[process] += 1
            outage.answer()
            return
        outage.respond()
        (error,) = answer["errors"]
        ext = error["extensions"]
        tally.codes[f"{ext['code']}:{ext.get('backend', '')}@{phase}"] += 1
        tally.history[key].append(f"{ext['code']}@{process}/{phase}")
        assert ext["code"] in RETRYABLE, answer
        wait = min(float(ext.get("retryAfter", 0.2)), PATIENCE_S)
        await asyncio.sleep(wait * rng.uniform(0.5, 1.5))
    raise AssertionError(f"{key}: no answer in {MAX_ATTEMPTS} attempts: {tally.history[key]}")


def _order_count(url: str) -> int:
    r = httpx.get(f"{url}/wo/api/orders", params={"size": 1})
    r.raise_for_status()
    total: int = r.json()["total"]
    return total


@pytest.mark.slow
async def test_tickets_are_filed_once_per_key_while_redis_is_killed_and_restarted(
    sims: Simulators, clean_sims: Simulators
) -> None:
    for name in ("billing", "crm", "gis", "workorders"):
        _ = sims[name]
    wo = sims["workorders"].url
    rng = random.Random(20261204)
    keys, submissions = storm_keys(rng, SUBMISSIONS, DUPLICATE_SHARE)
    distinct = len(keys)
    inputs = storm_inputs(keys)
    orders_before = _order_count(wo)
    redis = start_redis()
    outage = Outage(redis)
    bffs: list[BffProcess] = []
    tally = Tally()
    try:
        bffs = [start_bff(sims, env={**ENV, "TIDEGATE_REDIS_URL": redis.url}) for _ in range(2)]
        headers = [{**b.auth("supervisor"), "Content-Type": "application/json"} for b in bffs]
        limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
        started = time.monotonic()
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            gate = asyncio.Semaphore(IN_FLIGHT)
            director = asyncio.create_task(outage.run())
            await asyncio.gather(
                *(_submit(k, inputs[k], bffs, headers, client, gate, rng, tally, outage) for k in submissions)
            )
            assert director.done(), f"the storm ended in phase {outage.phase!r}"  # killed and restarted
            await director
        elapsed = time.monotonic() - started
    finally:
        for b in bffs:
            b.stop()
        redis.stop()

    # The counts first (printed, so a failing run shows them too), then what they must be.
    ids = {k: {orjson.loads(b)["data"]["createTicket"]["id"] for b in a} for k, a in tally.answers.items()}
    refs = {k: orjson.loads(a[0])["data"]["createTicket"]["clientRef"] for k, a in tally.answers.items()}
    orders = await orders_by_ref(wo, list(refs.values()))
    per_key = {k: orders[ref] for k, ref in refs.items()}  # the simulator's orders under each key
    duplicates = sum(len(o) - 1 for o in per_key.values() if len(o) > 1)
    lost = sum(1 for k in keys if not per_key.get(k)) + (distinct - len(tally.answers))
    split = sum(1 for i in ids.values() if len(i) > 1)  # keys whose clients were told different orders
    made = _order_count(wo) - orders_before
    refused = sum(n for c, n in tally.codes.items() if c.startswith("BACKEND_UNAVAILABLE:idempotency"))
    creates = stats(wo)["operations"]["createOrder"]["requests"]
    identical = sum(1 for a in tally.answers.values() if len(set(a)) == 1)
    print(
        f"\nstorm without redis: {SUBMISSIONS} submissions, {distinct} keys, {made} orders made, "
        f"{duplicates} duplicates, {lost} lost, {split} keys answered with different orders, "
        f"{refused} refused for the idempotency store, {creates} creates sent, {tally.attempts} attempts, "
        f"{tally.dropped} dropped, answers by phase {dict(tally.by_phase)}, retried on {dict(tally.codes)}, "
        f"keys answered byte-identically {identical}/{len(tally.answers)}, {elapsed:.1f} s"
    )

    # Every submission got an answer, and every answer for a key names the same order.
    assert sum(len(a) for a in tally.answers.values()) == SUBMISSIONS
    assert set(tally.answers) == set(keys)
    assert split == 0
    # At the work-order system: one order per key, the one its clients were told about (0 duplicates),
    # and no order beyond them (0 lost: nobody filed a ticket without being told which).
    assert (duplicates, lost) == (0, 0)
    assert per_key == {k: sorted(i) for k, i in ids.items()}
    assert made == distinct
    # Nobody was refused for Redis; tickets were filed while it was away and after it came back.
    assert refused == 0
    assert tally.by_phase["away"] > 0 and tally.by_phase["back"] > 0
    assert tally.dropped > 0 and min(tally.by_process[i] for i in range(len(bffs))) > 0
