"""The surge benchmark's burst scenario: a main bursts and one segment's customers all call at once.

`python -m bench.surge --scenario burst --seconds 20` runs it. Screen pops arrive open-loop
(Poisson, seeded, the same calls in both modes) at `--burst-rate` a second for `--seconds / 3`
(normal), at `--surge-factor` (10) times that for `--seconds` (the burst), and back for
`--seconds / 3` (recovery). During the burst, all calls but the normal rate's share come from the
customers of the active emergency outage's segment (TS0001 in the seeded world: the accounts its
closed valves leave dry, by the simulator's own trace), a third of them calling again.

Two modes, each on fresh processes (four simulators at latency scale 1, billing's default pool of 20;
one `tidegate serve` on default protection, with the outage index on):

- `no_ivr`: every call goes to an agent, whose workbench runs the screen pop (`ScreenPop`);
- `ivr`: every call first meets the IVR, which asks `CallerOutageStatus` (the softphone's token,
  by `documentId`); an affected caller hears the outage message and hangs up (deflected), every
  other call goes on to an agent's screen pop as in `no_ivr`.

Per mode: `calls`, `deflected`, `reached_agents`, `billing_peak_concurrency` (billing's peak of
calls in flight) against `billing_capacity`, `critical_success` (IVR answers and pops, both
critical), `screen_pop_p99_ms` for the calls that reached agents, `ivr_p99_ms`.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import httpx
import orjson

from bench.loadgen import percentile
from bench.stack import backend_env, bearer, server, start_simulators, wait_http
from bench.surge_mix import KINDS, ROOT, SCREEN_POP
from bench.surge_tally import FATAL, judge
from simulators.launch import free_port, stop
from simulators.world import World, build_world

SEED = 20261126
MODES = ("no_ivr", "ivr")


@dataclass(frozen=True, slots=True)
class Call:
    at_s: float
    phase: str
    phone: str
    on_segment: bool


def segment_phones(world: World) -> list[str]:
    """Mobiles of the customers on the active emergency outage's mains (shut and downstream)."""
    burst = next(o for o in world.outages if o.kind == 2 and o.status == 1)
    out: list[str] = []
    for a in world.accounts:
        mobile = world.customer_by_no[a.customer_no].mobile
        if a.main_id in burst.main_ids and mobile and mobile not in out:
            out.append(mobile)
    return out


def plan(
    world: World, seconds: float, rate: float, factor: float, seed: int, repeat_share: float = 1 / 3
) -> list[Call]:
    rng = random.Random(seed)
    segment = segment_phones(world)
    dry = set(segment)
    others = [c.mobile for c in world.customers if c.mobile and c.mobile not in dry]
    rng.shuffle(others)
    calls: list[Call] = []
    start = 0.0
    called: list[str] = []
    fresh = iter(segment * 100)  # the segment is small: past its size everyone has called already
    for phase, length, f in (
        ("normal", seconds / 3, 1.0),
        ("surge", seconds, factor),
        ("recovery", seconds / 3, 1.0),
    ):
        t = start
        while True:
            t += rng.expovariate(rate * f)
            if t >= start + length:
                break
            from_segment = phase == "surge" and rng.random() < (f - 1) / f
            if not from_segment:
                calls.append(Call(t, phase, others[len(calls) % len(others)], False))
                continue
            phone = rng.choice(called) if called and rng.random() < repeat_share else next(fresh)
            called.append(phone)
            calls.append(Call(t, phase, phone, True))
        start += length
    return calls


