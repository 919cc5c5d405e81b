"""Screen-pop CPU and throughput: Tidegate against the hand-written floor, doing the same work.

Starts the four simulators (billing's pool widened so the back office is not what is measured),
Tidegate (`tidegate serve`) and the floor (`bench/floor_server.py`), each its own process, and
sends both `gql/screen_pop.graphql`'s callers at fixed concurrency, as a supervisor (any caller, PII
in clear, as the floor answers):

    python -m bench.screen_pop --seconds 20 --concurrency 16 --latency-scale 0
    python -m bench.screen_pop --seconds 20 --concurrency 16 --latency-scale 0 --cache on
    python -m bench.screen_pop --seconds 20 --concurrency 16 --latency-scale 0 --pin

Honest by construction (issue 21):

- Same work. Tidegate's read cache is off by default (`--cache off`, TIDEGATE_CACHE=false; the
  floor has none), so both ask the back offices for everything on every pop. `--cache on` is a
  second, labelled figure: Tidegate then does less work than the floor, and says so.
- Counted, not assumed. Every slice is bracketed by the simulators' own counters (`/_sim/stats`,
  `bench/backend_calls.py`): `backend_calls_per_pop` per leg, with `backend_calls_by_system`.
  Tidegate's background work that would call them (the IVR's outage index) is turned off.
- Same answers. Before measuring, `--check` callers are asked of both and the bodies compared byte
  for byte, the `asOf` timestamps blanked (each is the moment that server asked, never equal).
- Interleaved. `--seconds` is split into rounds of about `--slice-s` each; every round sends the
  same new stretch of callers to each leg in turn, the leg going first alternating (AB BA ...), so
  drift on a shared machine falls on both alike. The batch size comes from a warm-up of the slower
  leg, so each leg's share of a round lasts about `--slice-s`.
- Pinned, on request. `--pin` runs both servers on half the machine's cores and the simulators and
  this load generator on the other half (`"pinned"` in the JSON says which), so a leg's CPU is not
  inflated by the rig's own processes sharing its core and caches. Without it (the default, and
  issue 21's figure) everything shares every core. Each leg's `cpu_busy` (CPU seconds per second
  sent) says how loaded it was: a leg that idles between pops pays more loop wake-ups per pop.
- Ratios only between equals. `ratio_cpu` (the floor's CPU per pop / Tidegate's, each read from its
  own process in /proc, the simulators sharing the cores) and `ratio_rps` (Tidegate's pops per
  second / the floor's) are printed only when both legs made the same backend calls per pop and gave
  the same answers; otherwise they are null and `ratio_withheld` says why. `ratio_cpu_rounds` is
  the median and quartiles of the rounds' paired ratios (the noise the figure sits in).

`--ring-to-pop` measures the ring-time screen pop instead (`bench/ring_to_pop.py`): from the CTI's
CALL_RINGING to the pop on the agent's `screenPop` subscription, and the answered-call query, with
and without the prefetch, `--concurrency` agents calling at once, billing at its realistic pool.
Those two legs do different work on purpose (that is what the prefetch is); each prints its calls:

    python -m bench.screen_pop --ring-to-pop --seconds 20 --concurrency 8 --latency-scale 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson

from bench import backend_calls, ring_to_pop
from bench.loadgen import Batch, percentile, send_all
from bench.observability import screen_pop_id
from bench.stack import (
    backend_env,
    bearer,
    cost_only_env,
    server,
    split_cores,
    start_simulators,
    wait_http,
)
from simulators.launch import free_port, stop
from simulators.world import build_world

ROOT = Path(__file__).resolve().parents[1]
# What the softphone sends: the manifest operation's id, never its text (the manifest is the hot path).
PERSISTED_SCREEN_POP = {"persistedQuery": {"version": 1, "sha256Hash": screen_pop_id()}}
SEED = 20261126
LEGS = ("tidegate", "floor")
_AS_OF = re.compile(rb'"asOf":"[^"]*"')


def _phones(customers: int, count: int = 500) -> list[str]:
    world = build_world(SEED, customers)
    return [c.mobile for c in world.customers if c.mobile][:count]


def graphql_ok(status: int, body: bytes) -> bool:
    if status != 200:
        return False
    doc = orjson.loads(body)
    return not doc.get("errors") and bool(doc.get("data", {}).get("customerByPhone"))


def _floor_ok(status: int, body: bytes) -> bool:
    return status == 200 and bool(orjson.loads(body)["data"]["customerByPhone"])


def comparable(body: bytes) -> bytes:
    """The answer with each `asOf` blanked: the moment a server asked the back office is its own."""
    return _AS_OF.sub(b'"asOf":"-"', body)


@dataclass(frozen=True)
class Leg:
    """One server under test and how to ask it for a caller's screen pop."""

    url: str
    pid: int
    body: Callable[[str], bytes]
    is_ok: Callable[[int, bytes], bool]
    headers: Mapping[str, str]

    async def send(self, session: aiohttp.ClientSession, phones: Sequence[str], concurrency: int) -> Batch:
        """Every caller in `phones` once, `concurrency` at a time, this server's CPU read around it."""
        bodies = [self.body(p) for p in phones]
        return await send_all(
            session,
            self.url,
            bodies,
            self.is_ok,
            concurrency=concurrency,
            server_pid=self.pid,
            headers=self.headers,
        )


