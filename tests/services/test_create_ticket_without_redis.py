"""createTicket while the shared idempotency records (a real redis-server) are away, against the real
simulators: the work-order system's one order per client reference stands in for the records. Then
requestFeeAdjustment, whose billing system has no lookup, still refuses. Counts and states only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx
import pytest
import redis
from strawberry.types import ExecutionResult

from infra.idempotency_store import RedisIdempotencyStore
from infra.resilience.ratelimit import redis_client
from services.access import BILLING_ADJUST, Access, Principal
from services.idempotency import Idempotency, IdempotencyPolicy
from tests.conftest import Simulators
from tests.services.conftest import SUPERVISOR
from tests.services.test_create_ticket import CREATE, WRITER, _burst
from tests.support.admin import set_faults
from tests.support.redis_server import RedisProcess, start_redis
from tests.support.world import seeded_world
from tests.support.writes import calls, codes, execute, extensions, finished, until

Send = Callable[..., Awaitable[ExecutionResult]]


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisProcess]:
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def idempotency(redis_server: RedisProcess) -> AsyncIterator[Idempotency]:
    """One BFF process's records in the real Redis, through the client the app gives them."""
    client = redis_client(redis_server.url, timeout_s=2.0)
    try:
        yield Idempotency(RedisIdempotencyStore(client), IdempotencyPolicy(settle_s=30.0))
    finally:
        await client.aclose()


@pytest.fixture
def send(clean_sims: Simulators, schema: Any, idempotency: Idempotency) -> Send:
    async def run(
        input: Mapping[str, Any], key: str, timeouts: Mapping[str, float] | None = None
    ) -> ExecutionResult:
        variables = {"input": dict(input), "key": key}
        return await execute(
            schema,
            clean_sims,
            CREATE,
            variables,
            access=Access(WRITER),
            idempotency=idempotency,
            timeouts=timeouts,
        )

    return run


