"""Ring-to-rendered at the glass: from "ring me" in the workbench to its last screen-pop card painted.

`python -m bench.workbench --rings 20` stands up the four simulators (`--latency-scale`, default 1:
billing's lognormal ~200 ms) and two BFFs, one with the ring-time prefetch and one without
(`TIDEGATE_SCREEN_POP_PREFETCH=false`: the pushed pop is looked up when it reaches the subscriber,
as an answered call's query would be), opens the workbench of each in one headless chromium, and
rings them in turn (interleaved, so drift hits both legs alike), each ring a different caller so no
ring is served from another's cache entries. The page measures with `performance.now()`: from the
click to the frame after the pop's cards render (`pop`), and to the frame after the last account's
bills and meter (`detail`, a second query). Prints JSON: p50/p99 per leg, and each leg's backend
calls per ring (`backend_calls`: ring, pop, details, answer and hang-up, counted by the simulators
between its rings' start and end, `bench/backend_calls.py`); when those differ the legs did different
work, and `note` says so beside the latencies (no ratio between the legs is printed).

`--screenshot PATH` instead takes one call to mid-call (answered, the new-ticket form open on the
mains map) and saves the page at 1366×768 (`make workbench-screenshots`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench import backend_calls
from bench.loadgen import percentile
from bench.stack import backend_env, server, start_simulators
from gateway.demo_secrets import DEMO_CTI_SECRET
from simulators.launch import free_port, stop

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LEGS = ("prefetch", "no_prefetch")


def spawn_bff(sims_env: dict[str, str], scratch: Path, prefetch: bool) -> tuple[str, subprocess.Popen[bytes]]:
    """`tidegate serve` with the demo's issuer and CTI secret, persisted-only, prefetch on or off."""
    port = free_port()
    env = {
        **sims_env,
        "TIDEGATE_LOCAL_ISSUER": "true",
        "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(scratch / f"key-{port}.pem"),
        "TIDEGATE_AUDIT_PATH": str(scratch / f"audit-{port}.jsonl"),
        "TIDEGATE_CTI_SECRETS": DEMO_CTI_SECRET,
        "TIDEGATE_PERSISTED_ONLY": "true",
        "TIDEGATE_SCREEN_POP_PREFETCH": "true" if prefetch else "false",
    }
    return f"http://127.0.0.1:{port}", server(["gateway.cli", "serve"], port, env)


def wait_bff(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"the BFF exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the BFF never answered")


def signed_in_page(context: Any, url: str, agent: str) -> Any:
    page = context.new_page()
    page.goto(f"{url}/workbench")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Agent", exact=True).select_option(agent)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Ring me").wait_for()
    return page


def one_ring(page: Any, customer_no: int) -> dict[str, float] | None:
    """Ring, wait for the pop and its details, then answer and hang up (back to idle). None: this
    customer has no phone to ring from."""
    page.bring_to_front()  # a background tab gets no animation frames: the measurement would wait
    before = page.evaluate("() => window.__workbench.timings.length")
    if not page.evaluate("(no) => window.__workbench.ring(no)", str(customer_no)):
        return None
    page.wait_for_function(
        "(n) => window.__workbench.timings.length > n && window.__workbench.timings[n].detailMs != null",
        arg=before,
        timeout=30_000,
    )
    timing: dict[str, float] = page.evaluate("(n) => window.__workbench.timings[n]", before)
    page.get_by_role("button", name="Answer").click()
    page.wait_for_selector("[data-phase=oncall]")
    page.get_by_role("button", name="Hang up").click()
    page.get_by_test_id("cleared").wait_for()
    return timing


