"""Hive Gateway in front of N Tidegate replicas and the survey subgraph: the processes and `make router`.

The topology (docs/router.md):

    client ──HTTP / SSE / graphql-ws──▶ Hive Gateway :4000 ──▶ tidegate serve --workers N :8000 (one URL)
                                                          └──▶ survey subgraph (Node)

The N replicas are `tidegate serve --workers N` on one port: N processes, the kernel spreading the
router's connections over them, each a replica of the fleet on one Redis. The supergraph is composed
offline (`deploy/router/compose.mjs`) from the committed `schema/schema.graphql` and the survey
subgraph's SDL. Shared by `bench/scale_out.py`, `tests/router/` and `python -m bench.router` (`make
router`: simulators, Redis, replicas, survey subgraph, router, until Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from gateway.demo_secrets import DEMO_CTI_SECRET
from simulators.kit.options import DEFAULT_PORTS
from simulators.launch import die_with_parent, free_port, spawn_simulator, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
ROUTER_DIR = ROOT / "deploy" / "router"
SURVEY_DIR = ROOT / "tests" / "federation"
SERVICES = ("billing", "crm", "gis", "workorders")


@dataclass
class Child:
    """A child process on 127.0.0.1:`port`, its output in `log_path`."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        stop([self.proc])


def _spawn(
    name: str, cmd: list[str], cwd: Path, env: Mapping[str, str] | None = None, port: int = 0
) -> Child:
    log_path = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            preexec_fn=die_with_parent,
        )
    return Child(name, port, proc, log_path)


def _wait(child: Child, ready: str, timeout_s: float = 60) -> Child:
    """Wait until `{ __typename }` POSTed to `child.url + ready` answers Query; stop it and raise if never."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and child.proc.poll() is None:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            body = httpx.post(f"{child.url}{ready}", json={"query": "{ __typename }"}, timeout=2).json()
            if body.get("data") == {"__typename": "Query"}:
                return child
        time.sleep(0.1)
    child.stop()
    raise RuntimeError(f"{child.name} did not start (exit {child.proc.returncode}):\n{child.log()}")


def node() -> str:
    """The node binary, once both Node folders are installed (`make router-gateway federation-gateway`)."""
    found = shutil.which("node")
    for folder, package in ((ROUTER_DIR, "@graphql-hive/gateway"), (SURVEY_DIR, "@apollo/server")):
        if found is None or not (folder / "node_modules" / package).is_dir():
            raise RuntimeError(
                f"the router needs Node and `npm ci --prefix {folder.relative_to(ROOT)}` "
                "(`make router-gateway federation-gateway`; `make test` runs both)"
            )
    assert found is not None
    return found


def start_survey() -> Child:
    """The federation test's survey subgraph (`Customer.satisfaction`, `recentSurveys`), at `/`."""
    port = free_port()
    return _wait(_spawn("survey", [node(), "survey-subgraph.mjs", str(port)], SURVEY_DIR, port=port), "/")


def compose(out: Path, tidegate_url: str, survey_url: str) -> None:
    """Write the supergraph: Tidegate's committed SDL routed to `tidegate_url`, plus the survey's."""
    done = subprocess.run(
        [node(), "compose.mjs", str(out), tidegate_url, survey_url],
        cwd=ROUTER_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"composition failed:\n{done.stderr}")


def start_router(supergraph: Path, port: int = 0, env: Mapping[str, str] | None = None) -> Child:
    """Hive Gateway on 127.0.0.1 serving `supergraph` (its GraphQL at /graphql)."""
    port = port or free_port()
    binary = ROUTER_DIR / "node_modules" / ".bin" / "hive-gateway"
    cmd = [node(), str(binary), "supergraph", str(supergraph), "-c", "gateway.config.mjs"]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    return _wait(_spawn("router", cmd, ROUTER_DIR, env, port=port), "/graphql")


def start_redis() -> Child:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("more than one replica needs redis-server (`make redis-server`)")
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    child = _spawn("redis", [binary, *args], ROOT, port=port)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return child
        time.sleep(0.05)
    child.stop()
    raise RuntimeError("redis-server did not start")


def start_replicas(workers: int, env: Mapping[str, str], port: int = 0) -> Child:
    """`tidegate serve --workers N` on one port; `env` carries the simulators' URLs, Redis and the rest."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), "--workers", str(workers)]
    child = _spawn("tidegate", cmd, ROOT, env, port=port)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and child.proc.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{child.url}/healthz", timeout=1.0).status_code == 200:
                return child
        time.sleep(0.1)
    child.stop()
    raise RuntimeError(f"tidegate serve --workers {workers} did not start:\n{child.log()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.router", description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=4000, help="the router's port")
    parser.add_argument("--bff-port", type=int, default=8000, help="the replicas' one port")
    parser.add_argument("--customers", type=int, default=2000)
    args = parser.parse_args(argv)
    stopping = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children: list[Child] = []
    scratch = Path(tempfile.mkdtemp(prefix="tidegate-router-"))
    try:
        world = ["--seed", "4242", "--customers", str(args.customers), "--latency-scale", "1"]
        for name in SERVICES:  # on the demo's ports, as the docs' examples expect
            port = DEFAULT_PORTS[name]
            children.append(
                Child(
                    name,
                    port,
                    spawn_simulator(name, port, world, output=subprocess.DEVNULL),
                    scratch / "sim.log",
                )
            )
        for sim in children:
            if not wait_healthy(sim.url, sim.proc, 120):
                raise RuntimeError(f"{sim.name} simulator did not start")
        env = {f"TIDEGATE_{sim.name.upper()}_URL": sim.url for sim in children}
        # The demo's key file (.tidegate/issuer-key.pem unless set) and CTI secret: `tidegate token`
        # and `tidegate cti` work as with `make demo`. Persisted-only, as in production, except the
        # workbench's traffic, which comes through the router (docs/router.md).
        env |= {"TIDEGATE_LOCAL_ISSUER": "true", "TIDEGATE_CTI_SECRETS": DEMO_CTI_SECRET}
        env |= {"TIDEGATE_PERSISTED_ONLY": "true", "TIDEGATE_PERSISTED_FREE_FORM_CLIENTS": "workbench"}
        if args.replicas > 1:
            children.append(redis := start_redis())
            env["TIDEGATE_REDIS_URL"] = f"redis://127.0.0.1:{redis.port}/0"
        children.append(bff := start_replicas(args.replicas, env, args.bff_port))
        children.append(survey := start_survey())
        compose(scratch / "supergraph.graphql", f"{bff.url}/graphql", survey.url)
        children.append(router := start_router(scratch / "supergraph.graphql", args.port))
        print("\nTidegate behind Hive Gateway (Ctrl-C stops everything):")
        for child in children:
            print(f"  {child.name:<11} {child.url:<26} pid {child.proc.pid}", flush=True)
        print(f"router ready: {router.url}/graphql, {args.replicas} replicas at {bff.url}", flush=True)
        while not stopping:
            dead = next((c for c in children if c.proc.poll() is not None), None)
            if dead is not None:
                print(f"{dead.name} exited ({dead.proc.returncode}); stopping", file=sys.stderr)
                return 1
            time.sleep(0.3)
        return 0
    finally:
        stop([c.proc for c in reversed(children)])
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
