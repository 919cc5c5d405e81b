"""The IVR's outage look-up: `callerOutageStatus` from memory, against the same answer via the screen pop.

Starts the four simulators (default seed, realistic latency, billing at its default pool) and one
`tidegate serve` process, waits until its outage index is built (the background refresh, set here
to one hour so that no refresh runs during the measurement), then drives two legs at fixed
concurrency, interleaved in one-second slices so both see the same machine:

- `ivr`: the persisted `CallerOutageStatus` by `documentId`, with the softphone's token, for
  callers half of whom the active outages leave without water, run compiled
  (`gateway.persisted.compiled_operation`);
- `ivr_executor`: the same requests to a second BFF process started with
  `TIDEGATE_PERSISTED_COMPILED=false`, so graphql-core's executor runs them (what compiling saves);
- `baseline`: the same question the way an agent's client asks it without the index,
  `customerByPhone(phone) { id activeOutages { id } }` (CRM, billing, GIS), as a supervisor.

Each slice resets the simulators' counters first and reads them after, so `backend_calls` is what
that leg cost the back offices (the IVR leg's must be 0). Prints JSON; the top-level `rps` and
`p99_ms` are the IVR leg's:

    python -m bench.ivr_lookup --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from backends.registry import BACKENDS, open_backends
from bench.loadgen import LegResult, drive, percentile
from bench.stack import backend_env, bearer, cost_only_env, server, start_simulators, wait_http
from infra.http.config import BackendConfig
from services.access import NETWORK_READ, Access, Principal
from services.context import build_context
from services.outage_impact import caller_status, indexer_of
from simulators.launch import free_port, stop
from simulators.world import World, build_world

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261126
BASELINE = "query Baseline($phone: String!) { customerByPhone(phone: $phone) { id activeOutages { id } } }"
TARGET = {"rps": 2000, "p99_ms": 10.0}


def _manifest_id(name: str) -> str:
    manifest = json.loads((ROOT / "gql" / "manifest.json").read_text(encoding="utf-8"))
    return str(next(op["id"] for op in manifest["operations"] if op["name"] == name))


def phones(world: World, count: int = 400) -> tuple[list[str], list[str]]:
    """(affected, unaffected) mobiles: holders of accounts on the active outages' mains, and others."""
    dry = {m for o in world.outages if o.status == 1 for m in o.main_ids}
    affected: list[str] = []
    others: list[str] = []
    for c in world.customers:
        if not c.mobile:
            continue
        mains = {a.main_id for a in world.accounts_of.get(c.customer_no, ())}
        (affected if mains & dry else others).append(c.mobile)
    return affected[:count], others[:count]


def _ivr_ok(status: int, body: bytes) -> bool:
    if status != 200:
        return False
    doc = orjson.loads(body)
    return not doc.get("errors") and doc.get("data", {}).get("callerOutageStatus") is not None


def _baseline_ok(status: int, body: bytes) -> bool:
    if status != 200:
        return False
    doc = orjson.loads(body)
    return not doc.get("errors") and doc.get("data", {}).get("customerByPhone") is not None


async def _backend_calls(client: httpx.AsyncClient, urls: dict[str, str], reset: bool) -> dict[str, int]:
    calls: dict[str, int] = {}
    for name, url in urls.items():
        if reset:
            for _ in range(100):  # a call still in flight from the last slice finishes first
                if (await client.get(f"{url}/_sim/stats")).json()["in_flight"] == 0:
                    break
                await asyncio.sleep(0.05)
            (await client.post(f"{url}/_sim/stats/reset")).raise_for_status()
        else:
            calls[name] = int((await client.get(f"{url}/_sim/stats")).json()["requests"])
    return calls


async def in_process(urls: dict[str, str], phones: list[str], seconds: float) -> dict[str, Any]:
    """The look-up alone, without HTTP, tokens, admission or GraphQL: `caller_status` against an index
    built here, one call after another (what the index itself costs per look-up)."""
    backends = open_backends({n: BackendConfig(n, urls[n], timeout_s=30.0) for n in BACKENDS})
    indexer = indexer_of(backends)
    try:
        await indexer.refresh()
        indexer.ensure_running()  # as in the app (it sleeps now: the refresh just ran)
        who = Access(
            Principal("bench", "softphone", "softphone", frozenset({NETWORK_READ}), agent_id="A1001")
        )
        ctx = build_context(backends, access=who)
        timings: list[float] = []
        affected = 0
        stop_at = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < stop_at:
            i += 1
            t0 = time.perf_counter()
            status = await caller_status(ctx, phones[i % len(phones)])
            timings.append((time.perf_counter() - t0) * 1000)
            affected += bool(status.notices)
    finally:
        await indexer.aclose()
        await backends.aclose()
    index = indexer.index
    return {
        "lookups": len(timings),
        "rps": round(len(timings) / seconds, 1),
        "p50_us": round(percentile(timings, 0.5) * 1000, 2),
        "p99_us": round(percentile(timings, 0.99) * 1000, 2),
        "affected_share": round(affected / len(timings), 3) if timings else None,
        "index": dict(index.stats) if index else None,
    }


