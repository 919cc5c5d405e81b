"""A real redis-server on a free loopback port, for integration tests."""

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


def start_redis() -> RedisProcess:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: `make test` installs it")
    port = free_port()
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
                return RedisProcess(port, proc)
        except redis.ConnectionError:
            time.sleep(0.05)
    stop([proc])
    raise RuntimeError("redis-server did not start")
