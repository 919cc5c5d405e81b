"""`tidegate demo`: the four simulators and the BFF as child processes.

Every child is its own uvicorn process on 127.0.0.1; the BFF starts once the simulators answer
and is pointed at them through `TIDEGATE_*` variables, with its local token issuer on (the demo
prints an agent token). Ctrl-C (SIGINT) or SIGTERM stops them all; children also die with the
parent if it is killed outright (PR_SET_PDEATHSIG on Linux), so the demo leaves no orphans behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import date
from types import FrameType

import httpx

from gateway.demo_secrets import DEMO_AGENT, DEMO_CTI_SECRET, DEMO_WEBHOOK_SECRET
from gateway.settings.component import ENV_PREFIX
from gateway.settings.problems import BadSettings, load_settings
from simulators.kit.options import DEFAULT_PORTS, SERVICES
from simulators.launch import die_with_parent, port_free, spawn_simulator, stop, wait_healthy

BFF_PORT = 8000
DEMO_CREW_INTERVAL_MS = 5_000  # the simulated field crew moves an open order on every 5 s


def bff_variables(sim_ports: dict[str, int]) -> dict[str, str]:
    """The `TIDEGATE_*` variables the demo sets for its BFF, over the environment's."""
    return {
        **{f"TIDEGATE_{name.upper()}_URL": f"http://127.0.0.1:{p}" for name, p in sim_ports.items()},
        "TIDEGATE_LOCAL_ISSUER": "true",
        "TIDEGATE_DEV_MODE": "true",  # GraphiQL needs introspection
        "TIDEGATE_GRAPHIQL": "true",  # served only in dev mode, and off by default
        # The tour curls free-form documents with an agent's token; production sends agents' by id.
        "TIDEGATE_PERSISTED_ONLY": os.environ.get("TIDEGATE_PERSISTED_ONLY", "false"),
        "TIDEGATE_CTI_SECRETS": os.environ.get("TIDEGATE_CTI_SECRETS", DEMO_CTI_SECRET),
        "TIDEGATE_WORKORDERS_WEBHOOK_SECRETS": webhook_secrets(),
        "TIDEGATE_DRAIN_DELAY_S": "0",  # no balancer to take a laptop's demo out first
    }


def settings_problems(sim_ports: dict[str, int]) -> list[str]:
    """The lines `tidegate serve` would refuse the BFF's settings with (none: it would start), checked
    before any simulator is started rather than after they all are."""
    from gateway.app import start_refusal

    variables = bff_variables(sim_ports)
    try:
        settings = load_settings(
            {name.removeprefix(ENV_PREFIX).lower(): value for name, value in variables.items()}
        )
    except BadSettings as exc:
        return exc.lines
    refusal = start_refusal(settings)
    return [] if refusal is None else [f"tidegate: {refusal}"]


def spawn_bff(port: int, sim_ports: dict[str, int]) -> subprocess.Popen[bytes]:
    """`tidegate serve --port PORT` as a child that dies with us, pointed at the simulators and
    issuing its own tokens (the key file in TIDEGATE_LOCAL_ISSUER_KEY_PATH, shared with us)."""
    env = {**os.environ, **bff_variables(sim_ports)}
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        env=env,
        preexec_fn=die_with_parent,
    )


def webhook_secrets() -> str:
    return os.environ.get("TIDEGATE_WORKORDERS_WEBHOOK_SECRETS", DEMO_WEBHOOK_SECRET)


def subscribe_webhooks(workorders_url: str, bff_url: str) -> None:
    """Point the work-order system's status-change webhooks at the BFF and set its field crew going."""
    secrets = [s.strip() for s in webhook_secrets().split(",") if s.strip()]
    hook = {"url": f"{bff_url}/webhooks/workorders", "secrets": secrets}
    httpx.patch(f"{workorders_url}/_sim/webhooks", json=hook, timeout=5.0).raise_for_status()
    crew = {"interval_ms": DEMO_CREW_INTERVAL_MS}
    httpx.patch(f"{workorders_url}/_sim/crew", json=crew, timeout=5.0).raise_for_status()