def _merge(parts: list[LegResult]) -> LegResult:
    return LegResult(
        sum(p.requests for p in parts),
        sum(p.failures for p in parts),
        sum(p.seconds for p in parts),
        [x for p in parts for x in p.latencies_ms],
        sum(p.cpu_s for p in parts),
    )


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    world = build_world(SEED, args.customers)
    affected, others = phones(world)
    mixed = [p for pair in zip(affected, others, strict=False) for p in pair] or others
    del world
    world_args = [
        "--seed",
        str(SEED),
        "--customers",
        str(args.customers),
        "--latency-scale",
        str(args.latency_scale),
    ]
    scratch = tempfile.mkdtemp(prefix="bench-ivr-")
    sims: dict[str, Any] = {}
    bff = executor_bff = None
    try:
        sims = start_simulators(world_args)
        urls = {name: f"http://127.0.0.1:{port}" for name, (port, _) in sims.items()}
        key_path = Path(scratch) / "issuer-key.pem"
        env = backend_env(sims) | cost_only_env(sims) | {"TIDEGATE_LOG_LEVEL": "WARNING"}
        env |= {"TIDEGATE_LOCAL_ISSUER": "true", "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key_path)}
        env |= {
            "TIDEGATE_OUTAGE_INDEX": "true",
            "TIDEGATE_OUTAGE_INDEX_REFRESH_S": "3600",
        }  # built once at start
        softphone = bearer(key_path, "softphone", "softphone", agent_id="A1001")
        supervisor = bearer(key_path, "bench", "supervisor")
        port = free_port()
        bff = server(["gateway.cli", "serve"], port, env)
        url = f"http://127.0.0.1:{port}/graphql"
        executor_port = free_port()
        executor_bff = server(
            ["gateway.cli", "serve"], executor_port, env | {"TIDEGATE_PERSISTED_COMPILED": "false"}
        )
        executor_url = f"http://127.0.0.1:{executor_port}/graphql"
        doc_id = f"sha256:{_manifest_id('CallerOutageStatus')}"

        def ivr_body(i: int) -> bytes:
            return orjson.dumps({"documentId": doc_id, "variables": {"phone": mixed[i % len(mixed)]}})

        def baseline_body(i: int) -> bytes:
            return orjson.dumps({"query": BASELINE, "variables": {"phone": mixed[i % len(mixed)]}})

        await wait_http(url, bff, ivr_body(0), softphone)
        await wait_http(executor_url, executor_bff, ivr_body(0), softphone)
        started = time.perf_counter()
        async with httpx.AsyncClient(timeout=30) as client:
            for target in (url, executor_url):
                for _ in range(1200):  # the index is built in the background after start-up
                    r = await client.post(
                        target, content=ivr_body(0), headers={"Content-Type": "application/json", **softphone}
                    )
                    if r.json()["data"]["callerOutageStatus"]["asOf"] is not None:
                        break
                    await asyncio.sleep(0.1)
            index_ready_s = time.perf_counter() - started
            legs: dict[str, list[LegResult]] = {"ivr": [], "ivr_executor": [], "baseline": []}
            calls: dict[str, dict[str, int]] = {name: {} for name in legs}
            spec = {
                "ivr": (url, bff.pid, ivr_body, _ivr_ok, softphone),
                "ivr_executor": (executor_url, executor_bff.pid, ivr_body, _ivr_ok, softphone),
                "baseline": (url, bff.pid, baseline_body, _baseline_ok, supervisor),
            }
            warm = min(0.5, args.seconds / 4)
            for target, pid, body, ok, auth in spec.values():
                await drive(
                    target,
                    body,
                    ok,
                    concurrency=args.concurrency,
                    seconds=warm,
                    server_pid=pid,
                    headers=auth,
                )
            slices = max(1, round(args.seconds / args.slice_s))
            for _ in range(slices):
                for name, (target, pid, body, ok, auth) in spec.items():
                    await _backend_calls(client, urls, reset=True)
                    legs[name].append(
                        await drive(
                            target,
                            body,
                            ok,
                            concurrency=args.concurrency,
                            seconds=args.seconds / slices,
                            server_pid=pid,
                            headers=auth,
                        )
                    )
                    for system, n in (await _backend_calls(client, urls, reset=False)).items():
                        calls[name][system] = calls[name].get(system, 0) + n
        engine = await in_process(urls, mixed, min(args.seconds, 2.0))
    finally:
        stop([p for p in (bff, executor_bff) if p is not None])
        stop([proc for _, proc in sims.values()])
        shutil.rmtree(scratch, ignore_errors=True)
    out: dict[str, Any] = {}
    for name, parts in legs.items():
        merged = _merge(parts).summary()
        done = merged["requests"] - merged["failures"]
        merged["backend_calls"] = calls[name]
        merged["backend_calls_per_lookup"] = round(sum(calls[name].values()) / done, 3) if done else None
        out[name] = merged
    return {
        "benchmark": "ivr_lookup",
        "rps": out["ivr"]["rps"],
        "p99_ms": out["ivr"]["p99_ms"],
        "target": TARGET,
        "ivr": out["ivr"],
        "ivr_executor": out["ivr_executor"],
        "compiled_cpu_ratio": (
            round(out["ivr"]["cpu_ms_per_request"] / out["ivr_executor"]["cpu_ms_per_request"], 3)
            if out["ivr"]["cpu_ms_per_request"] and out["ivr_executor"]["cpu_ms_per_request"]
            else None
        ),
        "baseline": out["baseline"],
        "in_process": engine,
        "config": {
            "seconds_per_leg": args.seconds,
            "slices": slices,
            "concurrency": args.concurrency,
            "customers": args.customers,
            "latency_scale": args.latency_scale,
            "phones": {"affected": len(affected), "unaffected": len(others), "sent": "alternating"},
            "index_ready_s": round(index_ready_s, 2),
            "server_processes": "1 per leg (ivr and baseline share one; ivr_executor has its own)",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per leg")
    parser.add_argument("--slice-s", type=float, default=1.0, help="legs alternate every this many seconds")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--latency-scale", type=float, default=1.0)
    result = asyncio.run(_run(parser.parse_args(argv)))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
