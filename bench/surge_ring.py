"""The surge's screen pops as calls: the CTI rings the agent, who answers `--ring-s` later and asks.

In the contact centre a screen pop is not a query out of the blue: the CTI's CALL_RINGING reaches
Tidegate seconds before the agent picks up, and the ring-time prefetch (`gateway.live.ring_prefetch`)
runs the pop then, so the answered call's `ScreenPop` is served from what it loaded. With
`python -m bench.surge --ring-s 3`, each scheduled screen pop becomes such a call, at its scheduled
time: a signed CALL_RINGING to `/cti/events`, CALL_ANSWERED `ring_s` later and the agent's
`ScreenPop` (its latency measured from that moment, the one the agent waits through), then
CALL_ENDED. Each call has an agent of its own (one call at a time per agent, as the call machine
keeps them), with an `agent` token for that agent: it reads only the customer on its call, and sends
the persisted `ScreenPop` by its id, as agents must.

Without `--ring-s` (0, the default) the screen pops stay queries without a ring, which is the
harder case (an agent searching a number by hand) and what the surge's checks were first run on.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

from bench.screen_pop import PERSISTED_SCREEN_POP
from bench.stack import issuer
from bench.surge_mix import Arrival
from gateway.live.cti import signed_event

CTI_SECRET = "bench-surge-cti-secret"
BFF_ENV = {"TIDEGATE_CTI_SECRETS": CTI_SECRET}


@dataclass(frozen=True, slots=True)
class RingCall:
    """One screen pop played as a call: who rings, which call, from what number, with what token."""

    agent_id: str
    call_id: str
    phone: str
    headers: dict[str, str]  # the agent's bearer token
    body: bytes  # the agent's `ScreenPop`, by the manifest's id as the softphone sends it


def plan_calls(key_path: Path, plan: list[Arrival], clients: int) -> dict[int, RingCall]:
    """A call per scheduled screen pop (by index in `plan`), each with its own agent; tokens are
    signed once, before the run, spread over `clients` client ids like the other requests'."""
    minter = issuer(key_path)
    calls: dict[int, RingCall] = {}
    for i, arrival in enumerate(plan):
        if arrival.kind.name != "screen_pop":
            continue
        agent = f"SA{i:05d}"
        token = minter.mint(client_id=f"surge-agent-{i % clients:02d}", role="agent", agent_id=agent)
        phone = arrival.caller.phone
        body = orjson.dumps(
            {"operationName": "ScreenPop", "variables": {"phone": phone}, "extensions": PERSISTED_SCREEN_POP}
        )
        calls[i] = RingCall(agent, f"surge-call-{i}", phone, {"Authorization": f"Bearer {token}"}, body)
    return calls


async def cti(session: aiohttp.ClientSession, base_url: str, event: str, call: RingCall) -> None:
    """One signed CTI event; refused ones raise (a bench that cannot ring measures nothing)."""
    body, headers = signed_event(CTI_SECRET, event, call.agent_id, call.call_id, call.phone)
    async with session.post(f"{base_url}/cti/events", data=body, headers=headers) as resp:
        if resp.status != 204:
            raise RuntimeError(f"CTI {event} refused: HTTP {resp.status} {await resp.text()}")


async def ring_then_answer(
    session: aiohttp.ClientSession, base_url: str, call: RingCall, due: float, ring_s: float
) -> tuple[float, float]:
    """Ring at `due`, answer `ring_s` later. Returns the moment of answering (perf_counter), from which
    the agent's query is timed (the CALL_ANSWERED event's round trip included), and that round trip's
    milliseconds."""
    await cti(session, base_url, "CALL_RINGING", call)
    if (wait := due + ring_s - time.perf_counter()) > 0:
        await asyncio.sleep(wait)
    answered = time.perf_counter()
    await cti(session, base_url, "CALL_ANSWERED", call)
    return answered, (time.perf_counter() - answered) * 1000
