"""`tidegate demo` as a real process tree for tests: a free port range, started and awaited.

Shared by the demo's own tests and the documentation examples, which run against the stack the
README tells a reader to start.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

from gateway.demo import BFF_PORT
from simulators.kit.options import DEFAULT_PORTS
from tests.support.processes import ROOT

READY_LINE = "demo ready"
_AT_ZERO = ("--latency-scale", "0", "--port-offset")  # then the offset


def free_port_offset() -> int:
    """An offset at which the BFF's and every simulator's default port are free on 127.0.0.1."""
    for _ in range(50):
        # Every port below the kernel's ephemeral range (32768 and up, where `free_port()` and every
        # outgoing connection of a parallel test take theirs): a free port there stays free.
        offset = random.randrange(2_000, 24_000)
        try:
            for port in (*DEFAULT_PORTS.values(), BFF_PORT):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        return offset
    raise RuntimeError("no free port range")


@dataclass
class DemoRun:
    """A started `tidegate demo`: its process, the lines it printed, and what they announced."""

    proc: subprocess.Popen[str]
    offset: int
    lines: list[str] = field(default_factory=list)

    @property
    def children(self) -> dict[str, tuple[str, int]]:
        """Name to (URL, pid), from the demo's own listing."""
        return {
            m[1]: (m[2], int(m[3]))
            for line in list(self.lines)
            if (m := re.match(r"\s+(\w+)\s+(http://\S+)\s+pid (\d+)", line))
        }

    def kill(self) -> None:
        """The whole process group, at once (a test that failed half-way)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)


def start_demo(
    *, customers: int = 300, env: Mapping[str, str] | None = None, ready_timeout_s: float = 120
) -> DemoRun:
    """`tidegate demo` on a free port range at latency 0, awaited until it prints `demo ready`
    (or killed when it does not within the timeout; the caller sees the missing children)."""
    offset = free_port_offset()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "demo", "--customers", str(customers), *_AT_ZERO, str(offset)],
        cwd=ROOT,
        env=dict(env) if env is not None else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    run = DemoRun(proc, offset)
    ready = threading.Event()

    def read(stream: IO[str]) -> None:
        # A reader thread, not select(): a text stream buffers lines select() cannot see.
        for line in stream:
            run.lines.append(line)
            if line.strip() == READY_LINE:
                ready.set()
        ready.set()  # the demo exited without being ready: its lines say why, no need to wait on

    threading.Thread(target=read, args=(proc.stdout,), daemon=True).start()
    if not ready.wait(ready_timeout_s):
        proc.kill()
    return run
