"""A 10x call surge against the four simulators, with surge protection on and off, in the same run.

A burst main sends call volume up tenfold in minutes. This benchmark plays that to Tidegate:
the call mix of `bench/surge_mix.py` (screen pops and ticket creation: critical; a customer's
history and an account's bills: sheddable) at its normal rates for `--seconds / 3`, at
`--surge-factor` (10) times those rates for `--seconds`, and back at normal for `--seconds / 3`
(recovery). Arrivals are open-loop Poisson, drawn once from `--seed`, so both modes see the very
same calls. During the surge `--repeat-share` (30%) of calls come from someone who already called.

Each mode gets fresh processes: the four simulators (latency scale 1, billing's pool at its
default of 20) and `tidegate serve`. `protected` runs the BFF on its default settings;
`unprotected` adds only `TIDEGATE_PROTECTION=false` (no admission limits, budgets, bulkhead,
breakers, retries or cache: plain pass-through). Neither raises a limit: the load comes from
`--agents` (20) supervisors, each with its own token (client id), far below the per-client rate.
Supervisors unmask PII, so the audit trail is written, to a scratch file.

    python -m bench.surge --seconds 20
    python -m bench.surge --seconds 20 --ring-s 3         # screen pops as rung calls: bench/surge_ring.py
    python -m bench.surge --scenario burst --seconds 20   # IVR deflection: bench/surge_burst.py

Prints JSON: `config`, one block per mode, and `checks` (computed, not asserted: billing's peak
in-flight within its pool, critical success >= 99.9%, screen-pop p99 <= 300 ms and at most 20% of
screen pops partial, with protection).
In a mode block, `billing_peak_concurrency` is billing's peak of calls in flight (queued for its
pool or in it: what Tidegate sent at once), `billing_peak_rps` the most calls that arrived at
billing in any sliding one-second window; latencies run from each call's scheduled arrival to
its answer, failures included (a client timeout counts at `--client-timeout-s`).
`billing_alone_late` sets billing's own `GetAccounts` service times against the time a pop without
a ring has left for them: the partial share billing alone makes, beside the measured one. What
counts as a success, a partial and a complete answer, and why a pop was partial
(`phases.<phase>.partials`): `bench/surge_tally.py`.

Backend calls, as the simulators counted them (`/_sim/stats`, `bench/backend_calls.py`):
`backend_calls_per_request_alone` is what each kind costs sent alone to the fresh BFF (by
`system.operation`; `billing_calls_per_request` its billing part), `backend_calls_per_request` the
measured run's calls per request sent, by system, whole run and per phase. The two modes do not do
the same work (protection caches accounts, sheds sheddable work and stops at deadlines), so their
figures are side by side, never divided: no ratio between modes is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import httpx
import orjson

from bench import backend_calls, surge_burst
from bench.loadgen import cpu_seconds, percentile
from bench.stack import backend_env, bearer, server, start_simulators, wait_http
from bench.surge_mix import KINDS, PHASES, ROOT, Arrival, Caller, burst_area, callers, schedule, variables
from bench.surge_ring import BFF_ENV, RingCall, cti, plan_calls, ring_then_answer
from bench.surge_tally import (
    Outcome,
    billing_alone_late,
    billing_tables,
    checks,
    failed,
    judge,
    ring_pops,
    tables,
)
from gateway.settings import DeadlineSettings
from simulators.launch import free_port, stop
from simulators.world import build_world

NORMAL_RATES = {"screen_pop": 3.0, "history": 1.5, "bills": 1.5, "ticket": 0.3}
SEED = 20261126
PROBES = 8  # callers kept out of the schedule: the warm-up and each kind's billing-cost probe
Sims = dict[str, tuple[int, subprocess.Popen[bytes]]]


@dataclass(frozen=True)
class Run:
    """What both modes share: the mix, the phases (name, seconds, rate factor) and the callers."""

    rates: dict[str, float]
    phases: tuple[tuple[str, float, float], ...]
    repeat_share: float
    agents: int
    client_timeout_s: float
    ring_s: float  # > 0: screen pops are calls, rung this long before the agent answers and asks
    customers: int
    seed: int
    modes: tuple[str, ...]
    as_of: str
    callers: list[Caller]
    area: tuple[float, float, float, float]
    tickets_note: str | None


def _rates(text: str) -> dict[str, float]:
    rates = dict(NORMAL_RATES)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        if name not in KINDS:
            raise argparse.ArgumentTypeError(f"unknown kind {name!r}; kinds: {', '.join(KINDS)}")
        rates[name] = float(value)
    return rates


def _user_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    async with session.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.read()


async def drive(
    urls: Sequence[str],
    arrivals: list[Arrival],
    bodies: list[bytes],
    tokens: list[dict[str, str]],
    timeout_s: float,
    calls: dict[int, RingCall] | None = None,
    ring_s: float = 0.0,
) -> tuple[list[Outcome], dict[str, Any]]:
    """Send every arrival at its time, whatever is still in flight; the loop's lag says if we kept up.
    With several replicas' URLs, arrivals go round-robin (a balancer's spread). An arrival in `calls`
    is a call (`bench/surge_ring.py`): rung at its time, answered `ring_s` later, when its query is
    sent and timed from, then hung up."""
    calls = calls or {}
    outcomes: list[Outcome] = []
    lags_ms: list[float] = []
    hang_up_failures: list[int] = []
    answer_event_ms: list[float] = []  # CALL_ANSWERED's round trip, part of each rung pop's latency
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(i: int, arrival: Arrival, due: float) -> None:
            url = urls[i % len(urls)]
            if (call := calls.get(i)) is None:
                await ask(i, arrival, due, url, tokens[i % len(tokens)], bodies[i])
                return
            base = url.removesuffix("/graphql")
            try:
                due, answer_ms = await ring_then_answer(session, base, call, due, ring_s)
            except (RuntimeError, aiohttp.ClientError, OSError, TimeoutError):
                elapsed = (time.perf_counter() - due) * 1000
                kind, phase, repeat = arrival.kind, arrival.phase, arrival.repeat
                outcomes.append(failed(kind, phase, elapsed, "CTI_FAILED", repeat=repeat))
                return
            answer_event_ms.append(answer_ms)
            try:
                await ask(i, arrival, due, url, call.headers, call.body)
            finally:
                try:
                    await cti(session, base, "CALL_ENDED", call)
                except (RuntimeError, aiohttp.ClientError, OSError, TimeoutError):
                    hang_up_failures.append(i)

        async def ask(
            i: int, arrival: Arrival, due: float, url: str, token: dict[str, str], request: bytes
        ) -> None:
            headers = {"Content-Type": "application/json", **token}
            kind, phase, repeat = arrival.kind, arrival.phase, arrival.repeat
            try:
                status, body = await _post(session, url, request, headers)
            except TimeoutError:
                outcomes.append(failed(kind, phase, timeout_s * 1000, "CLIENT_TIMEOUT", repeat=repeat))
                return
            except (aiohttp.ClientError, OSError):
                elapsed = (time.perf_counter() - due) * 1000
                outcomes.append(failed(kind, phase, elapsed, "CONNECTION_ERROR", repeat=repeat))
                return
            elapsed = (time.perf_counter() - due) * 1000
            outcomes.append(judge(kind, phase, elapsed, status, body, repeat=repeat))

        tasks: list[asyncio.Task[None]] = []
        began, wall, cpu = time.perf_counter(), time.time(), _user_cpu()
        for i, arrival in enumerate(arrivals):
            due = began + arrival.at_s
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            lags_ms.append((time.perf_counter() - due) * 1000)
            tasks.append(asyncio.create_task(one(i, arrival, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return outcomes, {
        "began_wall": wall,
        "seconds": round(elapsed, 2),
        "cpu_share": round((_user_cpu() - cpu) / elapsed, 3),
        "calls_rung": len(calls),
        "hang_up_failures": len(hang_up_failures),
        "answer_event_ms": {
            "p50": round(percentile(answer_event_ms, 0.5), 2),
            "p99": round(percentile(answer_event_ms, 0.99), 2),
        }
        if answer_event_ms
        else None,
        "send_lag_ms": {
            "p50": round(percentile(lags_ms, 0.5), 2),
            "p99": round(percentile(lags_ms, 0.99), 2),
            "max": round(max(lags_ms, default=0.0), 2),
        },
    }


async def _reset(client: httpx.AsyncClient, sim: str) -> None:
    """Zero a simulator's counters once it has nothing in flight (a call the BFF gave up on may still run)."""
    for _ in range(150):
        if (await client.get(f"{sim}/_sim/stats")).json()["in_flight"] == 0:
            break
        await asyncio.sleep(0.1)
    (await client.post(f"{sim}/_sim/stats/reset")).raise_for_status()