def summary(samples: Sequence[dict[str, float]]) -> dict[str, Any]:
    pops = sorted(s["popMs"] for s in samples)
    details = sorted(s["detailMs"] for s in samples)
    return {
        "rings": len(samples),
        "pop_p50_ms": round(percentile(pops, 0.5), 1),
        "pop_p99_ms": round(percentile(pops, 0.99), 1),
        "detail_p50_ms": round(percentile(details, 0.5), 1),
        "detail_p99_ms": round(percentile(details, 0.99), 1),
        "prefetched": sum(1 for s in samples if s.get("prefetched")),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    scratch = Path(tempfile.mkdtemp(prefix="bench-workbench-"))
    world = ["--seed", "4242", "--customers", str(args.customers), "--latency-scale", str(args.latency_scale)]
    children: list[subprocess.Popen[bytes]] = []
    try:
        sims = start_simulators(world)
        children += [proc for _, proc in sims.values()]
        env = backend_env(sims)
        bffs = {
            leg: spawn_bff(env, scratch, prefetch=leg == "prefetch")
            for leg in (LEGS if args.screenshot is None else LEGS[:1])
        }
        children += [proc for _, proc in bffs.values()]
        for url, proc in bffs.values():  # started together, awaited in turn
            wait_bff(url, proc)
        urls = {leg: url for leg, (url, _) in bffs.items()}
        with sync_playwright() as pw, ExitStack() as closing:
            context = pw.chromium.launch_persistent_context(
                str(scratch / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1366, "height": 768},
            )
            closing.callback(context.close)
            if args.screenshot is not None:
                return screenshot(context, urls["prefetch"], Path(args.screenshot))
            pages = {leg: signed_in_page(context, url, "A1001") for leg, url in urls.items()}
            samples: dict[str, list[dict[str, float]]] = {leg: [] for leg in LEGS}
            calls: dict[str, Counter[str]] = {leg: Counter() for leg in LEGS}
            sim_urls = {name: f"http://127.0.0.1:{port}" for name, (port, _) in sims.items()}
            customer = 2
            with httpx.Client(timeout=10) as admin:
                for _ in range(args.rings):
                    for leg in LEGS:  # interleaved
                        before = backend_calls.snapshot_sync(admin, sim_urls)
                        while (timing := one_ring(pages[leg], customer)) is None:
                            customer += 1
                        after = backend_calls.snapshot_sync(admin, sim_urls)
                        calls[leg].update(backend_calls.delta(after, before))
                        samples[leg].append(timing)
                        customer += 1
        legs = {
            leg: summary(samples[leg])
            | {"backend_calls": backend_calls.per_request(calls[leg], len(samples[leg]))}
            for leg in LEGS
        }
        per_leg = {leg: legs[leg]["backend_calls"]["per_request"] for leg in LEGS}
        return {
            "benchmark": "workbench",
            "latency_scale": args.latency_scale,
            "customers": args.customers,
            **legs,
            "note": backend_calls.different_work(per_leg, "ring"),
        }
    finally:
        stop(children)
        shutil.rmtree(scratch, ignore_errors=True)


def screenshot(context: Any, url: str, path: Path) -> dict[str, Any]:
    """The workbench mid-call: answered, the pop's cards, the new-ticket form on the mains map."""
    page = signed_in_page(context, url, "A1001")
    page.get_by_label("Customer", exact=True).select_option("2")
    page.get_by_role("button", name="Ring me").click()
    page.get_by_test_id("pop").wait_for()
    page.wait_for_function("() => window.__workbench.timings.some((t) => t.detailMs !== undefined)")
    page.get_by_role("button", name="Answer").click()
    page.wait_for_selector("[data-phase=oncall]")
    page.keyboard.press("Alt+N")
    page.get_by_test_id("ticket-form").get_by_label("Description").fill("表井漏水 / water from the meter box")
    page.get_by_test_id("mains-map").click(position={"x": 130, "y": 110})
    page.get_by_role("button", name="中文").click()  # the contact centre's language for the picture
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return {"benchmark": "workbench", "screenshot": str(path)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rings", type=int, default=20, help="rings per leg (default 20)")
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--latency-scale", type=float, default=1.0)
    parser.add_argument("--screenshot", default=None, help="save a mid-call screenshot here instead")
    args = parser.parse_args(argv)
    print(json.dumps(run(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
