"""What observability costs the BFF: CPU and latency per screen pop with metrics, spans, persisted ids.

Four legs, each its own BFF process (`bench/observed_server.py`: `tidegate serve`'s steps) against
the same four simulators (latency scale 0, so the BFF's CPU dominates; billing's pool widened),
driven by `gql/screen_pop.graphql` as a supervisor sends it (any customer, no call needed):

    bare       TIDEGATE_METRICS=false, tracing off, the query text sent free-form (the baseline)
    metrics    metrics on (the default configuration), free-form
    traced     metrics on, every span recorded to an exporter that drops it, free-form
    persisted  metrics on, tracing off, ScreenPop sent hash-only (APQ extensions or documentId)

    python -m bench.observability --rounds 12 --requests 200 --concurrency 1

Why processes and not `create_app` in this process: the CPU that counts is the server's alone, read
from its own /proc entry (`bench.loadgen.cpu_seconds`), with uvicorn and httptools parsing real HTTP
as in production. In process, `time.process_time()` would also count the client (httpx, the ASGI
transport), a constant added to every leg that pulls every ratio toward 1, and would skip the HTTP
server. The one thing only `create_app` offers, the `span_exporter` seam, is why the servers run
`bench/observed_server.py` rather than `tidegate serve`: all four legs, so they differ only in
their settings and exporter.

The legs run interleaved, `--rounds` rounds of all four, each round sending the same `--requests`
callers (a new stretch of the seeded world's phones per round) at `--concurrency`, so drift on a
shared machine and cache warmth hit every leg alike (many short rounds pair better than a few long
ones). Each round starts one leg later (ABCD BCDA CDAB DABC ...): the leg that first asks the
shared simulators for a round's callers waits on colder simulators, and that must not always be the
baseline. One pop in flight by default: a pop's work does not depend on concurrency (its
dataloaders are its own), and its latency is then its own, not a queue behind the benchmark's
other pops on two cores shared with the simulators. Per leg: `cpu_ms_per_request`, the
median over rounds (each round's CPU / its answered pops), and `p50_ms`, `p99_ms` over all rounds.
`vs_bare`: each leg's CPU ratio (the median over rounds of that round's ratio to bare's, with the
quartiles of those ratios: the noise the median sits in) and latency ratios; `traced_vs_metrics`
and `persisted_vs_metrics` isolate one change each. A pop counts as answered only with HTTP 200, no
errors and the caller found; anything else is a failure, counted per leg with its code
(`failure_codes`), and a leg with failures still reports them.

Same work on every leg, counted (issue 21): the read cache is off in every BFF by default (`--cache
on` for the labelled second figure) and so is the IVR's outage index (its background GIS reads
would be counted against whichever leg runs); each leg's slice is bracketed by the simulators' own
counters (`bench/backend_calls.py`), printed as `backend_calls_per_pop` and
`backend_calls_by_system`. A ratio between legs whose calls per pop differ is null, with
`withheld` saying why.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
from graphql import parse, print_ast

from bench import backend_calls
from bench.loadgen import cpu_seconds, percentile
from bench.stack import backend_env, bearer, cost_only_env, server, start_simulators, wait_http
from gateway.persisted.manifest import document_id, load_manifest
from simulators.launch import free_port, stop
from simulators.world import build_world

ROOT = Path(__file__).resolve().parents[1]
SCREEN_POP = (ROOT / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")
SEED = 20261126
LEGS = ("bare", "metrics", "traced", "persisted")
WARM_UP = 20  # pops per leg before the first round: connection pools open, caches of code paths warm


def screen_pop_id() -> str:
    """The manifest's id for the file's ScreenPop, after checking the legs measure what they say:
    the file's text is not byte for byte a manifest body (free-form legs parse and validate it), and
    its canonical print is (the manifest is current, so hash-only runs this very document)."""
    canonical = print_ast(parse(SCREEN_POP, no_location=True))
    ids = {op.id for op in load_manifest()}
    if document_id(canonical) not in ids:
        raise RuntimeError(
            "gql/manifest.json has no ScreenPop for gql/screen_pop.graphql: run tidegate pq build"
        )
    if document_id(SCREEN_POP) in ids:
        raise RuntimeError("gql/screen_pop.graphql is a manifest body: free-form legs would skip parsing too")
    return document_id(canonical)


def rotated(legs: Sequence[str], round_no: int) -> list[str]:
    """This round's order: each round starts one leg later (ABCD, BCDA, ...), so no leg is always the
    first to ask the shared simulators for a round's new callers."""
    shift = round_no % len(legs)
    return [*legs[shift:], *legs[:shift]]


