"""`tidegate demo`: the four simulators (and the BFF, once it exists) as child processes.

Every child is its own uvicorn process on 127.0.0.1. Ctrl-C (SIGINT) or SIGTERM stops them
all; children also die with the parent if it is killed outright (PR_SET_PDEATHSIG on Linux),
so the demo leaves no orphans behind.
"""

from __future__ import annotations

import signal
import sys
import time
from datetime import date
from types import FrameType

from simulators.kit.options import DEFAULT_PORTS, SERVICES
from simulators.launch import port_free, spawn_simulator, stop, wait_healthy


def run_demo(
    *, seed: int, customers: int, as_of: date | None, latency_scale: float, port_offset: int = 0
) -> int:
    ports = {name: DEFAULT_PORTS[name] + port_offset for name in SERVICES}
    busy = [f"{name} ({port})" for name, port in ports.items() if not port_free(port)]
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
    try:
        for name, proc in children.items():
            if not wait_healthy(f"http://127.0.0.1:{ports[name]}", proc, timeout_s=120):
                print(f"tidegate demo: {name} did not start (exit {proc.poll()})", file=sys.stderr)
                return 1
        print("\nTidegate demo is up (Ctrl-C stops everything):", flush=True)
        for name, proc in children.items():
            print(f"  {name:<11} http://127.0.0.1:{ports[name]:<6}  pid {proc.pid}", flush=True)
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
