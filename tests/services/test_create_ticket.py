"""createTicket against the real simulators: idempotency, reconciliation after a lost answer, dispatch to
the grid's field worker, and least privilege. Counts and states only, never timings."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import pytest
from strawberry.types import ExecutionResult

from backends.registry import BACKENDS, open_backends
from infra.http.config import BackendConfig
from infra.idempotency_store import MemoryIdempotencyStore
from services.access import CUSTOMER_READ, NETWORK_READ, TICKET_READ, TICKET_WRITE, Access, Principal
from services.calls import CallRegistry
from services.context import RequestContext, build_context
from services.idempotency import Idempotency, IdempotencyPolicy
from simulators.world.model import Grid
from tests.conftest import Simulators
from tests.services.conftest import SUPERVISOR
from tests.support.admin import set_faults, stats
from tests.support.clocks import FakeClock
from tests.support.world import seeded_world

WRITER = Principal(
    SUPERVISOR.subject,
    SUPERVISOR.client_id,
    "supervisor",
    SUPERVISOR.scopes | {TICKET_WRITE, CUSTOMER_READ},
)
AGENT = Principal(
    "agent-a1001",
    "workbench",
    "agent",
    frozenset({CUSTOMER_READ, TICKET_READ, NETWORK_READ, TICKET_WRITE}),
    agent_id="A1001",
)
CREATE = """
mutation CreateTicket($input: CreateTicketInput!, $key: String!) {
  createTicket(input: $input, idempotencyKey: $key) {
    id category priority status description address gridCode clientRef createdAt
    location { lon lat }
    assignee { id name gridCode }
    customer { id }
  }
}
"""

Send = Callable[..., Awaitable[ExecutionResult]]


@pytest.fixture
def idempotency(clock: FakeClock) -> Idempotency:
    return Idempotency(MemoryIdempotencyStore(clock=clock), IdempotencyPolicy(settle_s=30.0))


@pytest.fixture
def send(clean_sims: Simulators, schema: Any, idempotency: Idempotency) -> Send:
    """One request: fresh backends and loaders, the test's idempotency records (one BFF process)."""

    async def execute(
        input: Mapping[str, Any],
        key: str,
        access: Access | None = None,
        timeouts: Mapping[str, float] | None = None,
        contexts: list[RequestContext] | None = None,
    ) -> ExecutionResult:
        configs = {
            n: BackendConfig(n, clean_sims[n].url, timeout_s=(timeouts or {}).get(n, 5.0)) for n in BACKENDS
        }
        backends = open_backends(configs)
        try:
            context = build_context(backends, access=access or Access(WRITER), idempotency=idempotency)
            if contexts is not None:
                contexts.append(context)
            result: ExecutionResult = await schema.execute(
                CREATE, variable_values={"input": dict(input), "key": key}, context_value=context
            )
            return result
        finally:
            await backends.aclose()

    return execute


def _inside(grid: Grid) -> dict[str, float]:
    xs, ys = [p[0] for p in grid.ring], [p[1] for p in grid.ring]
    return {"lon": (min(xs) + max(xs)) / 2, "lat": (min(ys) + max(ys)) / 2}


def _codes(result: ExecutionResult) -> list[str]:
    return [e.extensions["code"] for e in result.errors or [] if e.extensions]


def _ops(sims: Simulators, service: str) -> dict[str, int]:
    return {op: s["requests"] for op, s in stats(sims[service].url)["operations"].items()}


