"""The processes a benchmark stands up: the four simulators, `tidegate serve`, and a token for it.

Shared by `bench/screen_pop.py` and `bench/surge.py` so both start, wait for and stop their
servers the same way; every child dies with the benchmark (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from simulators.launch import die_with_parent, free_port, spawn_simulator, stop, wait_healthy

if TYPE_CHECKING:
    from gateway.auth import LocalIssuer

SERVICES = ("billing", "crm", "gis", "workorders")


def server(
    module: Sequence[str],
    port: int,
    env: Mapping[str, str],
    cpus: frozenset[int] | None = None,
    tree: Path | None = None,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """`python -m MODULE... --port PORT` with extra environment, its output discarded (or written to
    `log`); with `cpus`, it and every thread it starts run only on those cores; with `tree`, the code
    of that source tree (another checkout of this repository, on the same installed packages)
    instead of this one."""

    def prepare() -> None:
        die_with_parent()
        if cpus is not None:
            os.sched_setaffinity(0, cpus)

    output = log.open("wb") if log is not None else None
    try:
        return subprocess.Popen(
            [sys.executable, "-m", *module, "--port", str(port)],
            # No balancer to take a bench's BFF out before it stops: stop at once (legs follow each other).
            env={
                **os.environ,
                "TIDEGATE_DRAIN_DELAY_S": "0",
                **env,
                **({"PYTHONPATH": str(tree)} if tree else {}),
            },
            cwd=tree,
            stdout=output or subprocess.DEVNULL,
            stderr=output or subprocess.DEVNULL,
            preexec_fn=prepare,
        )
    finally:
        if output is not None:
            output.close()  # the server has its own copy of the descriptor


def split_cores() -> tuple[frozenset[int], frozenset[int]] | None:
    """The cores this process may use, split in two: the servers under test get the first half (at
    least one), everything else (simulators, load generator) the rest. None with a single core."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    half = max(1, len(cores) // 2)
    return frozenset(cores[:half]), frozenset(cores[half:])


def start_simulators(
    args: Sequence[str], extra: Mapping[str, Sequence[str]] | None = None, timeout_s: float = 120
) -> dict[str, tuple[int, subprocess.Popen[bytes]]]:
    """All four simulators on free ports, started together (the world builds in parallel), once healthy."""
    sims: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
    for name in SERVICES:
        port = free_port()
        cmd = [*args, *(extra or {}).get(name, ())]
        sims[name] = (port, spawn_simulator(name, port, cmd, output=subprocess.DEVNULL))
    for name, (port, proc) in sims.items():
        if not wait_healthy(f"http://127.0.0.1:{port}", proc, timeout_s):
            stop([p for _, p in sims.values()])
            raise RuntimeError(f"{name} simulator did not start")
    return sims


def backend_env(sims: Mapping[str, tuple[int, subprocess.Popen[bytes]]]) -> dict[str, str]:
    """`TIDEGATE_<SYSTEM>_URL` for each simulator."""
    return {f"TIDEGATE_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, (port, _) in sims.items()}


def issuer(key_path: Path) -> LocalIssuer:
    """The BFF's local issuer on its key file (made when missing): for minting many tokens at once."""
    from gateway.auth import local_issuer
    from gateway.settings import Settings

    return local_issuer(Settings(local_issuer=True, local_issuer_key_path=key_path))


def bearer(
    key_path: Path, client_id: str = "bench", role: str = "supervisor", agent_id: str | None = None
) -> dict[str, str]:
    """A token from the BFF's local issuer key (a supervisor by default: any customer, no call needed)."""
    token = issuer(key_path).mint(client_id=client_id, role=role, agent_id=agent_id)
    return {"Authorization": f"Bearer {token}"}


async def wait_http(
    url: str, proc: subprocess.Popen[bytes], body: bytes, auth: Mapping[str, str] | None = None
) -> None:
    """POST `body` until it answers 200: the server is up and has served one real request."""
    import aiohttp

    headers = {"Content-Type": "application/json", **(auth or {})}
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"{url} exited with {proc.returncode}")
            try:
                async with session.post(url, data=body, headers=headers) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} never answered")


def cost_only_env(sims: Mapping[str, tuple[int, subprocess.Popen[bytes]]]) -> dict[str, str]:
    """Settings for benchmarks of the BFF's own cost (not of its shedding, which bench/surge.py
    measures): admission stays on (its cost is the BFF's) with limits far above any load; no 300 ms
    cut-off, so every pop is answered in full; long backend timeouts; billing's calls/s budget and
    bulkhead out of the way (50 calls/s by default would pace pops, one billing call each, 20 ms
    apart and hide every cost in the wait)."""
    env = {f"TIDEGATE_{name.upper()}_TIMEOUT_S": "10" for name in sims}
    env |= {f"TIDEGATE_RATE_{b}_RPS": "1000000" for b in ("GLOBAL", "CLIENT", "CRITICAL")}
    env |= {f"TIDEGATE_RATE_{b}_BURST": "1000000" for b in ("GLOBAL", "CLIENT", "CRITICAL")}
    env |= {"TIDEGATE_BUDGET_CRITICAL_MS": "10000"}
    env |= {"TIDEGATE_BILLING_MAX_RPS": "1000000", "TIDEGATE_BILLING_RPS_BURST": "1000000"}
    env |= {"TIDEGATE_BILLING_MAX_CONCURRENT": "1000"}
    return env