def _orders(sims: Simulators, ref: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{sims['workorders'].url}/wo/api/orders", params={"client_ref": ref})
    r.raise_for_status()
    found: list[dict[str, Any]] = r.json()["list"]
    return found


def _ticket(result: ExecutionResult) -> dict[str, Any]:
    assert result.errors is None, result.errors
    assert result.data is not None
    ticket: dict[str, Any] = result.data["createTicket"]
    return ticket


async def test_with_redis_away_a_ticket_is_filed_once_and_found_again(
    send: Send, clean_sims: Simulators, redis_server: RedisProcess
) -> None:
    redis_server.kill()
    grid, key = seeded_world().grids[10], str(uuid.uuid4())
    first = _ticket(await send(_burst(grid), key))
    again = _ticket(await send(_burst(grid), key))
    assert again["id"] == first["id"]
    ops = calls(clean_sims, "workorders")
    assert (ops["createOrder"], ops["listOrders"]) == (1, 2)  # the retry looked it up, created nothing
    (order,) = _orders(clean_sims, first["clientRef"])
    assert order["order_no"] == first["id"] and order["client_sig"]  # the fingerprint travelled with it


async def test_with_redis_away_racing_attempts_make_one_order(
    send: Send, clean_sims: Simulators, redis_server: RedisProcess
) -> None:
    """No IN_PROGRESS without the records: every attempt answers, with the one order."""
    redis_server.kill()
    set_faults(clean_sims["workorders"].url, ops={"createOrder": {"latency_ms": 300}})
    grid, key = seeded_world().grids[11], str(uuid.uuid4())
    results = await asyncio.gather(*(send(_burst(grid), key) for _ in range(6)))
    ids = {_ticket(r)["id"] for r in results}
    assert len(ids) == 1
    ref = _ticket(results[0])["clientRef"]
    assert [o["order_no"] for o in _orders(clean_sims, ref)] == sorted(ids)
    assert calls(clean_sims, "workorders")["createOrder"] >= 2  # they did race: the system refused the rest


async def test_with_redis_away_a_reused_key_is_refused_by_the_stored_fingerprint(
    send: Send, clean_sims: Simulators, redis_server: RedisProcess
) -> None:
    redis_server.kill()
    grid, key = seeded_world().grids[12], str(uuid.uuid4())
    first = _ticket(await send(_burst(grid), key))
    other = await send(_burst(grid, "另一处漏水"), key)
    assert other.data is None and codes(other) == ["IDEMPOTENCY_KEY_REUSED"]
    assert len(_orders(clean_sims, first["clientRef"])) == 1
    assert calls(clean_sims, "workorders")["createOrder"] == 1


async def test_records_lost_from_redis_still_give_the_one_order(
    send: Send, clean_sims: Simulators, redis_server: RedisProcess
) -> None:
    """Redis forgets (a restart without persistence, an eviction): the key is new to it, not to the
    work-order system, which refuses the second create and names the first order."""
    grid, key = seeded_world().grids[13], str(uuid.uuid4())
    first = _ticket(await send(_burst(grid), key))
    forget = redis.Redis(port=redis_server.port)
    forget.flushall()
    again = _ticket(await send(_burst(grid), key))
    assert again["id"] == first["id"]
    assert calls(clean_sims, "workorders")["createOrder"] == 2  # created again, refused: 409 and its number
    assert len(_orders(clean_sims, first["clientRef"])) == 1
    forget.flushall()
    other = await send(_burst(grid, "另一处漏水"), key)
    assert codes(other) == ["IDEMPOTENCY_KEY_REUSED"]
    assert calls(clean_sims, "workorders")["createOrder"] == 3
    assert len(_orders(clean_sims, first["clientRef"])) == 1
    forget.close()


async def test_with_redis_away_a_lost_answer_is_found_or_refused_never_repeated(
    send: Send, clean_sims: Simulators, redis_server: RedisProcess
) -> None:
    """The create lands after the BFF gave up; the retry comes before or after it lands: one order."""
    redis_server.kill()
    wo = clean_sims["workorders"].url
    grid, key = seeded_world().grids[14], str(uuid.uuid4())
    set_faults(wo, ops={"createOrder": {"latency_ms": 1500}})
    first = await send(_burst(grid), key, timeouts={"workorders": 0.5})
    assert codes(first) == ["BACKEND_TIMEOUT"] and extensions(first)["retryAfter"] == 1
    set_faults(wo, ops={})
    retry = _ticket(await send(_burst(grid), key))  # at once: the first is still on its way
    await until(lambda: finished(clean_sims, "workorders", "createOrder"))
    (order,) = _orders(clean_sims, retry["clientRef"])
    assert order["order_no"] == retry["id"]
    assert _ticket(await send(_burst(grid), key))["id"] == retry["id"]


async def test_a_fee_adjustment_is_still_refused_while_redis_is_away(
    schema: Any, clean_sims: Simulators, idempotency: Idempotency, redis_server: RedisProcess
) -> None:
    """Billing cannot be searched for a request: without the records a retry could submit twice."""
    redis_server.kill()
    set_faults(clean_sims["billing"].url, settlement_window=False, ops={})
    account = seeded_world().accounts[5]
    adjuster = Principal(
        SUPERVISOR.subject, SUPERVISOR.client_id, "supervisor", SUPERVISOR.scopes | {BILLING_ADJUST}
    )
    document = """
    mutation($input: FeeAdjustmentInput!, $key: String!) {
      requestFeeAdjustment(input: $input, idempotencyKey: $key) { id }
    }"""
    waiver = {
        "accountNo": account.account_no,
        "reason": "LATE_FEE_WAIVER",
        "amountFen": -500,
        "explanation": "停水所致",
    }
    result = await execute(
        schema,
        clean_sims,
        document,
        {"input": waiver, "key": str(uuid.uuid4())},
        access=Access(adjuster),
        idempotency=idempotency,
    )
    assert codes(result) == ["BACKEND_UNAVAILABLE"]
    assert "SubmitFeeAdjustment" not in calls(clean_sims, "billing")
