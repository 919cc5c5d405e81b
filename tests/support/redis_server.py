"""A real redis-server on a free loopback port, for integration tests; it can be killed (as a crash
is) and started again on the same port, empty (nothing is saved), as a Redis without persistence comes
back."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass

import redis

from simulators.launch import die_with_parent, free_port, stop


@dataclass
class RedisProcess:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        stop([self.proc])

    def kill(self) -> None:
        """SIGKILL: gone at once, every connection reset, as when its host dies."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def restart(self) -> None:
        """A new, empty redis-server on the same port (clients reconnect to the same URL)."""
        self.kill()
        self.proc = _launch(self.port)


def start_redis() -> RedisProcess:
    port = free_port()
    return RedisProcess(port, _launch(port))


def _launch(port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: `make test` installs it")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    client = redis.Redis(port=port, socket_timeout=0.5)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    stop([proc])
    raise RuntimeError("redis-server did not start")
