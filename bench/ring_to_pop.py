"""Ring-to-pop: from the CTI's ringing event to the screen pop on the agent's `screenPop` subscription,
and the agent's answered-call `ScreenPop` query, with the ring-time prefetch and without it.

`python -m bench.screen_pop --ring-to-pop --seconds 20 --concurrency 8 --latency-scale 1` runs it: the
four simulators at that latency (billing's realistic pool and lognormal ~200 ms), then two legs, each
on a fresh `tidegate serve` with the default budgets (the screen pop's 300 ms):

- `prefetch`: each agent holds a websocket subscribed to their `screenPop`; a call is a signed
  CALL_RINGING, the pop arriving on the socket (`ring_to_pop`), CALL_ANSWERED, the `ScreenPop` query
  (`answered_query`), CALL_ENDED;
- `no_prefetch` (`TIDEGATE_SCREEN_POP_PREFETCH=false`): half the time the same with the pop looked
  up when it is pushed (`ring_to_pop`); half the time agents with no subscription ring, answer and
  query (`answered_query`: the screen pop as it was before any of this, nothing warmed).

Every call has its own caller, so no call is served by another's cache entries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from graphql import FieldNode, OperationDefinitionNode, parse, print_ast

from bench.graphql_ws import GraphQLWs
from bench.loadgen import percentile
from bench.stack import server, wait_http
from gateway.live.cti import signed_event

ROOT = Path(__file__).resolve().parents[1]
SCREEN_POP = (ROOT / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")


def _pop_subscription() -> str:
    """`screenPop` asking for every customer field `gql/screen_pop.graphql` asks for: the same pop."""
    (operation,) = parse(SCREEN_POP).definitions
    assert isinstance(operation, OperationDefinitionNode)
    (field,) = operation.selection_set.selections
    assert isinstance(field, FieldNode) and field.selection_set is not None
    customers = print_ast(field.selection_set)
    return f"subscription($a: ID!) {{ screenPop(agentId: $a) {{ callId prefetched customers {customers} }} }}"


POPS = _pop_subscription()
CTI_SECRET = "bench-cti-secret"
Mint = Callable[[str], str]  # agent id -> an access token for that agent


@dataclass
class Tally:
    ring_to_pop_ms: list[float] = field(default_factory=list)
    answered_ms: list[float] = field(default_factory=list)
    partial: int = 0  # answered queries with field errors (a backend cut by the deadline)
    failures: int = 0  # no pop, or a query that did not answer 200 with the caller
    prefetched: int = 0
    calls: int = 0  # CALL_RINGING events sent: what the leg's backend calls are divided by

    def summary(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "ring_to_pop": _stats(self.ring_to_pop_ms) | {"prefetched": self.prefetched},
            "answered_query": _stats(self.answered_ms)
            | {"partial_share": round(self.partial / len(self.answered_ms), 4) if self.answered_ms else None},
            "failures": self.failures,
        }


def _stats(values: Sequence[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(list(values), 0.5), 1),
        "p99_ms": round(percentile(list(values), 0.99), 1),
    }


class Leg:
    """One `tidegate serve` process and the agents calling through it."""

    def __init__(self, port: int, mint: Mint, phones: list[str], tally: Tally) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.mint = mint
        self.phones = phones
        self.tally = tally
        self._calls = 0

    def _phone(self) -> str:
        self._calls += 1
        return self.phones[self._calls % len(self.phones)]

    async def cti(self, http: aiohttp.ClientSession, event: str, agent: str, call: str, phone: str) -> None:
        body, headers = signed_event(CTI_SECRET, event, agent, call, phone)
        self.tally.calls += event == "CALL_RINGING"
        async with http.post(f"{self.url}/cti/events", data=body, headers=headers) as r:
            if r.status != 204:
                raise RuntimeError(f"CTI event refused: {r.status}")

    async def answer(
        self, http: aiohttp.ClientSession, token: str, agent: str, call: str, phone: str
    ) -> None:
        await self.cti(http, "CALL_ANSWERED", agent, call, phone)
        body = orjson.dumps(
            {"query": SCREEN_POP, "variables": {"phone": phone}, "operationName": "ScreenPop"}
        )
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        started = time.perf_counter()
        async with http.post(f"{self.url}/graphql", data=body, headers=headers) as r:
            raw = await r.read()
        elapsed = (time.perf_counter() - started) * 1000
        doc = orjson.loads(raw) if r.status == 200 else {}
        if not (doc.get("data") or {}).get("customerByPhone"):
            self.tally.failures += 1
            return
        self.tally.answered_ms.append(elapsed)
        self.tally.partial += bool(doc.get("errors"))

    async def subscribed_agent(self, agent: str, until: float, answer: bool) -> None:
        """Ring, wait for the pop on the socket; then (if `answer`) answer and ask for the pop."""
        token = self.mint(agent)
        ws_url = self.url.replace("http://", "ws://") + "/graphql"
        async with aiohttp.ClientSession() as http, GraphQLWs.connect(ws_url, token) as ws:
            op = await ws.subscribe(POPS, {"a": agent})
            await asyncio.sleep(0.2)  # the subscription settles before the first ring
            n = 0
            while time.monotonic() < until:
                n += 1
                call, phone = f"{agent}-{n}", self._phone()
                started = time.perf_counter()
                await self.cti(http, "CALL_RINGING", agent, call, phone)
                pop = await self._pop(ws, op, call)
                if pop is None:
                    self.tally.failures += 1
                else:
                    self.tally.ring_to_pop_ms.append((time.perf_counter() - started) * 1000)
                    self.tally.prefetched += bool(pop["prefetched"])
                    if answer:
                        await self.answer(http, token, agent, call, phone)
                await self.cti(http, "CALL_ENDED", agent, call, phone)

    async def _pop(self, ws: GraphQLWs, op: str, call: str) -> dict[str, Any] | None:
        try:
            async with asyncio.timeout(10):
                while True:
                    message = await ws.receive(op)
                    data = (message.get("payload") or {}).get("data") or {}
                    pop = data.get("screenPop")
                    if message["type"] != "next":
                        return None
                    if pop and pop["callId"] == call:
                        return dict(pop)
        except TimeoutError:
            return None

    async def unsubscribed_agent(self, agent: str, until: float) -> None:
        """Ring and answer with nobody watching: the screen pop runs only when the agent asks."""
        token = self.mint(agent)
        async with aiohttp.ClientSession() as http:
            n = 0
            while time.monotonic() < until:
                n += 1
                call, phone = f"{agent}-q{n}", self._phone()
                await self.cti(http, "CALL_RINGING", agent, call, phone)
                await self.answer(http, token, agent, call, phone)
                await self.cti(http, "CALL_ENDED", agent, call, phone)


async def run_leg(
    env: dict[str, str], mint: Mint, phones: list[str], *, prefetch: bool, agents: int, seconds: float
) -> dict[str, Any]:
    from simulators.launch import free_port, stop

    port = free_port()
    leg_env = env | {"TIDEGATE_SCREEN_POP_PREFETCH": "true" if prefetch else "false"}
    proc = server(["gateway.cli", "serve"], port, leg_env)
    try:
        warm_body = orjson.dumps({"query": "{ __typename }"})
        await wait_http(
            f"http://127.0.0.1:{port}/graphql", proc, warm_body, {"Authorization": f"Bearer {mint('W0')}"}
        )
        tally = Tally()
        leg = Leg(port, mint, phones, tally)
        names = [f"B{'P' if prefetch else 'N'}{i:03d}" for i in range(agents)]
        if prefetch:
            until = time.monotonic() + seconds
            await asyncio.gather(*(leg.subscribed_agent(a, until, answer=True) for a in names))
        else:
            until = time.monotonic() + seconds / 2
            await asyncio.gather(*(leg.subscribed_agent(a, until, answer=False) for a in names))
            until = time.monotonic() + seconds / 2
            await asyncio.gather(*(leg.unsubscribed_agent(a + "Q", until) for a in names))
        return tally.summary()
    finally:
        stop([proc])