async def _probe(
    client: httpx.AsyncClient,
    sim_urls: dict[str, str],
    url: str,
    auth: dict[str, str],
    bodies: dict[str, bytes],
) -> dict[str, dict[str, int]]:
    """Backend calls (`system.operation`) each kind costs, sent alone to the just-started BFF for a
    caller not in the schedule, counted by the simulators (`bench/backend_calls.py`)."""
    cost: dict[str, dict[str, int]] = {}
    for name, body in bodies.items():
        before = await backend_calls.snapshot(client, sim_urls)
        await client.post(url, content=body, headers={"Content-Type": "application/json", **auth})
        await asyncio.sleep(0.3)  # a call the deadline gave up on may still be on its way
        cost[name] = dict(
            sorted(backend_calls.delta(await backend_calls.snapshot(client, sim_urls), before).items())
        )
    return cost


def _calls_per_request(
    every: dict[str, dict[str, Any]],
    outcomes: list[Outcome],
    began: float,
    phases: Sequence[tuple[str, float, float]],
) -> dict[str, Any]:
    """The measured run's backend calls per request sent, by system, counted by the simulators: the
    whole run, then per phase by wall-clock second (calls at a phase's edge may land in its neighbour)."""
    sent = len(outcomes)
    out: dict[str, Any] = {
        "all": {name: round(s["requests"] / sent, 3) if sent else None for name, s in sorted(every.items())}
    }
    start = began
    for phase, seconds, _ in phases:
        n = sum(1 for o in outcomes if o.phase == phase)
        calls = {
            name: sum(b["calls"] for b in s["per_second"] if start - 0.5 <= b["t"] < start + seconds - 0.5)
            for name, s in sorted(every.items())
        }
        out[phase] = {name: round(c / n, 3) if n else None for name, c in calls.items()}
        start += seconds
    return out


