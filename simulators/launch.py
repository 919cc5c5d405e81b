"""Start simulators as child processes and wait until they answer: for the demo, tests and benchmarks."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import httpx

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Runs in the child between fork and exec: the kernel SIGTERMs it when its parent dies (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:`port` now. Tried with `SO_REUSEADDR`, as uvicorn
    binds: without it a port whose last connections sit in TIME_WAIT reads as busy when it is not."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def spawn_simulator(
    service: str,
    port: int,
    args: Sequence[str] = (),
    *,
    cwd: Path | None = None,
    output: IO[bytes] | int | None = None,
) -> subprocess.Popen[bytes]:
    """`tidegate simulate SERVICE --port PORT ARGS...` as a child that dies with us."""
    cmd = [sys.executable, "-m", "gateway.cli", "simulate", service, "--port", str(port), *args]
    return subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        preexec_fn=die_with_parent,
    )


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """True once `url/_sim/health` answers 200; False if the process died or time ran out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/_sim/health", timeout=1.0).status_code == 200:
                return True
        time.sleep(0.1)
    return False


def stop(procs: Sequence[subprocess.Popen[bytes]], grace_s: float = 10.0) -> None:
    """SIGTERM every child, then SIGKILL whoever is still there after the grace period."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
