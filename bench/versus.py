"""This tree's Tidegate against another commit's, on the screen pop: what a change saved, measured.

    python -m bench.versus --baseline 2950e32 --seconds 60

`bench.screen_pop` compares Tidegate with the floor, and its `ratio_cpu` moves ±0.03 between runs on
this 2-core machine: the CPU per pop of both legs follows the machine's load from one run to the
next (2.4 to 3.3 ms for the same code in one afternoon). A change worth 2% cannot be seen by
running that bench before and after it. Here the before is a leg of the same run: the `--baseline`
commit is checked out into a temporary git worktree and served from there (same installed packages,
same settings as `bench.screen_pop`'s Tidegate leg: cache off, limits out of the way), beside this
tree's `tidegate serve`, against the same four simulators, legs interleaved in rounds, the leg going
first alternating.

Equal work, checked as `bench.screen_pop` checks it: the first `--check` callers' answers must be
byte-identical on both legs (`asOf` aside) and both legs' backend calls per pop, counted at the
simulators, equal; otherwise no ratio is printed and `ratio_withheld` says why. Prints both legs'
figures (`candidate`: this tree; `baseline`: `baseline_ref`'s) and `ratio_cpu`: the baseline's CPU
per pop / the candidate's (above 1: this tree is cheaper), with the rounds' paired ratios' median
and quartiles. A leg whose server exits before answering (a baseline that needs packages this
tree's lock does not install) ends the run with exit status 1 and that server's last lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from bench import screen_pop
from bench.stack import bearer, server, start_simulators, wait_http
from simulators.launch import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
LEGS = ("candidate", "baseline")


class LegDidNotStart(Exception):
    """A leg's `tidegate serve` exited before answering: a baseline whose code needs packages this
    tree's lock does not install, say. The message ends with the last lines it wrote."""


@contextmanager
def checked_out(ref: str) -> Iterator[Path]:
    """`ref` of this repository in a temporary worktree (detached), removed afterwards."""
    where = Path(tempfile.mkdtemp(prefix="bench-baseline-")) / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(where), ref],
        check=True,
        capture_output=True,
    )
    try:
        yield where
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)], capture_output=True
        )
        shutil.rmtree(where.parent, ignore_errors=True)


@asynccontextmanager
async def two_trees(
    baseline: Path, customers: int, first_phone: str
) -> AsyncIterator[tuple[dict[str, screen_pop.Leg], dict[str, str]]]:
    """The simulators, and `tidegate serve` from this tree and from `baseline`, up and answering."""
    sims: dict[str, Any] = {}
    servers: list[subprocess.Popen[bytes]] = []
    scratch = Path(tempfile.mkdtemp(prefix="bench-versus-"))
    world_args = ["--seed", str(screen_pop.SEED), "--customers", str(customers), "--latency-scale", "0"]
    try:
        sims = start_simulators(world_args, {"billing": ["--pool-size", "1000"]})
        sim_urls = {name: f"http://127.0.0.1:{port}" for name, (port, _) in sims.items()}
        env, key_path = screen_pop.bff_env(sims, "off", scratch)
        auth = bearer(key_path)
        legs: dict[str, screen_pop.Leg] = {}
        for name, tree in (("candidate", None), ("baseline", baseline)):
            port = free_port()
            log = scratch / f"{name}.log"
            proc = server(["gateway.cli", "serve"], port, env, tree=tree, log=log)
            servers.append(proc)
            legs[name] = screen_pop.tidegate_leg(port, proc.pid, auth)
            try:
                await wait_http(legs[name].url, proc, legs[name].body(first_phone), legs[name].headers)
            except RuntimeError as exc:  # it exited: say why, in its own words
                said = log.read_text(errors="replace").strip().splitlines()[-5:]
                raise LegDidNotStart(
                    f"the {name} leg's server did not start ({exc}): " + " | ".join(said)
                ) from exc
        yield legs, sim_urls
    finally:
        stop([*servers, *(proc for _, proc in sims.values())])
        shutil.rmtree(scratch, ignore_errors=True)


async def _run(args: argparse.Namespace, baseline: Path) -> dict[str, Any]:
    phones = screen_pop._phones(args.customers)
    async with two_trees(baseline, args.customers, phones[0]) as (legs, sim_urls):
        tallies, answers, rounds = await screen_pop.measure(args, legs, phones, sim_urls)
    summaries = {name: tally.summary() for name, tally in tallies.items()}
    cpu_rounds = list(
        zip(tallies["candidate"].cpu_ms_per_round, tallies["baseline"].cpu_ms_per_round, strict=True)
    )
    # `screen_pop.ratios` reads its legs as (tidegate, floor): here (candidate, baseline)
    ratios = screen_pop.ratios(
        {"tidegate": summaries["candidate"], "floor": summaries["baseline"]}, answers, cpu_rounds
    )
    return {
        "benchmark": "versus",
        "baseline_ref": args.baseline,
        "concurrency": args.concurrency,
        "seconds_per_leg": args.seconds,
        "rounds": rounds,
        "customers": args.customers,
        "answers": answers,
        **summaries,
        **ratios,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", default="HEAD", help="the commit to compare with (a git ref)")
    parser.add_argument("--seconds", type=float, default=40.0, help="measured time per leg, about")
    parser.add_argument("--slice-s", type=float, default=2.0, help="each leg's share of a round, about")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--check", type=int, default=50, help="callers whose answers are compared first")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.slice_s <= 0 or args.concurrency < 1 or args.check < 0:
        parser.error("--seconds and --slice-s must be positive, --concurrency at least 1, --check >= 0")
    try:
        with checked_out(args.baseline) as baseline:
            result = asyncio.run(_run(args, baseline))
    except subprocess.CalledProcessError as exc:
        parser.error(f"cannot check out {args.baseline!r}: {exc.stderr.decode(errors='replace').strip()}")
    except LegDidNotStart as exc:
        print(f"bench.versus: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
