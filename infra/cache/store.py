"""Where `Cache` keeps its entries: the `CacheStore` protocol, an in-process `MemoryStore` and a shared
`RedisStore`, run against one contract suite.

Both hold an `Entry` — `(stored_at, payload)`, the payload a JSON-able value — as orjson bytes (the
memory store too, so a value that will not serialize fails the same way in both, and a caller can
never mutate what the store holds). Both also hold per-key locks (`acquire_lock`/`release_lock`), the
cross-process half of the cache's single-flight.

A store never raises for its own failure: a Redis error or an unreadable entry is logged and reads as
a miss; a lock that cannot be taken because Redis is down reads as taken by us (fetch, do not wait).
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import orjson
from redis.asyncio.cluster import RedisCluster

from infra.redis_client import REDIS_FAILURES, RedisClient

logger = logging.getLogger("tidegate.cache")

R = TypeVar("R")

# Compare-and-delete: release the lock only if it is still ours (it may have expired and been retaken).
_RELEASE_LUA = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


@dataclass(frozen=True, slots=True)
class Entry:
    stored_at: float  # the writer's clock (epoch seconds)
    payload: Any  # JSON-able: what the caller's `dump` returned


class CacheStore(Protocol):
    async def get(self, key: str) -> Entry | None: ...

    async def set(self, key: str, entry: Entry, keep_s: float) -> None:
        """Store `entry`; the store may forget it after `keep_s` seconds."""

    async def delete(self, key: str) -> None: ...

    async def get_many(self, keys: Sequence[str]) -> list[Entry | None]:
        """One round trip for a batch (MGET): an entry or None per key, in order."""

    async def set_many(self, entries: Sequence[tuple[str, Entry]], keep_s: float) -> None: ...

    async def acquire_lock(self, key: str, ttl_s: float) -> str | None:
        """A token if the caller now holds the lock (or the store cannot tell), None if another does."""

    async def release_lock(self, key: str, token: str) -> None: ...


def _encode(entry: Entry) -> bytes:
    return orjson.dumps([entry.stored_at, entry.payload])


def _decode(key: str, raw: bytes | str) -> Entry | None:
    try:
        stored_at, payload = orjson.loads(raw)
        return Entry(float(stored_at), payload)
    except (ValueError, TypeError) as exc:
        logger.warning("Cache entry %s is unreadable (%s): treated as a miss", key, exc)
        return None


class MemoryStore:
    """A bounded dict with expiry: least recently used entries go first once `max_entries` is reached."""

    def __init__(self, max_entries: int = 10_000, *, clock: Callable[[], float] = time.time) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()  # key -> (expires_at, raw)
        self._locks: dict[str, tuple[float, str]] = {}  # key -> (expires_at, token)

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> Entry | None:
        found = self._entries.get(key)
        if found is None:
            return None
        expires_at, raw = found
        if self._clock() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return _decode(key, raw)

    async def set(self, key: str, entry: Entry, keep_s: float) -> None:
        self._entries[key] = (self._clock() + keep_s, _encode(entry))
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def get_many(self, keys: Sequence[str]) -> list[Entry | None]:
        return [await self.get(key) for key in keys]

    async def set_many(self, entries: Sequence[tuple[str, Entry]], keep_s: float) -> None:
        for key, entry in entries:
            await self.set(key, entry, keep_s)

    async def acquire_lock(self, key: str, ttl_s: float) -> str | None:
        now = self._clock()
        held = self._locks.get(key)
        if held is not None and now < held[0]:
            return None
        token = secrets.token_hex(8)
        self._locks[key] = (now + ttl_s, token)
        return token

    async def release_lock(self, key: str, token: str) -> None:
        held = self._locks.get(key)
        if held is not None and held[1] == token:
            del self._locks[key]


class RedisStore:
    """GET / SET PX of JSON bytes under `prefix`; the lock is `SET <key>:lock <token> NX PX`.

    Give it a fast-failing client (`ratelimit.redis_client`): a hung Redis must cost a request
    100 ms, not a default socket timeout.
    """

    def __init__(self, redis: RedisClient, *, prefix: str = "tidegate:cache:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._healthy = True

    async def get(self, key: str) -> Entry | None:
        try:
            raw = await self._redis.get(self._prefix + key)
        except REDIS_FAILURES as exc:
            return self._failed("GET", key, exc, None)
        self._ok()
        return None if raw is None else _decode(key, raw)

    async def set(self, key: str, entry: Entry, keep_s: float) -> None:
        raw = _encode(entry)  # outside the try: a value that will not serialize is the caller's bug
        try:
            await self._redis.set(self._prefix + key, raw, px=_ms(keep_s))
        except REDIS_FAILURES as exc:
            self._failed("SET", key, exc, None)
        else:
            self._ok()

    async def delete(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except REDIS_FAILURES as exc:
            self._failed("DEL", key, exc, None)

    async def get_many(self, keys: Sequence[str]) -> list[Entry | None]:
        if not keys:
            return []
        try:
            names = [self._prefix + key for key in keys]
            # A cluster spreads the keys over slots: one MGET per slot (not atomic; a read need not be).
            raws = await (
                self._redis.mget_nonatomic(names)
                if isinstance(self._redis, RedisCluster)
                else self._redis.mget(names)
            )
        except REDIS_FAILURES as exc:
            return self._failed("MGET", keys[0], exc, [None] * len(keys))
        self._ok()
        return [None if raw is None else _decode(key, raw) for key, raw in zip(keys, raws, strict=True)]

    async def set_many(self, entries: Sequence[tuple[str, Entry]], keep_s: float) -> None:
        if not entries:
            return
        raws = [(self._prefix + key, _encode(entry)) for key, entry in entries]
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, raw in raws:
                    pipe.set(key, raw, px=_ms(keep_s))
                await pipe.execute()
        except REDIS_FAILURES as exc:
            self._failed("SET (pipeline)", entries[0][0], exc, None)
        else:
            self._ok()

    async def acquire_lock(self, key: str, ttl_s: float) -> str | None:
        token = secrets.token_hex(8)
        try:
            taken = await self._redis.set(self._lock_key(key), token, nx=True, px=_ms(ttl_s))
        except REDIS_FAILURES as exc:
            return self._failed("SET NX", key, exc, token)  # cannot coordinate: fetch rather than wait
        self._ok()
        return token if taken else None

    async def release_lock(self, key: str, token: str) -> None:
        try:
            reply = self._redis.eval(_RELEASE_LUA, 1, self._lock_key(key), token)
            await cast("Awaitable[object]", reply)
        except REDIS_FAILURES as exc:
            self._failed("release", key, exc, None)  # the lock's PX frees it

    def _lock_key(self, key: str) -> str:
        return f"{self._prefix}{key}:lock"

    def _failed(self, op: str, key: str, exc: BaseException, result: R) -> R:
        # One warning per outage, not one per request.
        level = logging.WARNING if self._healthy else logging.DEBUG
        self._healthy = False
        logger.log(
            level, "Cache Redis %s %s failed (%s: %s): degrading to a miss", op, key, type(exc).__name__, exc
        )
        return result

    def _ok(self) -> None:
        if not self._healthy:
            self._healthy = True
            logger.info("Cache Redis answers again")


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))