def _orders(sims: Simulators, client_ref: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{sims['workorders'].url}/wo/api/orders", params={"client_ref": client_ref})
    r.raise_for_status()
    found: list[dict[str, Any]] = r.json()["list"]
    return found


def _burst(grid: Grid, text: str = "人行道冒水, 路面开裂") -> dict[str, Any]:
    return {"category": "BURST_MAIN", "description": text, **_inside(grid)}


async def test_the_grid_s_field_worker_gets_the_ticket(send: Send, clean_sims: Simulators) -> None:
    grid = seeded_world().grids[5]
    result = await send(_burst(grid), str(uuid.uuid4()))
    assert result.errors is None, result.errors
    ticket = result.data["createTicket"]  # type: ignore[index]
    assert ticket["assignee"] == {
        "id": grid.worker.worker_id,
        "name": grid.worker.name,
        "gridCode": grid.code,
    }
    assert (ticket["gridCode"], ticket["status"], ticket["priority"]) == (grid.code, "DISPATCHED", "CRITICAL")
    assert ticket["address"] and "管段 GS-" in ticket["address"]  # a street report names the nearest main
    (order,) = _orders(clean_sims, ticket["clientRef"])
    assert (order["order_no"], order["worker_id"], order["type_code"]) == (
        ticket["id"],
        grid.worker.worker_id,
        "102",
    )


async def test_an_account_is_located_at_its_service_connection(send: Send, clean_sims: Simulators) -> None:
    world = seeded_world()
    account = world.accounts[17]
    result = await send(
        {"category": "NO_WATER", "description": "家中无水", "accountNo": account.account_no.lstrip("0")},
        str(uuid.uuid4()),
    )
    assert result.errors is None, result.errors
    ticket = result.data["createTicket"]  # type: ignore[index]
    grid = world.grid_by_code[account.grid_code]
    assert (ticket["gridCode"], ticket["assignee"]["id"]) == (grid.code, grid.worker.worker_id)
    assert ticket["customer"] == {"id": f"KH{account.customer_no:08d}"}
    assert ticket["location"] == {"lon": account.service_point[0], "lat": account.service_point[1]}


async def test_an_address_alone_is_filed_undispatched(send: Send, clean_sims: Simulators) -> None:
    result = await send(
        {"category": "WATER_QUALITY", "description": "水发黄", "address": "江城市临江区人民路1号"},
        str(uuid.uuid4()),
    )
    assert result.errors is None, result.errors
    ticket = result.data["createTicket"]  # type: ignore[index]
    assert (ticket["status"], ticket["assignee"], ticket["gridCode"]) == ("ACCEPTED", None, None)
    assert _ops(clean_sims, "gis") == {}  # nothing to locate: no GIS call


async def test_same_key_same_input_replays_without_a_backend_call(send: Send, clean_sims: Simulators) -> None:
    grid, key = seeded_world().grids[2], str(uuid.uuid4())
    first = await send(_burst(grid), key)
    assert first.errors is None, first.errors
    before = {s: _ops(clean_sims, s) for s in ("workorders", "gis", "crm", "billing")}
    again = await send(_burst(grid), key)
    assert again.errors is None and again.data == first.data
    assert {s: _ops(clean_sims, s) for s in before} == before  # replayed: nothing asked
    assert before["workorders"]["createOrder"] == 1
    assert len(_orders(clean_sims, first.data["createTicket"]["clientRef"])) == 1  # type: ignore[index]


async def test_same_key_other_input_is_refused(send: Send, clean_sims: Simulators) -> None:
    grid, key = seeded_world().grids[3], str(uuid.uuid4())
    assert (await send(_burst(grid), key)).errors is None
    other = await send(_burst(grid, "另一处漏水"), key)
    assert other.data is None and _codes(other) == ["IDEMPOTENCY_KEY_REUSED"]
    assert _ops(clean_sims, "workorders")["createOrder"] == 1


async def test_concurrent_same_key_makes_one_order(send: Send, clean_sims: Simulators) -> None:
    grid, key = seeded_world().grids[4], str(uuid.uuid4())
    results = await asyncio.gather(*(send(_burst(grid), key) for _ in range(5)))
    answered = [r.data["createTicket"]["id"] for r in results if r.errors is None]  # type: ignore[index]
    assert len(set(answered)) == 1
    assert all(_codes(r) == ["IDEMPOTENCY_IN_PROGRESS"] for r in results if r.errors)
    assert _ops(clean_sims, "workorders")["createOrder"] == 1
    late = await send(_burst(grid), key)  # once the first has answered, everyone gets its ticket
    assert late.errors is None and late.data["createTicket"]["id"] == answered[0]  # type: ignore[index]


async def test_a_timed_out_create_is_reconciled_not_repeated(
    send: Send, clean_sims: Simulators, clock: FakeClock
) -> None:
    """The system takes 1.5 s to create, the BFF waits 0.5 s: the order lands after we gave up."""
    wo = clean_sims["workorders"].url
    grid, key = seeded_world().grids[6], str(uuid.uuid4())
    set_faults(wo, ops={"createOrder": {"latency_ms": 1500}})
    first = await send(_burst(grid), key, timeouts={"workorders": 0.5})
    assert _codes(first) == ["BACKEND_TIMEOUT"]
    assert first.errors and first.errors[0].extensions and first.errors[0].extensions["retryAfter"] == 30

    early = await send(_burst(grid), key)  # the first may still land: not yet
    assert _codes(early) == ["IDEMPOTENCY_IN_PROGRESS"]
    assert early.errors and early.errors[0].extensions and early.errors[0].extensions["state"] == "UNCERTAIN"

    await _until(lambda: stats(wo)["operations"]["createOrder"]["latency_ms"]["max"] > 0)  # it landed
    set_faults(wo, ops={})
    clock.now += 31  # settled
    retry = await send(_burst(grid), key)
    assert retry.errors is None, retry.errors
    ticket = retry.data["createTicket"]  # type: ignore[index]
    (order,) = _orders(clean_sims, ticket["clientRef"])
    assert order["order_no"] == ticket["id"]
    assert _ops(clean_sims, "workorders")["createOrder"] == 1  # found, not created again
    replay = await send(_burst(grid), key)
    assert replay.data == retry.data


async def test_a_garbled_answer_is_reconciled_in_the_same_request(send: Send, clean_sims: Simulators) -> None:
    set_faults(clean_sims["workorders"].url, ops={"createOrder": {"garble_rate": 1.0}})
    result = await send(_burst(seeded_world().grids[7]), str(uuid.uuid4()))
    assert result.errors is None, result.errors  # the order was made; its answer was cut in half
    ops = _ops(clean_sims, "workorders")
    assert (ops["createOrder"], ops["listOrders"]) == (1, 1)
    assert len(_orders(clean_sims, result.data["createTicket"]["clientRef"])) == 1  # type: ignore[index]


async def test_a_refused_create_frees_the_key(send: Send, clean_sims: Simulators) -> None:
    """A 5xx is an answer: the system is done with the request, and the order is not there."""
    wo = clean_sims["workorders"].url
    grid, key = seeded_world().grids[8], str(uuid.uuid4())
    set_faults(wo, ops={"createOrder": {"error_rate": 1.0}})
    assert _codes(await send(_burst(grid), key)) == ["BACKEND_ERROR"]
    set_faults(wo, ops={})
    retry = await send(_burst(grid), key)
    assert retry.errors is None, retry.errors
    assert len(_orders(clean_sims, retry.data["createTicket"]["clientRef"])) == 1  # type: ignore[index]


async def test_an_agent_files_only_for_the_customer_on_the_call(send: Send, clean_sims: Simulators) -> None:
    world = seeded_world()
    caller = next(c for c in world.customers if c.mobile and len(world.accounts_of[c.customer_no]) == 1)
    other = next(c for c in world.customers if c.customer_no != caller.customer_no)
    call = CallRegistry().answered("A1001", "call-7", caller.mobile)
    own = world.accounts_of[caller.customer_no][0]
    call.bind(f"KH{caller.customer_no:08d}", [own.account_no])
    contexts: list[RequestContext] = []

    stranger = {"category": "LEAK", "description": "漏水", "customerId": f"KH{other.customer_no:08d}"}
    refused = await send(stranger, str(uuid.uuid4()), access=Access(AGENT, call), contexts=contexts)
    assert refused.data is None and _codes(refused) == ["FORBIDDEN"]
    foreign = world.accounts_of[other.customer_no][0].account_no
    refused = await send(
        {"category": "LEAK", "description": "漏水", "accountNo": foreign},
        str(uuid.uuid4()),
        Access(AGENT, call),
    )
    assert _codes(refused) == ["FORBIDDEN"]
    assert "createOrder" not in _ops(clean_sims, "workorders")
    assert [r["target"] for r in contexts[0].audit.records() if r["event"] == "refused"] == ["customer"]

    mine = {"category": "LEAK", "description": "漏水", "customerId": f"KH{caller.customer_no:08d}"}
    filed = await send(mine, str(uuid.uuid4()), access=Access(AGENT, call))
    assert filed.errors is None, filed.errors
    assert filed.data["createTicket"]["id"] in call.tickets  # type: ignore[index]
    street = await send(_burst(world.grids[9]), str(uuid.uuid4()), access=Access(AGENT, call))
    assert street.errors is None, street.errors  # anyone may report a burst main in the street
    no_call = await send(mine, str(uuid.uuid4()), access=Access(AGENT, None))
    assert _codes(no_call) == ["FORBIDDEN"]


async def test_without_ticket_write_the_field_is_refused(send: Send, clean_sims: Simulators) -> None:
    reader = Principal(
        "r", "workbench", "softphone", frozenset({CUSTOMER_READ, TICKET_READ, NETWORK_READ}), "A1"
    )
    result = await send(_burst(seeded_world().grids[1]), str(uuid.uuid4()), access=Access(reader))
    assert _codes(result) == ["FORBIDDEN"]
    assert "createOrder" not in _ops(clean_sims, "workorders")


@pytest.mark.parametrize(
    ("input", "key"),
    [
        ({"category": "LEAK", "description": "x"}, "k1"),  # nowhere
        ({"category": "UNKNOWN", "description": "x", "address": "a"}, "k2"),
        ({"category": "LEAK", "description": "  ", "address": "a"}, "k3"),
        ({"category": "LEAK", "description": "x", "lat": 30.0}, "k4"),
        ({"category": "LEAK", "description": "x", "lat": 30.0, "lon": 100.0}, "k5"),  # outside every grid
        ({"category": "LEAK", "description": "x", "address": "a"}, "has space"),
        ({"category": "LEAK", "description": "x", "customerId": "12"}, "k6"),
    ],
)
async def test_bad_input_is_refused_and_writes_nothing(
    send: Send, clean_sims: Simulators, input: dict[str, Any], key: str
) -> None:
    result = await send(input, key)
    assert _codes(result) == ["BAD_USER_INPUT"]
    assert "createOrder" not in _ops(clean_sims, "workorders")


async def _until(condition: Callable[[], bool], attempts: int = 200) -> None:
    """Poll a state (never a duration): the simulator reports when the slow create has finished."""
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")
