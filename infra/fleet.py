"""The fleet: how many BFF processes share one Redis right now, as they announce themselves.

Why: each replica's share of what the fleet promised a back office (billing's calls in flight and
calls per second) and of the admission buckets' local fallback is the limit divided by the number
of replicas. A number set by hand (`TIDEGATE_REPLICAS`) is wrong the moment a deploy, a crash or an
autoscaler changes the fleet: two processes that each believe they are alone put twice the promise
on billing. So each replica announces itself and the count is read, not configured.

How: one Redis sorted set (`tidegate:fleet`), a member per replica (host, pid and a random suffix),
scored with the time its announcement lapses. Every `heartbeat_s` a replica, in one Lua script (one
key, so it runs unchanged on Redis Cluster), drops the lapsed members, renews its own and counts the
rest. A replica that dies stops renewing and drops out after `ttl_s`; one that shuts down cleanly
leaves at once. The script reads Redis's own clock (`TIME`), so replicas' clocks need not agree.

While Redis cannot be reached the last count stands (shares do not jump while the fleet is
unchanged), and the listeners hear nothing new. `size` never falls below `floor`
(`TIDEGATE_REPLICAS`, default 1): an operator who knows more replicas are coming can say so.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from contextlib import suppress

from infra.redis_client import REDIS_FAILURES, RedisClient

logger = logging.getLogger("tidegate.fleet")

FLEET_KEY = "tidegate:fleet"
HEARTBEAT_S = 2.0
TTL_S = 6.0  # three missed heartbeats: the replica is gone

# KEYS[1] the fleet's sorted set; ARGV: member, ttl in ms. Returns the live count, this one included.
_BEAT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])
"""

SizeListener = Callable[[int], None]


def replica_id() -> str:
    """This process's name in the fleet: readable in `ZRANGE`, unique across restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Fleet:
    """This replica's view of the fleet. Without Redis it is a fleet of one (`size` is `floor`,
    which `gateway.app` refuses to be more than 1 without Redis)."""

    def __init__(
        self,
        redis: RedisClient | None,
        *,
        floor: int = 1,
        member: str | None = None,
        heartbeat_s: float = HEARTBEAT_S,
        ttl_s: float = TTL_S,
        key: str = FLEET_KEY,
    ) -> None:
        if floor < 1:
            raise ValueError(f"floor must be at least 1, not {floor}")
        if not 0 < heartbeat_s < ttl_s:
            raise ValueError("need 0 < heartbeat_s < ttl_s")
        self.redis = redis
        self.floor = floor
        self.member = member or replica_id()
        self.heartbeat_s = heartbeat_s
        self.ttl_s = ttl_s
        self.key = key
        self.live: int | None = None  # the count last read from Redis (None: never read)
        self._listeners: list[SizeListener] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def size(self) -> int:
        """Replicas sharing the limits now: the live count, at least `floor`."""
        return max(self.floor, self.live or 1)

    def on_size(self, listener: SizeListener) -> None:
        """`listener(size)` now and whenever the size changes."""
        self._listeners.append(listener)
        listener(self.size)

    async def beat(self) -> int:
        """Renew this replica's announcement and read the count (one round trip). Raises RedisError."""
        assert self.redis is not None
        ttl_ms = str(round(self.ttl_s * 1000))
        async with asyncio.timeout(self.heartbeat_s):  # a hung Redis costs one beat, not the loop
            count = int(await self.redis.eval(_BEAT, 1, self.key, self.member, ttl_ms))
        before = self.size
        self.live = count
        if self.size != before:
            logger.info("fleet size changed", extra={"replicas": self.size, "was": before})
            for listener in self._listeners:
                listener(self.size)
        return count

    async def start(self) -> None:
        """Announce this replica (a first beat, so shares are right before the first request) and keep
        announcing it in the background. Without Redis: nothing to do."""
        if self.redis is None:
            return
        try:
            await self.beat()
        except REDIS_FAILURES as exc:
            logger.warning("fleet: cannot announce this replica yet: %s", exc)
        self._task = asyncio.create_task(self._run(), name="fleet-heartbeat")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self.beat()
            except REDIS_FAILURES as exc:  # the last count stands until Redis answers
                logger.warning("fleet heartbeat failed: %s", exc)

    async def aclose(self) -> None:
        """Stop announcing and leave at once (the others see the fleet shrink at their next beat)."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, self.heartbeat_s)
            self._task = None
        if self.redis is not None:  # best effort: if Redis does not answer, the TTL drops it
            with suppress(*REDIS_FAILURES):
                async with asyncio.timeout(self.heartbeat_s):
                    await self.redis.zrem(self.key, self.member)