def pop_bodies(phones: Sequence[str], leg: str, persisted_form: str, pop_id: str) -> list[bytes]:
    def one(phone: str) -> dict[str, Any]:
        variables = {"phone": phone}
        if leg != "persisted":
            return {"query": SCREEN_POP, "variables": variables}
        if persisted_form == "document-id":
            return {"documentId": f"sha256:{pop_id}", "variables": variables}
        return {
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": pop_id}},
            "variables": variables,
        }

    return [orjson.dumps(one(p)) for p in phones]


def _outcome(status: int, body: bytes) -> str | None:
    """None for a pop answered in full, else why not (the first error's code, or the status)."""
    if status != 200:
        return f"HTTP {status}"
    doc = orjson.loads(body)
    if doc.get("errors"):
        return str(doc["errors"][0].get("extensions", {}).get("code", "NO_CODE"))
    return None if (doc.get("data") or {}).get("customerByPhone") else "NOT_FOUND"


class LegTally:
    """One leg's figures over all rounds."""

    def __init__(self) -> None:
        self.cpu_ms_per_round: list[float | None] = []  # None: a round with no pop answered
        self.latencies_ms: list[float] = []
        self.failures: Counter[str] = Counter()
        self.requests = 0
        self.calls: Counter[str] = Counter()  # `system.operation`: requests the simulators received

    def summary(self) -> dict[str, Any]:
        measured = [x for x in self.cpu_ms_per_round if x is not None]
        return {
            "requests": self.requests,
            "failures": sum(self.failures.values()),
            "failure_codes": dict(self.failures),
            "cpu_ms_per_request": round(statistics.median(measured), 3) if measured else None,
            "cpu_ms_per_round": [None if x is None else round(x, 3) for x in self.cpu_ms_per_round],
            "p50_ms": round(percentile(self.latencies_ms, 0.5), 2),
            "p99_ms": round(percentile(self.latencies_ms, 0.99), 2),
            "backend_calls_per_pop": round(sum(self.calls.values()) / self.requests, 3)
            if self.requests
            else None,
            "backend_calls_by_system": backend_calls.by_system(self.calls),
        }


async def _send(
    session: aiohttp.ClientSession,
    url: str,
    bodies: Sequence[bytes],
    concurrency: int,
    headers: Mapping[str, str],
    tally: LegTally | None,
) -> int:
    """Every body once, `concurrency` at a time (closed loop); returns the pops answered in full."""
    pending = iter(bodies)
    answered = 0

    async def client() -> None:
        nonlocal answered
        for body in pending:
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    why = _outcome(resp.status, await resp.read())
            except aiohttp.ClientError as exc:
                why = type(exc).__name__
            if why is None:
                answered += 1
                if tally is not None:
                    tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            elif tally is not None:
                tally.failures[why] += 1

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return answered


