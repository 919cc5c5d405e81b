"""Python function calls per screen pop, Tidegate against the floor: counted, not timed.

    python -m bench.call_counts --pops 2000

`bench.screen_pop`'s CPU figures move a few percent between runs on a shared machine, as much as a
change to the pop's path saves. A call count does not: the same pops through the same code make the
same calls. Both servers run under `bench.profiled` (cProfile, started and stopped by signal after
start-up and a warm-up), are sent the same `--pops` callers, and the counts are divided by the pops
answered. Prints per leg `python_calls_per_pop` (calls of Python functions, each counted once per
call however often a coroutine resumes), `builtin_calls_per_pop` (C functions and methods),
`by_package` (the Python calls of the 12 packages with most), and `ratio_python_calls` (the floor's
Python calls per pop / Tidegate's, as `ratio_cpu` reads) with `backend_calls_per_pop` per leg: a
ratio between legs that made different backend calls is withheld. Profiling slows every Python call
several times, so nothing here is a time; the CPU figures stay `bench.screen_pop`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import re
import shutil
import signal
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench import backend_calls
from bench.loadgen import send_all
from bench.screen_pop import LEGS, Leg, _phones, standing_legs

ROOT = Path(__file__).resolve().parents[1]
_INSTALLED = re.compile(r"site-packages/([^/]+)")
_STDLIB = re.compile(r"/python3\.\d+/([^/]+)")


def _package(filename: str) -> str:
    """An installed package, a standard-library module, or this repository's top-level folder."""
    for pattern in (_INSTALLED, _STDLIB):
        if found := pattern.search(filename):
            return found.group(1).removesuffix(".py")
    try:
        return Path(filename).resolve().relative_to(ROOT).parts[0]
    except ValueError:
        return filename  # `<frozen ...>`, `<string>`


def counts(stats_path: Path, pops: int) -> dict[str, Any]:
    """One leg's calls per pop from its `pstats` file."""
    stats: dict[Any, Any] = pstats.Stats(str(stats_path)).stats  # type: ignore[attr-defined]
    python = builtin = 0
    by_package: Counter[str] = Counter()
    for (filename, _line, _name), (primitive, _total, _own, _cumulative, _callers) in stats.items():
        if filename == "~":
            builtin += primitive
        else:
            python += primitive
            by_package[_package(filename)] += primitive
    return {
        "python_calls_per_pop": round(python / pops, 1),
        "builtin_calls_per_pop": round(builtin / pops, 1),
        "by_package": {name: round(n / pops, 1) for name, n in by_package.most_common(12)},
    }


async def _count(leg: Leg, session: aiohttp.ClientSession, phones: list[str], concurrency: int) -> int:
    batch = await send_all(
        session,
        leg.url,
        [leg.body(phone) for phone in phones],
        leg.is_ok,
        concurrency=concurrency,
        server_pid=leg.pid,
        headers=leg.headers,
    )
    if batch.failures:
        raise RuntimeError(f"{batch.failures} pops failed at {leg.url}")
    return batch.answered


async def _legs(
    args: argparse.Namespace,
    phones: list[str],
    callers: list[str],
    out: Path,
    wrap: Callable[[str], list[str]],
    result: dict[str, Any],
) -> None:
    async with (
        standing_legs(args.customers, 0.0, "off", phones[0], wrap) as (legs, sim_urls),
        aiohttp.ClientSession() as session,
        httpx.AsyncClient(timeout=30) as admin,
    ):
        for name in LEGS:
            leg = legs[name]
            await _count(leg, session, phones[: args.warmup], args.concurrency)  # warm, uncounted
            before = await backend_calls.snapshot(admin, sim_urls)
            os.kill(leg.pid, signal.SIGUSR1)  # `bench.profiled`: start counting
            answered = await _count(leg, session, callers, args.concurrency)
            os.kill(leg.pid, signal.SIGUSR2)  # stop, and write the statistics
            calls = backend_calls.delta(await backend_calls.snapshot(admin, sim_urls), before)
            stats_path = out / f"{name}.pstats"
            await _written(stats_path)
            result[name] = {
                "answered": answered,
                "backend_calls_per_pop": round(sum(calls.values()) / answered, 2),
                **counts(stats_path, answered),
            }


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    phones = _phones(args.customers)
    callers = [phones[i % len(phones)] for i in range(args.pops)]
    out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-calls-"))
    out.mkdir(parents=True, exist_ok=True)

    def wrap(leg: str) -> list[str]:
        return ["bench.profiled", str(out / f"{leg}.pstats"), "-m"]

    result: dict[str, Any] = {"benchmark": "call_counts", "pops": args.pops, "concurrency": args.concurrency}
    try:
        await _legs(args, phones, callers, out, wrap, result)
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    t, f = result["tidegate"], result["floor"]
    per_pop = {name: result[name]["backend_calls_per_pop"] for name in LEGS}
    withheld = backend_calls.different_work(per_pop, "pop")
    result["ratio_python_calls"] = (
        None if withheld else round(f["python_calls_per_pop"] / t["python_calls_per_pop"], 3)
    )
    if withheld:
        result["ratio_withheld"] = withheld
    return result


async def _written(path: Path, timeout_s: float = 30.0) -> None:
    """The profiled server writes its statistics when signalled (whole: `bench.profiled` renames
    them into place); wait for them."""
    for _ in range(int(timeout_s / 0.1)):
        if await asyncio.to_thread(path.exists):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"no statistics at {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pops", type=int, default=2000, help="counted pops per leg")
    parser.add_argument("--warmup", type=int, default=200, help="uncounted pops first, per leg")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument(
        "--keep", metavar="DIR", help="keep each leg's cProfile statistics as DIR/<leg>.pstats"
    )
    args = parser.parse_args(argv)
    if args.pops < 1 or args.warmup < 1 or args.concurrency < 1:
        parser.error("--pops, --warmup and --concurrency must be at least 1")
    print(json.dumps(asyncio.run(_run(args)), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
