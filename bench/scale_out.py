"""Scale-out: the screen pop through Hive Gateway in front of 1, 2 and 3 Tidegate replicas.

Starts the four simulators once (realistic latency, billing's pool at its default 20) and the survey
subgraph, then one stack per leg, all up at once: a redis-server, `tidegate serve --workers N` (N
replicas on one port, one fleet on that Redis) and Hive Gateway on a supergraph routed to it
(`bench/router.py`). The legs alternate in slices of `--slice-s` so each sees the same machine. Each
sends the persisted `ScreenPop` by `documentId` to its router as a supervisor, closed loop at
`--concurrency`, every pop a caller that leg has not seen (the legs walk the same callers in the same
order, each with its own cache), so every pop costs billing a call. A pop is counted when it is
answered (HTTP 200, the caller's customers set), `partial_share` of them with billing's part cut by
the 300 ms budget (production's), `failures` the rest.

Tidegate's billing guards are the production defaults and fleet-wide (16 calls in flight and 50 a
second, each replica holding its share): adding replicas must not add billing load. Each slice resets
the simulators' counters first and reads them after: per leg, billing's peak in flight against its
pool (`capacity`) and against the fleet's bulkhead, and its peak calls per second against the fleet's
budget. `--guards off` lifts the guards (bench/stack.py `cost_only_env`) to see the CPU's curve
instead. Each leg's backend calls per pop sent (`backend_calls`, every system, counted by the
simulators over its slices, `bench/backend_calls.py`) say whether the legs did the same work: when
they differ, `note` says so beside `rps` (the legs are compared side by side, never divided). Prints
JSON; `rps`, `p99_ms` and `backend_calls_per_pop` at the top are each leg's:

    python -m bench.scale_out --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import backend_calls
from bench.loadgen import LegResult, drive
from bench.router import Child, compose, start_redis, start_replicas, start_router, start_survey
from bench.stack import backend_env, bearer, cost_only_env, start_simulators, wait_http
from simulators.launch import stop
from simulators.world import build_world

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261126
BILLING_FLEET = {"max_concurrent": 16, "max_rps": 50.0}  # gateway/settings/backends.py defaults


def _screen_pop_id() -> str:
    manifest = json.loads((ROOT / "gql" / "manifest.json").read_text(encoding="utf-8"))
    return str(next(op["id"] for op in manifest["operations"] if op["name"] == "ScreenPop"))


class PopCheck:
    """An answered pop: HTTP 200 and `customerByPhone` set. One with field errors (billing's part cut
    by the 300 ms budget) is answered but partial, and counted as such."""

    def __init__(self) -> None:
        self.partial = 0

    def __call__(self, status: int, body: bytes) -> bool:
        if status != 200:
            return False
        doc = orjson.loads(body)
        if doc.get("data", {}).get("customerByPhone") is None:
            return False
        self.partial += bool(doc.get("errors"))
        return True


async def _billing(client: httpx.AsyncClient, url: str, reset: bool) -> dict[str, Any]:
    if reset:
        for _ in range(100):  # a call still in flight from the last slice finishes first
            if (await client.get(f"{url}/_sim/stats")).json()["in_flight"] == 0:
                break
            await asyncio.sleep(0.05)
        (await client.post(f"{url}/_sim/stats/reset")).raise_for_status()
        return {}
    found: dict[str, Any] = (await client.get(f"{url}/_sim/stats")).json()
    return found


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
    phones = [str(c.mobile) for c in world.customers if c.mobile]
    del world
    world_args = ["--seed", str(SEED), "--customers", str(args.customers)]
    world_args += ["--latency-scale", str(args.latency_scale)]
    legs = [int(n) for n in args.replicas.split(",")]
    scratch = Path(tempfile.mkdtemp(prefix="bench-scale-out-"))
    key_path = scratch / "issuer-key.pem"
    children: list[Child] = []
    sims: dict[str, Any] = {}
    try:
        sims = start_simulators(world_args)
        billing = f"http://127.0.0.1:{sims['billing'][0]}"
        children.append(survey := start_survey())
        env = backend_env(sims) | {"TIDEGATE_LOG_LEVEL": "WARNING", "TIDEGATE_LOCAL_ISSUER": "true"}
        env |= {"TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key_path)}
        if args.guards == "off":
            env |= cost_only_env(sims)
        if args.budget_ms is not None:
            env |= {"TIDEGATE_BUDGET_CRITICAL_MS": str(args.budget_ms)}

        def stack(n: int) -> Child:
            children.append(redis := start_redis())
            leg_env = env | {"TIDEGATE_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0"}
            children.append(bff := start_replicas(n, leg_env))
            supergraph = scratch / f"supergraph-{n}.graphql"
            compose(supergraph, f"{bff.url}/graphql", survey.url)
            children.append(router := start_router(supergraph))
            return router

        # One after another, from this thread: a child started from a worker thread would die with
        # that thread (PR_SET_PDEATHSIG follows the thread that forked it).
        routers = {n: stack(n) for n in legs}
        supervisor = bearer(key_path, "bench", "supervisor")
        doc_id = f"sha256:{_screen_pop_id()}"
        offset = dict.fromkeys(legs, 0)

        def body_for(n: int) -> Callable[[int], bytes]:
            def body(i: int) -> bytes:
                phone = phones[(offset[n] + i) % len(phones)]
                return orjson.dumps({"documentId": doc_id, "variables": {"phone": phone}})

            return body

        for n, router in routers.items():
            await wait_http(f"{router.url}/graphql", router.proc, body_for(n)(0), supervisor)
            offset[n] = 1
        results: dict[int, list[LegResult]] = {n: [] for n in legs}
        checks = {n: PopCheck() for n in legs}
        peaks: dict[int, dict[str, int]] = {n: {"in_flight": 0, "rps": 0, "calls": 0} for n in legs}
        calls: dict[int, Counter[str]] = {n: Counter() for n in legs}
        sim_urls = {name: f"http://127.0.0.1:{port}" for name, (port, _) in sims.items()}
        capacity = 0
        slices = max(1, round(args.seconds / args.slice_s))
        async with httpx.AsyncClient(timeout=30) as client:
            capacity = int((await client.get(f"{billing}/_sim/faults")).json()["pool_size"])
            for _ in range(slices):
                for n, router in routers.items():
                    await _billing(client, billing, reset=True)
                    before = await backend_calls.snapshot(client, sim_urls)
                    part = await drive(
                        f"{router.url}/graphql",
                        body_for(n),
                        checks[n],
                        concurrency=args.concurrency,
                        seconds=args.seconds / slices,
                        server_pid=router.proc.pid,
                        headers=supervisor,
                    )
                    results[n].append(part)
                    offset[n] += part.requests + 1
                    after = await backend_calls.snapshot(client, sim_urls)
                    calls[n].update(backend_calls.delta(after, before))
                    seen = await _billing(client, billing, reset=False)
                    peaks[n]["in_flight"] = max(peaks[n]["in_flight"], int(seen["peak_in_flight"]))
                    peaks[n]["rps"] = max(peaks[n]["rps"], int(seen["peak_rps"]))
                    peaks[n]["calls"] += int(seen["requests"])
    finally:
        stop([c.proc for c in reversed(children)])
        stop([proc for _, proc in sims.values()])
        shutil.rmtree(scratch, ignore_errors=True)
    out: dict[str, Any] = {}
    for n in legs:
        merged = _merge(results[n]).summary()
        merged["router_cpu_ms_per_request"] = merged.pop("cpu_ms_per_request")
        answered = merged["requests"] - merged["failures"]
        merged["partial_share"] = round(checks[n].partial / answered, 3) if answered else None
        merged["billing"] = {
            "peak_in_flight": peaks[n]["in_flight"],
            "capacity": capacity,
            "fleet_max_concurrent": BILLING_FLEET["max_concurrent"] if args.guards == "on" else None,
            "peak_rps": peaks[n]["rps"],
            "fleet_max_rps": BILLING_FLEET["max_rps"] if args.guards == "on" else None,
            "calls": peaks[n]["calls"],
            "within_capacity": peaks[n]["in_flight"] <= capacity,
        }
        merged["backend_calls"] = backend_calls.per_request(calls[n], merged["requests"])
        out[f"replicas_{n}"] = merged
    per_pop = {key: leg["backend_calls"]["per_request"] for key, leg in out.items()}
    return {
        "benchmark": "scale_out",
        "rps": {key: leg["rps"] for key, leg in out.items()},
        "p99_ms": {key: leg["p99_ms"] for key, leg in out.items()},
        "backend_calls_per_pop": per_pop,
        "note": backend_calls.different_work(per_pop, "pop"),
        **out,
        "config": {
            "seconds_per_leg": args.seconds,
            "slices": slices,
            "concurrency": args.concurrency,
            "customers": args.customers,
            "latency_scale": args.latency_scale,
            "guards": args.guards,
            "topology": "client -> Hive Gateway -> tidegate serve --workers N (one Redis per leg)",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per leg")
    parser.add_argument("--slice-s", type=float, default=1.0, help="legs alternate every this many seconds")
    parser.add_argument("--replicas", default="1,2,3", help="one leg per replica count")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--latency-scale", type=float, default=1.0)
    parser.add_argument("--guards", choices=("on", "off"), default="on", help="billing's fleet-wide guards")
    parser.add_argument(
        "--budget-ms",
        type=int,
        default=None,
        help="the screen pop's time budget (default: production's, 300 ms; the smoke test lifts it so "
        "that a busy test machine's slowness is not counted as a failed pop)",
    )
    result = asyncio.run(_run(parser.parse_args(argv)))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
