"""One simulated call: queue for the pool, take time, maybe fail, and count it all."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from simulators.kit.faults import FaultConfig, Latency
from simulators.kit.stats import Stats


class SimFailure(Exception):
    """An injected or modelled failure; each simulator renders it in its own product's way."""

    outcome = "failure"


class PoolExhausted(SimFailure):
    """Waited longer than `pool_timeout_ms` for a connection: the collapse under load."""

    outcome = "pool_exhausted"


class InjectedError(SimFailure):
    outcome = "injected_error"


class InjectedTimeout(SimFailure):
    outcome = "timeout"


@dataclass
class Call:
    """What the handler learns about its call; it sets `outcome` for business errors."""

    op: str
    batch: int
    garble: bool = False
    outcome: str = "ok"


class Pool:
    """A fixed number of workers; excess work queues and is refused after a wait."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = asyncio.Semaphore(size)

    async def acquire(self, timeout_s: float) -> None:
        if not self._free.locked():
            await self._free.acquire()  # free now: no wait, even with a zero timeout
            return
        try:
            await asyncio.wait_for(self._free.acquire(), timeout_s)
        except TimeoutError as exc:
            raise PoolExhausted(f"no connection free within {timeout_s * 1000:.0f} ms") from exc

    def release(self) -> None:
        self._free.release()


class SimRuntime:
    def __init__(
        self,
        service: str,
        faults: FaultConfig,
        latency: Mapping[str, Latency],
        default_latency: Latency,
        rng: random.Random | None = None,
    ) -> None:
        self.service = service
        self.faults = faults
        self.latency = dict(latency)
        self.default_latency = default_latency
        self.rng = rng or random.Random()
        self.stats = Stats(service)
        self._pool: Pool | None = None
        self._pool_size: int | None = None

    def _current_pool(self) -> Pool | None:
        size = self.faults.pool_size
        if size != self._pool_size:  # resized at run time: new callers use the new pool
            self._pool = Pool(size) if size else None
            self._pool_size = size
        return self._pool

    def sample_latency_s(self, op: str) -> float:
        """An operation's own `latency_ms` override is absolute; sampled latencies follow the scale."""
        override = self.faults.ops.get(op)
        if override and override.latency_ms is not None:
            base = override.latency_ms
        else:
            base = self.latency.get(op, self.default_latency).sample(self.rng) * self.faults.latency_scale
        # Queued requests still hold threads and memory on the real system: work slows with
        # everything in flight, not just what holds a connection, so goodput falls past saturation.
        load = min(self.stats.in_flight / self._pool_size, 5.0) if self._pool_size else 0.0
        return base * (1 + self.faults.contention * load) / 1000

    @asynccontextmanager
    async def call(self, op: str, batch: int = 1) -> AsyncIterator[Call]:
        call = Call(op, batch)
        started_wall, started = time.time(), time.perf_counter()
        self.stats.arrived(op, batch)
        pool = self._current_pool()
        in_pool = False
        try:
            if pool is not None:
                await pool.acquire(self.faults.pool_timeout_ms / 1000)
            in_pool = True
            self.stats.entered_pool()
            roll = self.rng.random()
            timeout_rate = self.faults.for_op(op, "timeout_rate")
            if roll < timeout_rate:
                await asyncio.sleep(self.faults.hang_ms / 1000)
                raise InjectedTimeout(f"{op} hung for {self.faults.hang_ms} ms")
            await asyncio.sleep(self.sample_latency_s(op))
            if roll < timeout_rate + self.faults.for_op(op, "error_rate"):
                raise InjectedError(f"{op} failed (injected)")
            call.garble = self.rng.random() < self.faults.for_op(op, "garble_rate")
            if call.garble:
                call.outcome = "garbled"
            yield call
        except SimFailure as exc:
            call.outcome = exc.outcome
            raise
        except Exception:
            call.outcome = "crash"
            raise
        finally:
            if in_pool:
                self.stats.left_pool()
                if pool is not None:
                    pool.release()
            elapsed_ms = (time.perf_counter() - started) * 1000
            self.stats.finished(op, batch, started_wall, elapsed_ms, call.outcome)


def garble(body: bytes) -> bytes:
    """A response cut off mid-stream, as a dying backend sends it."""
    return body[: max(1, len(body) // 2)]
