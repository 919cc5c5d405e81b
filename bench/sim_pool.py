"""How the billing simulator's connection pool collapses under load: the problem Tidegate must prevent.

Drives `GetAccounts` (a batch of 10 户号) at rising fixed concurrency against a billing simulator
with realistic latency and its default pool of 20, and prints JSON. The baseline is concurrency 1
measured in the same run, so every figure also appears as a ratio to it.

    python -m bench.sim_pool --seconds 10 --levels 1,10,20,40,60,80
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

from simulators.launch import free_port, spawn_simulator, stop, wait_healthy
from simulators.world import build_world

NS = "urn:yingshou:revenue:v1"
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
    f' xmlns:ys="{NS}"><soap:Body><ys:GetAccounts><ys:HHLB>{{items}}</ys:HHLB></ys:GetAccounts></soap:Body>'
    "</soap:Envelope>"
)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _leg(client: httpx.AsyncClient, body: bytes, concurrency: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal failures
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            resp = await client.post(
                "/ws/RevenueService", content=body, headers={"Content-Type": "text/xml; charset=utf-8"}
            )
            if resp.status_code == 200:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                failures += 1

    await client.post("/_sim/stats/reset")
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    stats = (await client.get("/_sim/stats")).json()
    total = len(latencies) + failures
    return {
        "concurrency": concurrency,
        "requests": total,
        "ok_rps": round(len(latencies) / elapsed, 2),
        "failure_rate": round(failures / total, 4) if total else 0.0,
        "p50_ms": round(_percentile(latencies, 0.5), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0,
        "sim_peak_concurrency": stats["peak_concurrency"],
        "sim_errors_by_kind": stats["errors_by_kind"],
    }


async def run(url: str, levels: list[int], seconds: float, accounts: list[str]) -> dict[str, Any]:
    body = ENVELOPE.format(items="".join(f"<ys:HH>{a}</ys:HH>" for a in accounts)).encode()
    limits = httpx.Limits(max_connections=max(levels) + 5, max_keepalive_connections=max(levels) + 5)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        baseline = await _leg(client, body, 1, seconds)
        legs = [await _leg(client, body, n, seconds) for n in levels if n != 1]
    for leg in legs:
        leg["p50_ratio"] = round(leg["p50_ms"] / baseline["p50_ms"], 2) if baseline["p50_ms"] else None
        leg["ok_rps_ratio"] = round(leg["ok_rps"] / baseline["ok_rps"], 2) if baseline["ok_rps"] else None
    return {
        "benchmark": "sim_pool",
        "operation": "GetAccounts x10",
        "seconds_per_leg": seconds,
        "baseline": baseline,
        "legs": legs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each leg")
    parser.add_argument("--levels", default="1,10,20,40,60,80", help="comma-separated concurrency levels")
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--pool-size", type=int, default=20)
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    world = build_world(1, args.customers)
    accounts = [a.account_no for a in world.accounts[:10]]
    port = free_port()
    proc = spawn_simulator(
        "billing",
        port,
        ["--seed", "1", "--customers", str(args.customers), "--pool-size", str(args.pool_size)],
        output=subprocess.DEVNULL,
    )
    try:
        if not wait_healthy(f"http://127.0.0.1:{port}", proc, 60):
            print("billing simulator did not start", file=sys.stderr)
            return 1
        result = asyncio.run(run(f"http://127.0.0.1:{port}", levels, args.seconds, accounts))
    finally:
        stop([proc])
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