def _ok_ivr(status: int, body: bytes) -> tuple[bool, bool]:
    """(answered, affected)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False, False
    codes = {str((e.get("extensions") or {}).get("code")) for e in doc.get("errors") or []}
    found = (doc.get("data") or {}).get("callerOutageStatus")
    answered = status == 200 and found is not None and not FATAL.intersection(codes)
    return answered, bool(found and found.get("affected"))


async def _mode(mode: str, calls: list[Call], customers: int, as_of: str, scratch: Path) -> dict[str, Any]:
    sims = start_simulators(["--seed", str(SEED), "--customers", str(customers), "--as-of", as_of])
    bff = None
    try:
        key_path = scratch / f"issuer-{mode}.pem"
        env = backend_env(sims) | {
            "TIDEGATE_LOG_LEVEL": "WARNING",
            "TIDEGATE_AUDIT_PATH": str(scratch / "audit"),
        }
        env |= {"TIDEGATE_LOCAL_ISSUER": "true", "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key_path)}
        env |= {"TIDEGATE_OUTAGE_INDEX": "true"}  # the production default (a test run turns it off)
        agents = [bearer(key_path, f"burst-agent-{n:02d}") for n in range(20)]
        softphone = bearer(key_path, "softphone", "softphone", agent_id="A1001")
        manifest = json.loads((ROOT / "gql" / "manifest.json").read_text(encoding="utf-8"))
        doc_id = "sha256:" + next(
            op["id"] for op in manifest["operations"] if op["name"] == "CallerOutageStatus"
        )
        port = free_port()
        bff = server(["gateway.cli", "serve"], port, env)
        url = f"http://127.0.0.1:{port}/graphql"

        def pop_body(phone: str) -> bytes:
            return orjson.dumps(
                {"query": SCREEN_POP, "operationName": "ScreenPop", "variables": {"phone": phone}}
            )

        def ivr_body(phone: str) -> bytes:
            return orjson.dumps({"documentId": doc_id, "variables": {"phone": phone}})

        warm_phone = calls[0].phone
        await wait_http(url, bff, pop_body(warm_phone), agents[0])
        billing = f"http://127.0.0.1:{sims['billing'][0]}"
        async with httpx.AsyncClient(timeout=30) as client:
            for _ in range(600):  # the index builds in the background after start-up
                r = await client.post(
                    url,
                    content=ivr_body(warm_phone),
                    headers={"Content-Type": "application/json", **softphone},
                )
                if r.json()["data"]["callerOutageStatus"]["asOf"] is not None:
                    break
                await asyncio.sleep(0.1)
            for p, _ in sims.values():
                (await client.post(f"http://127.0.0.1:{p}/_sim/stats/reset")).raise_for_status()
            rows = await _drive(mode, url, calls, agents, softphone, pop_body, ivr_body)
            stats = (await client.get(f"{billing}/_sim/stats")).json()
            capacity = (await client.get(f"{billing}/_sim/faults")).json()["pool_size"]
    finally:
        stop([bff] if bff else [])
        stop([proc for _, proc in sims.values()])
    pops = [r for r in rows if r["pop_ms"] is not None]
    ivr = [r for r in rows if r["ivr_ms"] is not None]
    critical = [r["ivr_ok"] for r in ivr] + [r["pop_ok"] for r in pops]
    on_segment = [r for r in rows if r["on_segment"]]
    return {
        "calls": len(rows),
        "calls_from_segment": len(on_segment),
        "deflected": sum(r["deflected"] for r in rows),
        "deflected_from_segment": sum(r["deflected"] for r in on_segment),
        "reached_agents": len(pops),
        "billing_capacity": capacity,
        "billing_peak_concurrency": stats["peak_in_flight"],
        "billing_calls": stats["requests"],
        "critical_success": round(sum(critical) / len(critical), 4) if critical else None,
        "critical_failures": len(critical) - sum(critical),
        "screen_pop_p99_ms": round(percentile([r["pop_ms"] for r in pops if r["pop_ok"]], 0.99), 1),
        "screen_pop_p50_ms": round(percentile([r["pop_ms"] for r in pops if r["pop_ok"]], 0.5), 1),
        "ivr_p99_ms": round(percentile([r["ivr_ms"] for r in ivr], 0.99), 1) if ivr else None,
    }


async def _drive(
    mode: str,
    url: str,
    calls: list[Call],
    agents: list[dict[str, str]],
    softphone: dict[str, str],
    pop_body: Any,
    ivr_body: Any,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:

        async def post(body: bytes, auth: dict[str, str]) -> tuple[int, bytes]:
            try:
                async with session.post(
                    url, data=body, headers={"Content-Type": "application/json", **auth}
                ) as r:
                    return r.status, await r.read()
            except (TimeoutError, aiohttp.ClientError, OSError):
                return 0, b""

        async def one(i: int, call: Call) -> None:
            row: dict[str, Any] = {
                "on_segment": call.on_segment,
                "deflected": False,
                "ivr_ms": None,
                "ivr_ok": False,
            }
            row |= {"pop_ms": None, "pop_ok": False}
            if mode == "ivr":
                t0 = time.perf_counter()
                status, body = await post(ivr_body(call.phone), softphone)
                row["ivr_ms"] = (time.perf_counter() - t0) * 1000
                row["ivr_ok"], affected = _ok_ivr(status, body)
                if affected:
                    row["deflected"] = True
                    rows.append(row)
                    return
            t0 = time.perf_counter()
            status, body = await post(pop_body(call.phone), agents[i % len(agents)])
            row["pop_ms"] = (time.perf_counter() - t0) * 1000
            row["pop_ok"] = judge(KINDS["screen_pop"], call.phase, row["pop_ms"], status, body).success
            rows.append(row)

        began = time.perf_counter()
        tasks = []
        for i, call in enumerate(calls):
            if (delay := began + call.at_s - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, call)))
        await asyncio.gather(*tasks)
    return rows


async def run(seconds: float, rate: float, factor: float, customers: int, seed: int) -> dict[str, Any]:
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    world = build_world(SEED, customers, as_of)
    calls = plan(world, seconds, rate, factor, seed)
    segment = len(segment_phones(world))
    del world
    result: dict[str, Any] = {
        "benchmark": "surge_burst",
        "config": {
            "seconds_burst": seconds,
            "normal_rate_rps": rate,
            "surge_factor": factor,
            "customers": customers,
            "segment_phones": segment,
            "calls": len(calls),
            "as_of": as_of.isoformat(),
            "latency_scale": 1.0,
            "billing_pool": "simulator default",
        },
    }
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as scratch:
        for mode in MODES:
            result[mode] = await _mode(mode, calls, customers, as_of.isoformat(), Path(scratch))
    return result
