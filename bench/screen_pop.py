"""Screen-pop throughput and CPU: Tidegate against the hand-written floor, in the same run.

Starts the four simulators (billing's pool widened so the back office is not what is measured),
Tidegate (`tidegate serve`) and the floor (`bench/floor_server.py`), each its own process, then
drives `gql/screen_pop.graphql` at fixed concurrency against each for `--seconds`, and prints JSON:

    python -m bench.screen_pop --seconds 20 --concurrency 16 --latency-scale 1
    python -m bench.screen_pop --seconds 20 --concurrency 16 --latency-scale 0

`ratio_rps` = Tidegate's requests per second / the floor's; `ratio_cpu` = the floor's CPU per
request / Tidegate's, each read from that server process alone (/proc), since the simulators share
the machine's cores. 1.0 would mean the GraphQL layer is free.

`--ring-to-pop` measures the ring-time screen pop instead (`bench/ring_to_pop.py`): from the CTI's
CALL_RINGING to the pop on the agent's `screenPop` subscription, and the answered-call query, with
and without the prefetch, `--concurrency` agents calling at once, billing at its realistic pool:

    python -m bench.screen_pop --ring-to-pop --seconds 20 --concurrency 8 --latency-scale 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from bench import ring_to_pop
from bench.loadgen import drive
from bench.stack import backend_env, bearer, cost_only_env, server, start_simulators, wait_http
from simulators.launch import free_port, stop
from simulators.world import build_world

ROOT = Path(__file__).resolve().parents[1]
SCREEN_POP = (ROOT / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")
SEED = 20261126


def _phones(customers: int, count: int = 500) -> list[str]:
    world = build_world(SEED, customers)
    return [c.mobile for c in world.customers if c.mobile][:count]


def _graphql_ok(status: int, body: bytes) -> bool:
    if status != 200:
        return False
    doc = orjson.loads(body)
    return not doc.get("errors") and bool(doc.get("data", {}).get("customerByPhone"))


def _floor_ok(status: int, body: bytes) -> bool:
    return status == 200 and bool(orjson.loads(body)["data"]["customerByPhone"])


async def _run(args: argparse.Namespace, phones: list[str]) -> dict[str, Any]:
    sims: dict[str, Any] = {}
    servers: list[subprocess.Popen[bytes]] = []
    world_args = [
        "--seed",
        str(SEED),
        "--customers",
        str(args.customers),
        "--latency-scale",
        str(args.latency_scale),
    ]
    scratch = tempfile.mkdtemp(prefix="bench-issuer-")
    try:
        sims = start_simulators(world_args, {"billing": ["--pool-size", "1000"]})
        env = backend_env(sims)
        env |= cost_only_env(sims) | {"TIDEGATE_LOG_LEVEL": "WARNING"}  # like the floor: no limits
        # The BFF checks tokens from its local issuer; we make the key file, so the token is ready.
        key_path = Path(scratch) / "issuer-key.pem"
        env |= {"TIDEGATE_LOCAL_ISSUER": "true", "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key_path)}
        auth = bearer(key_path)
        bff_port, floor_port = free_port(), free_port()
        bff = server(["gateway.cli", "serve"], bff_port, env)
        floor = server(["bench.floor_server"], floor_port, env)
        servers = [bff, floor]

        def gql_body(i: int) -> bytes:
            return orjson.dumps({"query": SCREEN_POP, "variables": {"phone": phones[i % len(phones)]}})

        def floor_body(i: int) -> bytes:
            return orjson.dumps({"phone": phones[i % len(phones)]})

        bff_url, floor_url = (
            f"http://127.0.0.1:{bff_port}/graphql",
            f"http://127.0.0.1:{floor_port}/screen-pop",
        )
        await wait_http(bff_url, bff, gql_body(0), auth)
        await wait_http(floor_url, floor, floor_body(0))
        warm = min(1.0, args.seconds)
        await drive(
            bff_url,
            gql_body,
            _graphql_ok,
            concurrency=args.concurrency,
            seconds=warm,
            server_pid=bff.pid,
            headers=auth,
        )
        await drive(
            floor_url, floor_body, _floor_ok, concurrency=args.concurrency, seconds=warm, server_pid=floor.pid
        )
        tidegate = (
            await drive(
                bff_url,
                gql_body,
                _graphql_ok,
                concurrency=args.concurrency,
                seconds=args.seconds,
                server_pid=bff.pid,
                headers=auth,
            )
        ).summary()
        baseline = (
            await drive(
                floor_url,
                floor_body,
                _floor_ok,
                concurrency=args.concurrency,
                seconds=args.seconds,
                server_pid=floor.pid,
            )
        ).summary()
    finally:
        stop(servers)
        stop([proc for _, proc in sims.values()])
        shutil.rmtree(scratch, ignore_errors=True)
    ratio_rps = round(tidegate["rps"] / baseline["rps"], 3) if baseline["rps"] else None
    cpu_t, cpu_f = tidegate["cpu_ms_per_request"], baseline["cpu_ms_per_request"]
    return {
        "benchmark": "screen_pop",
        "concurrency": args.concurrency,
        "seconds_per_leg": args.seconds,
        "latency_scale": args.latency_scale,
        "customers": args.customers,
        "tidegate": tidegate,
        "floor": baseline,
        "ratio_rps": ratio_rps,
        "ratio_cpu": round(cpu_f / cpu_t, 3) if cpu_t and cpu_f else None,
    }


async def _ring(args: argparse.Namespace, phones: list[str]) -> dict[str, Any]:
    """Both legs of `bench/ring_to_pop.py` on the same simulators, each on a fresh Tidegate process."""
    world_args = ["--seed", str(SEED), "--customers", str(args.customers)]
    world_args += ["--latency-scale", str(args.latency_scale)]
    scratch = tempfile.mkdtemp(prefix="bench-issuer-")
    sims: dict[str, Any] = {}
    try:
        sims = start_simulators(world_args)  # billing's own pool: its latency is what is measured
        key_path = Path(scratch) / "issuer-key.pem"
        env = backend_env(sims) | {
            "TIDEGATE_LOG_LEVEL": "WARNING",
            "TIDEGATE_LOCAL_ISSUER": "true",
            "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(key_path),
            "TIDEGATE_CTI_SECRETS": ring_to_pop.CTI_SECRET,
            "TIDEGATE_AUDIT_PATH": str(Path(scratch) / "audit.jsonl"),
            "TIDEGATE_PERSISTED_ONLY": "false",  # its agents send the pop's text, as before issue 15
        }
        bearer(key_path)  # makes the key file the servers will verify with

        def mint(agent: str) -> str:
            from gateway.auth import local_issuer
            from gateway.settings import Settings

            issuer = local_issuer(Settings(local_issuer=True, local_issuer_key_path=key_path))
            return issuer.mint(client_id=f"bench-{agent}", role="agent", agent_id=agent)

        legs = {}
        for name, prefetch in (("prefetch", True), ("no_prefetch", False)):
            legs[name] = await ring_to_pop.run_leg(
                env, mint, phones, prefetch=prefetch, agents=args.concurrency, seconds=args.seconds
            )
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
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each measured leg")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-scale", type=float, default=1.0, help="simulator latency (0 = instant)")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument(
        "--ring-to-pop", action="store_true", help="measure the ring-time screen pop (bench/ring_to_pop.py)"
    )
    args = parser.parse_args(argv)
    if args.ring_to_pop:
        result = asyncio.run(_ring(args, _phones(args.customers, count=20_000)))
    else:
        result = asyncio.run(_run(args, _phones(args.customers)))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