def tidegate_leg(port: int, pid: int, auth: Mapping[str, str]) -> Leg:
    """A `tidegate serve` on `port` asked as the softphone asks: the persisted `ScreenPop` by id."""
    return Leg(
        f"http://127.0.0.1:{port}/graphql",
        pid,
        lambda phone: orjson.dumps({"extensions": PERSISTED_SCREEN_POP, "variables": {"phone": phone}}),
        graphql_ok,
        auth,
    )


@dataclass
class Tally:
    """One leg's figures over all rounds."""

    answered: int = 0
    failures: int = 0
    seconds: float = 0.0
    cpu_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    cpu_ms_per_round: list[float | None] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)

    def add(self, batch: Batch, calls: Counter[str]) -> None:
        self.answered += batch.answered
        self.failures += batch.failures
        self.seconds += batch.seconds
        self.cpu_s += batch.cpu_s
        self.latencies_ms += batch.latencies_ms
        self.cpu_ms_per_round.append(batch.cpu_s * 1000 / batch.answered if batch.answered else None)
        self.calls.update(calls)

    def summary(self) -> dict[str, Any]:
        pops = self.answered + self.failures
        return {
            "requests": pops,
            "failures": self.failures,
            "rps": round(self.answered / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": round(percentile(self.latencies_ms, 0.5), 2),
            "p99_ms": round(percentile(self.latencies_ms, 0.99), 2),
            "cpu_ms_per_request": round(self.cpu_s * 1000 / self.answered, 3) if self.answered else None,
            "cpu_busy": round(self.cpu_s / self.seconds, 3) if self.seconds else None,
            "backend_calls": sum(self.calls.values()),
            "backend_calls_per_pop": round(sum(self.calls.values()) / pops, 3) if pops else None,
            "backend_calls_by_system": backend_calls.by_system(self.calls),
            "backend_calls_by_operation": dict(sorted(self.calls.items())),
        }


async def check_answers(
    session: aiohttp.ClientSession, legs: Mapping[str, Leg], phones: Sequence[str]
) -> dict[str, Any]:
    """Ask every leg for each caller; the bodies must be the same bytes, `asOf` aside. The first
    differences are shown where they start (40 bytes of each side), to be fixed, not explained."""
    differ: list[dict[str, Any]] = []
    for phone in phones:
        bodies: dict[str, bytes] = {}
        for name, leg in legs.items():
            headers = {"Content-Type": "application/json", **leg.headers}
            async with session.post(leg.url, data=leg.body(phone), headers=headers) as resp:
                bodies[name] = comparable(await resp.read())
        if len(set(bodies.values())) != 1:
            first, *others = bodies.values()
            at = next(
                (i for other in others for i, (a, b) in enumerate(zip(first, other, strict=False)) if a != b),
                min(len(b) for b in bodies.values()),
            )
            where = {
                name: body[max(0, at - 10) : at + 30].decode(errors="replace")
                for name, body in bodies.items()
            }
            differ.append({"phone": phone, "at_byte": at, **where})
    return {"compared": len(phones), "identical": len(phones) - len(differ), "differ_first": differ[:3]}


async def measure(
    args: argparse.Namespace, legs: Mapping[str, Leg], phones: Sequence[str], sim_urls: Mapping[str, str]
) -> tuple[dict[str, Tally], dict[str, Any], int]:
    tallies = {name: Tally() for name in legs}
    connector = aiohttp.TCPConnector(limit=args.concurrency * len(legs))
    async with aiohttp.ClientSession(connector=connector) as session, httpx.AsyncClient(timeout=30) as admin:
        answers = await check_answers(session, legs, phones[: args.check])
        # Warm-up (not counted): connection pools open, code paths warm; it also sizes the batches.
        warm = [phones[-1 - i] for i in range(max(args.concurrency * 4, 20))]
        rates = []
        for leg in legs.values():
            batch = await leg.send(session, warm, args.concurrency)
            rates.append(batch.answered / batch.seconds if batch.seconds else 1.0)
        rounds = max(2, math.ceil(args.seconds / args.slice_s))
        per_round = max(args.concurrency * 2, round(min(rates) * args.seconds / rounds))
        offset = 0
        for round_no in range(rounds):
            stretch = [phones[(offset + i) % len(phones)] for i in range(per_round)]
            offset += per_round
            order = list(legs) if round_no % 2 == 0 else list(legs)[::-1]
            rates = []
            for name in order:
                leg = legs[name]
                before = await backend_calls.snapshot(admin, sim_urls)
                batch = await leg.send(session, stretch, args.concurrency)
                after = await backend_calls.snapshot(admin, sim_urls)
                tallies[name].add(batch, backend_calls.delta(after, before))
                rates.append(batch.answered / batch.seconds if batch.seconds else 1.0)
            # the next rounds' batch from this round's slower leg (the warm-up ran cold)
            per_round = max(args.concurrency * 2, round(min(rates) * args.slice_s))
    return tallies, answers, rounds


def ratios(
    legs: Mapping[str, dict[str, Any]],
    answers: Mapping[str, Any],
    cpu_rounds: Sequence[tuple[float | None, float | None]],
) -> dict[str, Any]:
    """`ratio_cpu`, `ratio_rps` and the rounds' spread, or null with `ratio_withheld` saying why."""
    t, f = legs["tidegate"], legs["floor"]
    why = []
    if t["backend_calls_per_pop"] != f["backend_calls_per_pop"]:
        why.append(
            f"backend calls per pop differ ({t['backend_calls_per_pop']} against "
            f"{f['backend_calls_per_pop']}): the legs did different work"
        )
    if answers["identical"] != answers["compared"]:
        differ = answers["compared"] - answers["identical"]
        why.append(f"answers differ for {differ} of {answers['compared']} callers")
    if t["failures"] or f["failures"]:
        why.append("a leg failed pops")
    if why:
        return {
            "ratio_rps": None,
            "ratio_cpu": None,
            "ratio_cpu_rounds": None,
            "ratio_withheld": "; ".join(why),
        }
    pairs = [fl / td for td, fl in cpu_rounds if td and fl]
    quartiles = statistics.quantiles(pairs, n=4, method="inclusive") if len(pairs) > 1 else pairs * 3
    return {
        "ratio_rps": round(t["rps"] / f["rps"], 3) if f["rps"] else None,
        "ratio_cpu": round(f["cpu_ms_per_request"] / t["cpu_ms_per_request"], 3)
        if t["cpu_ms_per_request"] and f["cpu_ms_per_request"]
        else None,
        "ratio_cpu_rounds": {
            "median": round(statistics.median(pairs), 3),
            "quartiles": [round(quartiles[0], 3), round(quartiles[2], 3)],
        }
        if pairs
        else None,
    }


def bff_env(
    sims: Mapping[str, tuple[int, subprocess.Popen[bytes]]], cache: str, scratch: Path
) -> tuple[dict[str, str], Path]:
    """The environment a benchmarked `tidegate serve` runs with, and its token issuer's key file (in
    `scratch`, beside the audit file): its cost alone, every pop answered in full, nothing else
    calling the simulators. Shared with `bench.versus`, whose two legs are both Tidegate."""
    env = backend_env(sims)
    env |= cost_only_env(sims) | {"TIDEGATE_LOG_LEVEL": "WARNING"}  # like the floor: no limits
    # Nothing but the pops may call the simulators while they are counted: no outage index
    # (the IVR's, refreshed every 15 s from the GIS; the screen pop never reads it).
    env |= {"TIDEGATE_OUTAGE_INDEX": "false", "TIDEGATE_CACHE": "true" if cache == "on" else "false"}
    env |= {"TIDEGATE_AUDIT_PATH": str(scratch / "audit.jsonl")}  # a supervisor's reads are audited
    # The BFF checks tokens from its local issuer; we make the key file, so the token is ready.
    key_path = scratch / "issuer-key.pem"
    env |= {"TIDEGATE_LOCAL_ISSUER": "true", "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key_path)}
    return env, key_path


@asynccontextmanager
async def standing_legs(
    customers: int,
    latency_scale: float,
    cache: str,
    first_phone: str,
    wrap: Callable[[str], Sequence[str]] = lambda _leg: (),
    leg_cpus: frozenset[int] | None = None,
) -> AsyncIterator[tuple[dict[str, Leg], dict[str, str]]]:
    """The four simulators, Tidegate and the floor, each its own process, up and answering (one
    pop each): the legs and the simulators' URLs. `wrap(leg)` goes before each server's module on
    its command line (`bench.call_counts` runs both under `bench.profiled`); `leg_cpus`, the cores
    both servers run on (`--pin`)."""
    sims: dict[str, Any] = {}
    servers: list[subprocess.Popen[bytes]] = []
    world_args = ["--seed", str(SEED), "--customers", str(customers), "--latency-scale", str(latency_scale)]
    scratch = tempfile.mkdtemp(prefix="bench-issuer-")
    try:
        sims = start_simulators(world_args, {"billing": ["--pool-size", "1000"]})
        sim_urls = {name: f"http://127.0.0.1:{port}" for name, (port, _) in sims.items()}
        env, key_path = bff_env(sims, cache, Path(scratch))
        auth = bearer(key_path)
        bff_port, floor_port = free_port(), free_port()
        bff = server([*wrap("tidegate"), "gateway.cli", "serve"], bff_port, env, leg_cpus)
        floor = server([*wrap("floor"), "bench.floor_server"], floor_port, env, leg_cpus)
        servers = [bff, floor]
        legs = {
            "tidegate": tidegate_leg(bff_port, bff.pid, auth),
            "floor": Leg(
                f"http://127.0.0.1:{floor_port}/screen-pop",
                floor.pid,
                lambda phone: orjson.dumps({"phone": phone}),
                _floor_ok,
                {},
            ),
        }
        for proc, leg in zip(servers, legs.values(), strict=True):
            await wait_http(leg.url, proc, leg.body(first_phone), leg.headers)
        yield legs, sim_urls
    finally:
        stop(servers)
        stop([proc for _, proc in sims.values()])
        shutil.rmtree(scratch, ignore_errors=True)


async def _run(args: argparse.Namespace, phones: list[str]) -> dict[str, Any]:
    split = split_cores() if args.pin else None
    own_cpus = os.sched_getaffinity(0)
    leg_cpus = None
    if split is not None:
        leg_cpus, rest = split
        os.sched_setaffinity(0, rest)  # this load generator, and the simulators it starts
    try:
        async with standing_legs(
            args.customers, args.latency_scale, args.cache, phones[0], leg_cpus=leg_cpus
        ) as (legs, sim_urls):
            tallies, answers, rounds = await measure(args, legs, phones, sim_urls)
    finally:
        os.sched_setaffinity(0, own_cpus)
    summaries = {name: tally.summary() for name, tally in tallies.items()}
    cpu_rounds = list(
        zip(tallies["tidegate"].cpu_ms_per_round, tallies["floor"].cpu_ms_per_round, strict=True)
    )
    return {
        "benchmark": "screen_pop",
        "cache": "on (Tidegate's read cache; the floor has none)" if args.cache == "on" else "off",
        "concurrency": args.concurrency,
        "seconds_per_leg": args.seconds,
        "rounds": rounds,
        "latency_scale": args.latency_scale,
        "customers": args.customers,
        "pinned": {"legs": sorted(split[0]), "rest": sorted(split[1])} if split is not None else None,
        "answers": answers,
        **summaries,
        **ratios(summaries, answers, cpu_rounds),
    }


async def _ring(args: argparse.Namespace, phones: list[str]) -> dict[str, Any]:
    """Both legs of `bench/ring_to_pop.py` on the same simulators, each on a fresh Tidegate process,
    each leg's backend calls counted at the simulators (the prefetch's are its point, so no ratio
    of costs is printed, only the latency ratio both legs are measured for)."""
    world_args = ["--seed", str(SEED), "--customers", str(args.customers)]
    world_args += ["--latency-scale", str(args.latency_scale)]
    scratch = tempfile.mkdtemp(prefix="bench-issuer-")
    sims: dict[str, Any] = {}
    try:
        sims = start_simulators(world_args)  # billing's own pool: its latency is what is measured
        sim_urls = {name: f"http://127.0.0.1:{port}" for name, (port, _) in sims.items()}
        key_path = Path(scratch) / "issuer-key.pem"
        env = backend_env(sims) | {
            "TIDEGATE_LOG_LEVEL": "WARNING",
            "TIDEGATE_LOCAL_ISSUER": "true",
            "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key_path),
            "TIDEGATE_CTI_SECRETS": ring_to_pop.CTI_SECRET,
            "TIDEGATE_AUDIT_PATH": str(Path(scratch) / "audit.jsonl"),
            "TIDEGATE_PERSISTED_ONLY": "false",  # its agents send the pop's text, as before issue 15
            "TIDEGATE_OUTAGE_INDEX": "false",  # no background GIS reads counted against a leg
        }
        bearer(key_path)  # makes the key file the servers will verify with

        def mint(agent: str) -> str:
            from gateway.auth import local_issuer
            from gateway.settings import Settings

            issuer = local_issuer(Settings(local_issuer=True, local_issuer_key_path=key_path))
            return issuer.mint(client_id=f"bench-{agent}", role="agent", agent_id=agent)

        legs = {}
        async with httpx.AsyncClient(timeout=30) as admin:
            for name, prefetch in (("prefetch", True), ("no_prefetch", False)):
                before = await backend_calls.snapshot(admin, sim_urls)
                legs[name] = await ring_to_pop.run_leg(
                    env, mint, phones, prefetch=prefetch, agents=args.concurrency, seconds=args.seconds
                )
                calls = backend_calls.delta(await backend_calls.snapshot(admin, sim_urls), before)
                pops = legs[name]["calls"]
                legs[name]["backend_calls"] = sum(calls.values())
                legs[name]["backend_calls_per_call"] = round(sum(calls.values()) / pops, 3) if pops else None
                legs[name]["backend_calls_by_system"] = backend_calls.by_system(calls)
    finally:
        stop([proc for _, proc in sims.values()])
        shutil.rmtree(scratch, ignore_errors=True)
    with_p99 = legs["prefetch"]["answered_query"]["p99_ms"]
    without_p99 = legs["no_prefetch"]["answered_query"]["p99_ms"]
    return {
        "benchmark": "screen_pop_ring_to_pop",
        "agents": args.concurrency,
        "seconds_per_leg": args.seconds,
        "latency_scale": args.latency_scale,
        "customers": args.customers,
        **legs,
        "ratio_answered_p99": round(without_p99 / with_p99, 2) if with_p99 else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per leg, about")
    parser.add_argument("--slice-s", type=float, default=1.0, help="each leg's share of a round, about")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-scale", type=float, default=1.0, help="simulator latency (0 = instant)")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument(
        "--cache",
        choices=("off", "on"),
        default="off",
        help="Tidegate's read cache (off: both legs ask the back offices for everything)",
    )
    parser.add_argument("--check", type=int, default=50, help="callers whose answers are compared first")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="both servers on half the cores, the simulators and this load generator on the rest",
    )
    parser.add_argument(
        "--ring-to-pop", action="store_true", help="measure the ring-time screen pop (bench/ring_to_pop.py)"
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.slice_s <= 0 or args.concurrency < 1 or args.check < 0:
        parser.error("--seconds and --slice-s must be positive, --concurrency at least 1, --check >= 0")
    if args.ring_to_pop:
        result = asyncio.run(_ring(args, _phones(args.customers, count=20_000)))
    else:
        result = asyncio.run(_run(args, _phones(args.customers)))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