async def _measure(
    session: aiohttp.ClientSession,
    url: str,
    pid: int,
    bodies: Sequence[bytes],
    concurrency: int,
    headers: Mapping[str, str],
    tally: LegTally,
    admin: httpx.AsyncClient,
    sim_urls: Mapping[str, str],
) -> None:
    calls_before = await backend_calls.snapshot(admin, sim_urls)
    before = cpu_seconds(pid)
    answered = await _send(session, url, bodies, concurrency, headers, tally)
    cpu_s = cpu_seconds(pid) - before
    tally.calls.update(backend_calls.delta(await backend_calls.snapshot(admin, sim_urls), calls_before))
    tally.requests += len(bodies)
    tally.cpu_ms_per_round.append(cpu_s * 1000 / answered if answered else None)


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    pop_id = screen_pop_id()
    world = build_world(SEED, args.customers)
    phones = [c.mobile for c in world.customers if c.mobile]
    world_args = [
        "--seed",
        str(SEED),
        "--customers",
        str(args.customers),
        "--latency-scale",
        str(args.latency_scale),
    ]
    scratch = tempfile.mkdtemp(prefix="bench-issuer-")
    sims: dict[str, Any] = {}
    servers: dict[str, subprocess.Popen[bytes]] = {}
    tallies = {leg: LegTally() for leg in LEGS}
    try:
        sims = start_simulators(world_args, {"billing": ["--pool-size", "1000"]})
        sim_urls = {name: f"http://127.0.0.1:{port}" for name, (port, _) in sims.items()}
        key_path = Path(scratch) / "issuer-key.pem"
        env = backend_env(sims) | {
            "TIDEGATE_CACHE": "true" if args.cache == "on" else "false",
            "TIDEGATE_OUTAGE_INDEX": "false",  # no background GIS reads counted against a leg
            "TIDEGATE_LOG_LEVEL": "WARNING",
            "TIDEGATE_LOCAL_ISSUER": "true",
            "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key_path),
        }
        env |= cost_only_env(sims)
        auth = bearer(key_path)  # a supervisor: any caller, and hash-only or free-form alike
        headers = {"Content-Type": "application/json", **auth}
        ports = {leg: free_port() for leg in LEGS}
        for leg in LEGS:
            leg_env = env | {"TIDEGATE_METRICS": "false" if leg == "bare" else "true"}
            extra = ["--drop-spans"] if leg == "traced" else []
            servers[leg] = server(["bench.observed_server", *extra], ports[leg], leg_env)
        urls = {leg: f"http://127.0.0.1:{ports[leg]}/graphql" for leg in LEGS}
        warm_phones = phones[-WARM_UP:]
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            httpx.AsyncClient(timeout=30) as admin,
        ):
            for leg in LEGS:
                warm = pop_bodies(warm_phones, leg, args.persisted_form, pop_id)
                await wait_http(urls[leg], servers[leg], warm[0], auth)
                await _send(session, urls[leg], warm, args.concurrency, headers, None)
            for round_no in range(args.rounds):
                start = round_no * args.requests
                stretch = [phones[(start + i) % len(phones)] for i in range(args.requests)]
                for leg in rotated(LEGS, round_no):
                    bodies = pop_bodies(stretch, leg, args.persisted_form, pop_id)
                    await _measure(
                        session,
                        urls[leg],
                        servers[leg].pid,
                        bodies,
                        args.concurrency,
                        headers,
                        tallies[leg],
                        admin,
                        sim_urls,
                    )
    finally:
        stop(list(servers.values()))
        stop([proc for _, proc in sims.values()])
        shutil.rmtree(scratch, ignore_errors=True)
    legs = {leg: tallies[leg].summary() for leg in LEGS}
    return {
        "benchmark": "observability",
        "rounds": args.rounds,
        "requests_per_leg_per_round": args.requests,
        "concurrency": args.concurrency,
        "latency_scale": args.latency_scale,
        "customers": args.customers,
        "cache": args.cache,
        "persisted_form": args.persisted_form,
        **legs,
        "vs_bare": {leg: _ratios(legs[leg], legs["bare"]) for leg in LEGS[1:]},
        "traced_vs_metrics": _ratios(legs["traced"], legs["metrics"]),
        "persisted_vs_metrics": _ratios(legs["persisted"], legs["metrics"]),
    }


def _ratios(leg: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """CPU: the median of the rounds' paired ratios (interleaved, a round's drift cancels) and their
    quartiles (the spread the median comes from); latency: the leg's percentile over the baseline's.
    None of them between legs that made different backend calls per pop (`withheld` says so)."""
    if leg["backend_calls_per_pop"] != base["backend_calls_per_pop"]:
        ours, theirs = leg["backend_calls_per_pop"], base["backend_calls_per_pop"]
        why = f"backend calls per pop differ ({ours} against {theirs}): the legs did different work"
        return {"cpu": None, "cpu_quartiles": None, "p50": None, "p99": None, "withheld": why}
    rounds = zip(leg["cpu_ms_per_round"], base["cpu_ms_per_round"], strict=True)
    pairs = [a / b for a, b in rounds if a is not None and b]

    def ratio(key: str) -> float | None:
        return round(leg[key] / base[key], 3) if base[key] and leg[key] else None

    quartiles = statistics.quantiles(pairs, n=4, method="inclusive") if len(pairs) > 1 else pairs * 3
    return {
        "cpu": round(statistics.median(pairs), 3) if pairs else None,
        "cpu_quartiles": [round(quartiles[0], 3), round(quartiles[2], 3)] if pairs else None,
        "p50": ratio("p50_ms"),
        "p99": ratio("p99_ms"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=12,
        help="rounds of all four legs (a multiple of 4: each leg leads equally)",
    )
    parser.add_argument("--requests", type=int, default=200, help="screen pops per leg per round")
    parser.add_argument("--concurrency", type=int, default=1, help="pops in flight per leg")
    parser.add_argument("--customers", type=int, default=20_000, help="the seeded world's size")
    parser.add_argument("--latency-scale", type=float, default=0.0, help="simulator latency (0 = instant)")
    parser.add_argument(
        "--cache", choices=("off", "on"), default="off", help="the BFFs' read cache (off: every pop asks)"
    )
    parser.add_argument(
        "--persisted-form",
        choices=("apq", "document-id"),
        default="apq",
        help="how the persisted leg names ScreenPop: extensions.persistedQuery or documentId",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.requests < 1 or args.concurrency < 1:
        parser.error("--rounds, --requests and --concurrency must be at least 1")
    print(json.dumps(asyncio.run(_run(args)), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