async def _mode(
    mode: str, run: Run, plan: list[Arrival], probes: list[Caller], scratch: Path
) -> dict[str, Any]:
    """One mode, on processes of its own: simulators, BFF, probe, quiesce, then the measured run."""
    world_args = ["--seed", str(SEED), "--customers", str(run.customers), "--as-of", run.as_of]
    sims: Sims = start_simulators(world_args)
    bff = None
    try:
        key_path, audit = scratch / "issuer-key.pem", scratch / f"audit-{mode}.jsonl"
        env = backend_env(sims) | {"TIDEGATE_LOG_LEVEL": "WARNING", "TIDEGATE_AUDIT_PATH": str(audit)}
        env |= {"TIDEGATE_LOCAL_ISSUER": "true", "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key_path)}
        env |= _overrides(mode) | (BFF_ENV if run.ring_s > 0 else {})
        tokens = [bearer(key_path, f"surge-agent-{n:02d}") for n in range(run.agents)]
        calls = plan_calls(key_path, plan, run.agents) if run.ring_s > 0 else None
        port = free_port()
        bff = server(["gateway.cli", "serve"], port, env)
        url = f"http://127.0.0.1:{port}/graphql"
        area = run.area
        bodies = [request_body(a, i, area) for i, a in enumerate(plan)]
        probe_bodies = {
            k: request_body(Arrival(0.0, "normal", KINDS[k], probes[n], False), n, area)
            for n, k in enumerate(k for k, rate in run.rates.items() if rate > 0)
        }
        warm = request_body(Arrival(0.0, "normal", KINDS["screen_pop"], probes[-1], False), 0, area)
        await wait_http(url, bff, warm, tokens[0])
        billing = f"http://127.0.0.1:{sims['billing'][0]}"
        sim_urls = {name: f"http://127.0.0.1:{p}" for name, (p, _) in sims.items()}
        async with httpx.AsyncClient(timeout=30) as client:
            cost = await _probe(client, sim_urls, url, tokens[0], probe_bodies)
            for port, _ in sims.values():
                await _reset(client, f"http://127.0.0.1:{port}")
            pids = {"bff": bff.pid, **{name: proc.pid for name, (_, proc) in sims.items()}}
            cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
            outcomes, loadgen = await drive(
                [url], plan, bodies, tokens, run.client_timeout_s, calls, run.ring_s
            )
            await asyncio.sleep(0.2)
            cpu = {
                name: round((cpu_seconds(pid) - cpu[name]) / loadgen["seconds"], 3)
                for name, pid in pids.items()
            }
            every = {
                name: (await client.get(f"http://127.0.0.1:{p}/_sim/stats")).json()
                for name, (p, _) in sims.items()
            }
            stats = every["billing"]
            # Rung pops are timed by the BFF itself, from the ring (`ring_time_pops`).
            exposition = (
                (await client.get(url.removesuffix("/graphql") + "/metrics")).text if run.ring_s > 0 else ""
            )
            capacity = (await client.get(f"{billing}/_sim/faults")).json()["pool_size"]
    finally:
        stop([bff] if bff else [])
        stop([proc for _, proc in sims.values()])
    began = loadgen.pop("began_wall")
    block = billing_tables(stats, capacity, began, run.phases)
    block |= tables(outcomes, PHASES)
    block["billing_alone_late"] = billing_alone_late(every, _pop_cut_ms(), outcomes)
    if exposition:
        block["ring_time_pops"] = ring_pops(exposition)
    block["backend_calls_per_request_alone"] = cost
    block["billing_calls_per_request"] = {
        kind: {op.removeprefix("billing."): n for op, n in ops.items() if op.startswith("billing.")}
        for kind, ops in cost.items()
    }
    block["backend_calls_per_request"] = _calls_per_request(every, outcomes, began, run.phases)
    block["backends"] = {
        name: {k: s[k] for k in ("requests", "errors", "errors_by_kind", "peak_in_flight", "peak_rps")}
        for name, s in every.items()
    }
    block["cpu_share"] = {"loadgen": loadgen.pop("cpu_share"), **cpu}
    block["loadgen"] = loadgen
    block["audit_records"] = sum(1 for _ in audit.open(encoding="utf-8")) if audit.exists() else 0
    return block


def _pop_cut_ms() -> float:
    """Where the BFF cuts a screen pop's backend calls, from its arrival: the critical class's budget
    less the reserve kept to answer (both modes run on these defaults)."""
    deadlines = DeadlineSettings()
    return float(deadlines.budget_critical_ms - deadlines.budget_reserve_ms)


def _overrides(mode: str) -> dict[str, str]:
    """The only settings a mode changes: protection off for the baseline, nothing for `protected`."""
    return {"TIDEGATE_PROTECTION": "false"} if mode == "unprotected" else {}


def request_body(arrival: Arrival, serial: int, area: tuple[float, float, float, float]) -> bytes:
    kind = arrival.kind
    doc = {
        "query": kind.query,
        "operationName": kind.operation,
        "variables": variables(arrival, serial, area),
    }
    return orjson.dumps(doc)


def _config(run: Run, plan: list[Arrival]) -> dict[str, Any]:
    per_phase = {
        phase: {k: sum(1 for a in plan if a.phase == phase and a.kind.name == k) for k in KINDS}
        for phase in PHASES
    }
    return {
        "phases": [{"phase": p, "seconds": round(s, 2), "rate_factor": f} for p, s, f in run.phases],
        "normal_rates_rps": run.rates,
        "repeat_share_in_surge": run.repeat_share,
        "repeat_calls": sum(a.repeat for a in plan),
        "arrivals": per_phase,
        "agents": run.agents,
        "token_role": "supervisor" if run.ring_s <= 0 else "supervisor; screen pops: the call's agent",
        "screen_pops": (
            f"calls: CTI ring, answered {run.ring_s} s later, then the query"
            if run.ring_s > 0
            else "queries without a ring"
        ),
        "ring_s": run.ring_s,
        "client_timeout_s": run.client_timeout_s,
        "customers": run.customers,
        "world_seed": SEED,
        "schedule_seed": run.seed,
        "as_of": run.as_of,
        "latency_scale": 1.0,
        "billing_pool": "simulator default",
        "bff_overrides": {mode: _overrides(mode) for mode in run.modes},
        "tickets": run.tickets_note or "included",
        "success": "HTTP 200, root field set, no RATE_LIMITED, INTERNAL or transport error",
    }


async def _run(run: Run) -> dict[str, Any]:
    # Probes need a number of their own: a pop for a shared number loads every customer on it.
    shared = Counter(c.phone for c in run.callers)
    probes = [c for c in reversed(run.callers) if shared[c.phone] == 1][:PROBES]
    pool = [c for c in run.callers if c not in probes]
    plan = schedule(run.rates, run.phases, pool, run.repeat_share, run.seed)
    result: dict[str, Any] = {"benchmark": "surge", "config": _config(run, plan)}
    with tempfile.TemporaryDirectory(prefix="bench-surge-") as scratch:
        for mode in run.modes:
            result[mode] = await _mode(mode, run, plan, probes, Path(scratch))
    result["checks"] = checks(result)
    return result


def _tickets_missing() -> bool:
    """Until the createTicket mutation is in the contract, the mix runs without tickets (and says so)."""
    return "createTicket(" not in (ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")


def _setup(args: argparse.Namespace) -> Run:
    """The run's fixed inputs; the world is built here once and only its callers are kept."""
    modes = tuple(m for m in args.modes.split(",") if m)
    if unknown := set(modes) - {"protected", "unprotected"}:
        raise SystemExit(f"unknown modes: {sorted(unknown)}")
    rates, note = dict(args.rates), None
    if rates["ticket"] > 0 and _tickets_missing():
        rates["ticket"], note = 0.0, "left out: createTicket is not in schema/schema.graphql yet"
        print(f"surge: tickets {note}", file=sys.stderr)
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    world = build_world(SEED, args.customers, as_of)
    run = Run(
        rates=rates,
        phases=(
            ("normal", args.seconds / 3, 1.0),
            ("surge", args.seconds, args.surge_factor),
            ("recovery", args.seconds / 3, 1.0),
        ),
        repeat_share=args.repeat_share,
        agents=args.agents,
        client_timeout_s=args.client_timeout_s,
        ring_s=args.ring_s,
        customers=args.customers,
        seed=args.seed,
        modes=modes,
        as_of=as_of.isoformat(),
        callers=callers(world),
        area=burst_area(world),
        tickets_note=note,
    )
    # The world is millions of objects: left to the collector, each full pass stalls the arrival
    # loop for a quarter of a second. Dropped and the rest frozen, the load generator keeps time.
    del world
    gc.collect()
    gc.freeze()
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="surge length; normal and recovery: a third"
    )
    parser.add_argument("--surge-factor", type=float, default=10.0)
    parser.add_argument(
        "--rates",
        type=_rates,
        default=dict(NORMAL_RATES),
        help="normal rates per second, e.g. 'ticket=0,bills=2'",
    )
    parser.add_argument(
        "--repeat-share", type=float, default=0.3, help="share of surge calls from repeat callers"
    )
    parser.add_argument("--agents", type=int, default=20, help="distinct supervisor tokens (client ids)")
    parser.add_argument("--client-timeout-s", type=float, default=10.0)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument(
        "--ring-s",
        type=float,
        default=0.0,
        help="screen pops as calls: a CTI ring answered this many seconds later (bench/surge_ring.py)",
    )
    parser.add_argument("--seed", type=int, default=1, help="the arrival schedule's seed")
    parser.add_argument("--modes", default="protected,unprotected")
    parser.add_argument(
        "--scenario",
        choices=("mix", "burst"),
        default="mix",
        help="burst: one segment's customers call, with and without IVR deflection (bench/surge_burst.py)",
    )
    parser.add_argument("--burst-rate", type=float, default=3.0, help="burst scenario: normal pops a second")
    args = parser.parse_args(argv)
    if args.scenario == "burst":
        burst = surge_burst.run(args.seconds, args.burst_rate, args.surge_factor, args.customers, args.seed)
        print(json.dumps(asyncio.run(burst), ensure_ascii=False, indent=2))
        return 0
    result = asyncio.run(_run(_setup(args)))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
