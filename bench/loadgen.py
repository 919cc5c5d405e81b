"""Closed-loop load at fixed concurrency, and CPU time of a server process from /proc."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class LegResult:
    requests: int
    failures: int
    seconds: float
    latencies_ms: list[float]
    cpu_s: float

    def summary(self) -> dict[str, Any]:
        ok = self.requests - self.failures
        return {
            "requests": self.requests,
            "failures": self.failures,
            "rps": round(ok / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": round(percentile(self.latencies_ms, 0.5), 2),
            "p99_ms": round(percentile(self.latencies_ms, 0.99), 2),
            "cpu_ms_per_request": round(self.cpu_s * 1000 / ok, 3) if ok else None,
        }


async def drive(
    url: str,
    make_body: Callable[[int], bytes],
    is_ok: Callable[[int, bytes], bool],
    *,
    concurrency: int,
    seconds: float,
    server_pid: int,
    headers: Mapping[str, str] | None = None,
) -> LegResult:
    """`concurrency` clients each send, wait, send again, until `seconds` pass; CPU read around it."""
    latencies: list[float] = []
    failures = 0
    counter = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    request_headers = {"Content-Type": "application/json", **(headers or {})}
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal failures, counter
            while time.perf_counter() < stop_at:
                counter += 1
                started = time.perf_counter()
                async with session.post(url, data=make_body(counter), headers=request_headers) as resp:
                    body = await resp.read()
                    status = resp.status
                if is_ok(status, body):
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    failures += 1

        cpu_before = cpu_seconds(server_pid)
        began = time.perf_counter()
        stop_at = began + seconds
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        cpu_after = cpu_seconds(server_pid)
    return LegResult(len(latencies) + failures, failures, elapsed, latencies, cpu_after - cpu_before)


@dataclass
class Batch:
    """One leg's share of a round: the same bodies every leg is sent, and what came back."""

    answered: int
    failures: int
    seconds: float
    latencies_ms: list[float]
    cpu_s: float


async def send_all(
    session: aiohttp.ClientSession,
    url: str,
    bodies: Sequence[bytes],
    is_ok: Callable[[int, bytes], bool],
    *,
    concurrency: int,
    server_pid: int,
    headers: Mapping[str, str] | None = None,
) -> Batch:
    """Every body once, `concurrency` at a time (closed loop), the server's CPU read around it.

    A fixed batch rather than a fixed time: when two servers are compared, each is sent exactly the
    same requests, so they did the same work whatever their speeds (a timed slice would send the
    faster one more callers, and a different mix of them)."""
    pending = iter(bodies)
    latencies: list[float] = []
    failures = 0
    request_headers = {"Content-Type": "application/json", **(headers or {})}

    async def client() -> None:
        nonlocal failures
        for body in pending:
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=request_headers) as resp:
                    ok = is_ok(resp.status, await resp.read())
            except aiohttp.ClientError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                failures += 1

    cpu_before = cpu_seconds(server_pid)
    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    cpu_s = cpu_seconds(server_pid) - cpu_before
    return Batch(len(latencies), failures, elapsed, latencies, cpu_s)
