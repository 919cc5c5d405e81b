"""One BFF-like process for the rate-limit fleet tests: a `RateLimiter` on a real redis-server, with
its own event loop, driven line by line over stdin.

For each `KEY N` line it fires N concurrent acquires on one bucket and prints one JSON line:
`{"admitted": .., "shared": .., "errors": .., "back": ..}`. Run as `python -m tests.support.ratelimit_worker
PORT REPLICAS RATE BURST PROBE_S TIMEOUT_S DEADLINE_S`.

A module of its own (not the test file) so four of them start without importing pytest and
hypothesis: on a busy 2-core machine that import alone took seconds per process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

from infra.resilience.gcra import Bucket, Decision, Limit, RedisGcra
from infra.resilience.ratelimit import RateLimiter, redis_client


async def serve(
    port: int, replicas: int, limit: Limit, probe_interval_s: float, timeout_s: float, deadline_s: float
) -> None:
    client = redis_client(f"redis://127.0.0.1:{port}/0", timeout_s=timeout_s, pool_wait_s=deadline_s)
    gcra = RedisGcra(client)
    limiter = RateLimiter(gcra, replicas, probe_interval_s=probe_interval_s, deadline_s=deadline_s)
    for _ in range(20):  # a BFF in service has its pool open: connect 32 before the test fires
        pings = await asyncio.gather(*(client.ping() for _ in range(32)), return_exceptions=True)
        if all(ping is True for ping in pings):
            break
    await gcra.load()
    print(json.dumps({"ready": True}), flush=True)
    while line := await asyncio.to_thread(sys.stdin.readline):
        key, n = line.split()
        results = await asyncio.gather(
            *(limiter.acquire([Bucket(key, limit)]) for _ in range(int(n))), return_exceptions=True
        )
        decisions = [r for r in results if isinstance(r, Decision)]
        for error in results:
            if not isinstance(error, Decision):
                print(repr(error), file=sys.stderr)
        summary = {
            "admitted": sum(d.allowed for d in decisions),
            "shared": sum(d.shared for d in decisions),
            "errors": len(results) - len(decisions),
            "back": int(limiter.shared),  # on the shared buckets once these were answered
        }
        print(json.dumps(summary), flush=True)
    await client.aclose()


def main(argv: list[str]) -> None:
    port, replicas, rate, burst, probe, timeout, deadline = argv
    limit = Limit(rate_per_s=float(rate), burst=int(burst))
    asyncio.run(serve(int(port), int(replicas), limit, float(probe), float(timeout), float(deadline)))


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    main(sys.argv[1:])
