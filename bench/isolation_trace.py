"""What the isolation trace costs: building the network graph from the GIS, and one trace.

Starts a GIS simulator (default seed, realistic latency), builds the graph the way the BFF does
(`services.isolation.build_graph`: four layers read concurrently in pages over HTTP), then traces
mains round-robin for `--seconds` and prints JSON: the build's seconds and page count, the graph's
size, and the per-trace p50/p99 in milliseconds.

    python -m bench.isolation_trace --seconds 5 --customers 20000
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import subprocess
import sys
import time
from typing import Any

from backends.gis.client import GisClient
from domain.network import PAGE_MAX
from infra.http.config import BackendConfig
from services.isolation import build_graph
from simulators.launch import free_port, spawn_simulator, stop, wait_healthy


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def run(url: str, seconds: float) -> dict[str, Any]:
    client = GisClient(BackendConfig("gis", url, timeout_s=60.0))
    try:
        started = time.perf_counter()
        graph = await build_graph(client)
        build_s = time.perf_counter() - started
    finally:
        await client.aclose()
    connections = sum(len(v) for v in graph.taps.values())
    timings: list[float] = []
    cut_off = enlarged = 0
    deadline = time.perf_counter() + seconds
    for main_id in itertools.cycle(sorted(graph.mains)):
        t0 = time.perf_counter()
        trace = graph.trace(main_id)
        timings.append((time.perf_counter() - t0) * 1000)
        cut_off += bool(trace.cut_off_main_ids)
        enlarged += trace.enlarged
        if time.perf_counter() >= deadline and len(timings) >= len(graph.mains):
            break
    return {
        "build_s": round(build_s, 3),
        "pages": sum(-(-n // PAGE_MAX) for n in (len(graph.mains), len(graph.valves), connections)) + 1,
        "mains": len(graph.mains),
        "valves": len(graph.valves),
        "connections": connections,
        "segments": len(graph.segment_mains),
        "traces": len(timings),
        "trace_p50_ms": round(_percentile(timings, 0.50), 3),
        "trace_p99_ms": round(_percentile(timings, 0.99), 3),
        "share_enlarged": round(enlarged / len(timings), 3),
        "share_with_downstream_loss": round(cut_off / len(timings), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to keep tracing")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--latency-scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    port = free_port()
    proc = spawn_simulator(
        "gis",
        port,
        ["--customers", str(args.customers), "--latency-scale", str(args.latency_scale)],
        output=subprocess.DEVNULL,
    )
    try:
        if not wait_healthy(f"http://127.0.0.1:{port}", proc, 120):
            print("gis simulator did not start", file=sys.stderr)
            return 1
        result = asyncio.run(run(f"http://127.0.0.1:{port}", args.seconds))
    finally:
        stop([proc])
    print(json.dumps({"customers": args.customers, **result}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