def print_auth(bff_url: str) -> None:
    """An agent token for the demo BFF, and how to get the next one when it expires."""
    from gateway.auth import local_issuer
    from gateway.auth.clients import DEMO_SIGN_IN_CLIENT
    from gateway.settings import Settings

    settings = Settings(local_issuer=True)  # the BFF's settings: same key file, issuer, audience
    issuer = local_issuer(settings)
    token = issuer.mint(client_id=DEMO_SIGN_IN_CLIENT, role="agent", agent_id=DEMO_AGENT)
    lines = [
        f"\nAuth: local issuer, key {settings.auth.local_issuer_key_path};"
        " send Authorization: Bearer <token>",
        f"  agent token  {token}",
        f"  valid {issuer.ttl_s // 60} min; next one: tidegate token --role agent --agent-id {DEMO_AGENT}",
        f"  or POST {bff_url}/oauth/token (client_credentials; demo clients in docs/security.md)",
        f"  an agent reads only the caller on their current call; put {DEMO_AGENT} on one with:",
        f"  tidegate cti ringing --agent-id {DEMO_AGENT} --call-id demo-1 --caller <phone> --url {bff_url}",
    ]
    print("\n".join(lines), flush=True)


def wait_bff(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """True once `url/healthz` answers 200; False if the process died or time ran out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return True
        time.sleep(0.1)
    return False


def run_demo(
    *, seed: int, customers: int, as_of: date | None, latency_scale: float, port_offset: int = 0
) -> int:
    ports = {name: DEFAULT_PORTS[name] + port_offset for name in SERVICES}
    bff_port = BFF_PORT + port_offset
    if problems := settings_problems(ports):
        print("\n".join(problems), file=sys.stderr)
        return 2
    busy = [f"{name} ({port})" for name, port in {**ports, "bff": bff_port}.items() if not port_free(port)]
    if busy:
        print(f"tidegate demo: ports already in use: {', '.join(busy)}; try --port-offset", file=sys.stderr)
        return 2
    world = ["--seed", str(seed), "--customers", str(customers), "--latency-scale", str(latency_scale)]
    if as_of is not None:
        world += ["--as-of", as_of.isoformat()]
    stopping = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children = {name: spawn_simulator(name, ports[name], world) for name in SERVICES}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    try:
        for name, proc in children.items():
            if not wait_healthy(urls[name], proc, timeout_s=120):
                print(f"tidegate demo: {name} did not start (exit {proc.poll()})", file=sys.stderr)
                return 1
        children["bff"] = bff = spawn_bff(bff_port, ports)
        if not wait_bff(f"http://127.0.0.1:{bff_port}", bff, timeout_s=60):
            print(f"tidegate demo: the BFF did not start (exit {bff.poll()})", file=sys.stderr)
            return 1
        subscribe_webhooks(urls["workorders"], f"http://127.0.0.1:{bff_port}")
        urls["bff"] = f"http://127.0.0.1:{bff_port}/graphql"
        print("\nTidegate demo is up (Ctrl-C stops everything):", flush=True)
        for name, proc in children.items():
            print(f"  {name:<11} {urls[name]:<30}  pid {proc.pid}", flush=True)
        print_auth(f"http://127.0.0.1:{bff_port}")
        print(f"  supervisor's board  http://127.0.0.1:{bff_port}/board  (docs/board.md)", flush=True)
        print(f"\nAgent workbench: http://127.0.0.1:{bff_port}/workbench (sign in, ring me)", flush=True)
        print("demo ready", flush=True)
        while not stopping:
            dead = next((n for n, p in children.items() if p.poll() is not None), None)
            if dead is not None:
                print(
                    f"tidegate demo: {dead} exited ({children[dead].returncode}); stopping", file=sys.stderr
                )
                return 1
            time.sleep(0.3)
        return 0
    finally:
        stop(list(children.values()))
        print("demo stopped", flush=True)
