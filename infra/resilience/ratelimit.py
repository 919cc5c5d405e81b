"""Rate limiting for the BFF: shared GCRA buckets in Redis, a local share of them when Redis is gone.

A lost Redis must mean neither "no limit" nor "no service". While Redis fails, each replica
enforces `limit ÷ replicas` in process, so the fleet stays at or under the shared limit (plus, at
worst, one fresh local burst share per replica as the outage starts: local buckets start idle).
While down, one request per `probe_interval_s` also tries Redis (after its local answer) and every
other request goes local at once, so a dead Redis costs a replica one failed call per second, not
one timeout per request.

The way back must not overshoot. The shared buckets know nothing of what a replica admitted alone
(and a restarted Redis knows nothing at all), so a replica that simply went back would find a full
shared burst after spending its local share: up to twice the limit in one window. The rule: the
fallback admits from a share that the shared bucket then accounts for. The probe is a request
answered locally like the others; it then charges the shared buckets with every local admission
of this replica that still weighs (each local bucket's TAT past now, ÷ replicas to turn a share's
time into the whole's; `LocalGcra` keeps the ledger of what was already charged), and the replica
goes back to the shared buckets in the same event-loop step in which it finds its ledger settled,
so nothing admitted locally meanwhile escapes the charge. Once every replica is back, the shared
buckets carry the fleet's whole fallback and the overshoot after recovery is 0. Until then a
replica still in fallback (at most one probe interval after Redis answers it) can spend only what
is left of its own share, and charges that too when it returns: the outage's bound (the shared
limit plus one window's local shares) holds throughout. A charge that times out after Redis applied
it is charged again at the next probe: the error falls on the side of refusing, never admitting.

Two bounds keep a sick Redis cheap. `infra.redis_client` fails fast: 100 ms connect and read timeouts
(a script call takes ~0.2 ms here; 100 rather than 50 because a busy event loop on 2 cores lags
tens of ms, and a timeout that fires on our own lag flips the replica to its share for a second:
a fresh local share on top of the shared bucket, which the way back then charges), and no
retries (redis-py retries 3 times with backoff by default, which multiplies the wait and can
charge a bucket twice). And `RateLimiter` gives each shared decision a deadline (250 ms) that
also covers the wait for a pooled connection, so requests queued behind a hung Redis when it
hangs give up together instead of timing out in rounds of the pool's size.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from infra.redis_client import REDIS_FAILURES, redis_client
from infra.resilience.gcra import Bucket, Decision, LocalGcra

__all__ = ["REDIS_FAILURES", "RateLimiter", "SharedGcra", "redis_client"]

logger = logging.getLogger("tidegate.ratelimit")


class SharedGcra(Protocol):
    """What the limiter needs from the shared side: `RedisGcra`, or a stand-in in tests."""

    async def acquire(self, buckets: Sequence[Bucket], cost: int = 1) -> Decision: ...

    async def charge(self, owed: Mapping[str, int]) -> None: ...


class RateLimiter:
    """Admits or refuses a request against several buckets at once, all or nothing.

    `redis=None` (the embedded default) keeps full limits in process: there is one replica.
    With Redis, `replicas` is how many BFF processes share the limits, used only for fallback.
    """

    # Rounds a probe may spend charging what was admitted locally while it charged: under a steady
    # load each round's news is one round trip's worth; past this, the next probe carries on.
    _SETTLE_ROUNDS = 4

    def __init__(
        self,
        redis: SharedGcra | None,
        replicas: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        probe_interval_s: float = 1.0,
        deadline_s: float = 0.25,
    ) -> None:
        if replicas < 1:
            raise ValueError(f"replicas must be at least 1, not {replicas}")
        self._redis = redis
        self._replicas = replicas if redis is not None else 1
        self._clock = clock
        self._local = LocalGcra(clock)
        self._probe_interval_s = probe_interval_s
        self._deadline_s = deadline_s
        self._down = False
        self._next_probe = 0.0
        # Bumped on every switch between shared and local: a call that began before the last
        # switch (stuck behind a hung Redis, say) is old news and must not flip the state back.
        self._epoch = 0

    def share(self, replicas: int) -> None:
        """How many replicas share the limits now (`infra.fleet`): each one's fallback share."""
        if replicas < 1:
            raise ValueError(f"replicas must be at least 1, not {replicas}")
        if self._redis is not None:
            self._replicas = replicas

    @property
    def shared(self) -> bool:
        """True while decisions come from Redis (for health checks and metrics)."""
        return self._redis is not None and not self._down

    async def acquire(self, buckets: Sequence[Bucket], cost: int = 1) -> Decision:
        """Never raises for a Redis failure: the local share answers instead."""
        redis = self._redis
        if redis is not None and not self._down:
            epoch = self._epoch
            try:
                async with asyncio.timeout(self._deadline_s):
                    return await redis.acquire(buckets, cost)
            except REDIS_FAILURES as exc:
                if epoch == self._epoch:
                    self._mark_down(exc)
        decision = self._local.acquire(self._local_share(buckets), cost)
        if redis is not None and self._down and self._clock() >= self._next_probe:
            await self._probe(redis)
        return decision

    async def _probe(self, redis: SharedGcra) -> None:
        """While down, one request per probe interval, answered locally like the others, then
        charges the shared buckets with what this replica admitted alone (itself included); the
        replica goes back to them the moment nothing is left unreported."""
        self._next_probe = self._clock() + self._probe_interval_s
        epoch = self._epoch
        try:
            async with asyncio.timeout(self._deadline_s):
                for _ in range(self._SETTLE_ROUNDS):
                    ledger = self._local.unreported()
                    owed = {key: -(-late_us // self._replicas) for key, (_, late_us) in ledger.items()}
                    await redis.charge(owed)  # also when nothing is owed: it proves Redis answers
                    self._local.mark_reported({key: tat for key, (tat, _) in ledger.items()})
                    if epoch != self._epoch or not self._local.unreported():
                        break
        except REDIS_FAILURES as exc:
            if epoch == self._epoch:
                self._mark_down(exc)
            return
        # No await since the last check: nothing admitted locally can slip in before the switch.
        if epoch == self._epoch and not self._local.unreported():
            self._mark_up()

    def _local_share(self, buckets: Sequence[Bucket]) -> Sequence[Bucket]:
        if self._replicas == 1:
            return buckets
        return [Bucket(bucket.key, bucket.limit.share(self._replicas)) for bucket in buckets]

    def _mark_down(self, exc: BaseException) -> None:
        self._next_probe = self._clock() + self._probe_interval_s
        if not self._down:
            self._down = True
            self._epoch += 1
            logger.warning(
                "Redis unreachable (%s: %s): rate limits fall back to a local 1/%d share",
                type(exc).__name__,
                exc,
                self._replicas,
            )

    def _mark_up(self) -> None:
        if self._down:
            self._down = False
            self._epoch += 1
            logger.info("Redis answers again: rate limits are shared again")
