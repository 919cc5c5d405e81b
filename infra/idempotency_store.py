"""Where idempotency records live: the `IdempotencyStore` protocol, an in-process `MemoryIdempotencyStore`
and a shared `RedisIdempotencyStore`, with the same semantics (one contract suite runs against both).

A record is one key's story: `running` (an attempt holds it until its lease ends), `uncertain` (the
write failed in a way that may still have landed: look again once it has settled), `done` (the
answer, replayed for the rest of the TTL). Every transition is one atomic step: `claim` decides
"yours / replay / busy / wrong input" in a single compare-and-set (a Lua script on Redis's clock, so
replicas agree on leases), and `complete`, `doubt` and `abandon` only act for the token's holder.

Unlike the cache, a store that cannot answer raises (`IdempotencyStoreUnavailable`): a write whose
duplicates cannot be ruled out is refused, never sent on a guess.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol, cast

import orjson

from infra.errors import StoreUnavailable
from infra.redis_client import REDIS_FAILURES, RedisClient


class Outcome(StrEnum):
    STARTED = "started"  # the caller holds the key now: do the work
    DONE = "done"  # answered before: replay `response`
    RUNNING = "running"  # another attempt holds the key
    UNCERTAIN = "uncertain"  # an earlier attempt may have landed: wait `wait_s`, then reconcile
    REUSED = "reused"  # the key was first used with a different input


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: Outcome
    token: str | None = None  # STARTED: proof of holding the key for complete/doubt/abandon
    reconcile: bool = False  # STARTED after an attempt in doubt (or one that died): look before writing
    response: Any = None  # DONE: what `complete` stored
    wait_s: float = 0.0  # RUNNING / UNCERTAIN: how long until asking again is worth it


class IdempotencyStoreUnavailable(StoreUnavailable):
    retry_after_s = 1.0

    def __init__(self, message: str) -> None:
        super().__init__("idempotency", message)


class IdempotencyStore(Protocol):
    async def claim(self, key: str, fingerprint: str, *, lease_s: float, ttl_s: float) -> Claim:
        """Take `key` for a new attempt, or say why not."""

    async def complete(self, key: str, token: str, response: Any, *, ttl_s: float) -> bool:
        """Store the answer (JSON-able) for replay; False when `token` no longer holds the key."""

    async def doubt(self, key: str, token: str, *, settle_s: float, ttl_s: float) -> bool:
        """Mark the key uncertain: nobody may take it for `settle_s`, then the next taker reconciles."""

    async def abandon(self, key: str, token: str) -> bool:
        """Forget the key: the attempt changed nothing, so the next one starts afresh."""


@dataclass(frozen=True, slots=True)
class _Record:
    state: str
    fingerprint: str
    token: str
    until: float  # epoch s: a running lease's end, or when an uncertain attempt has settled
    response: bytes = b""


class MemoryIdempotencyStore:
    """One process's records (the embedded default): a dict with expiry, oldest dropped past `max_entries`."""

    def __init__(self, max_entries: int = 100_000, *, clock: Callable[[], float] = time.time) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self._max_entries = max_entries
        self._clock = clock
        self._records: OrderedDict[str, tuple[float, _Record]] = OrderedDict()  # key -> (expires, record)

    def __len__(self) -> int:
        return len(self._records)

    async def claim(self, key: str, fingerprint: str, *, lease_s: float, ttl_s: float) -> Claim:
        now = self._clock()
        record = self._get(key, now)
        token = secrets.token_hex(16)
        if record is None:
            self._put(key, _Record("running", fingerprint, token, now + lease_s), now + ttl_s)
            return Claim(Outcome.STARTED, token)
        if record.fingerprint != fingerprint:
            return Claim(Outcome.REUSED)
        if record.state == "done":
            return Claim(Outcome.DONE, response=orjson.loads(record.response))
        if record.until > now:
            return Claim(Outcome(record.state), wait_s=record.until - now)
        self._put(key, replace(record, state="running", token=token, until=now + lease_s), now + ttl_s)
        return Claim(Outcome.STARTED, token, reconcile=True)

    async def complete(self, key: str, token: str, response: Any, *, ttl_s: float) -> bool:
        now = self._clock()
        record = self._held(key, token, now)
        if record is None:
            return False
        self._put(key, replace(record, state="done", token="", response=orjson.dumps(response)), now + ttl_s)
        return True

    async def doubt(self, key: str, token: str, *, settle_s: float, ttl_s: float) -> bool:
        now = self._clock()
        record = self._held(key, token, now)
        if record is None:
            return False
        self._put(key, replace(record, state="uncertain", token="", until=now + settle_s), now + ttl_s)
        return True

    async def abandon(self, key: str, token: str) -> bool:
        if self._held(key, token, self._clock()) is None:
            return False
        del self._records[key]
        return True

    def _get(self, key: str, now: float) -> _Record | None:
        found = self._records.get(key)
        if found is None:
            return None
        if now >= found[0]:
            del self._records[key]
            return None
        return found[1]

    def _held(self, key: str, token: str, now: float) -> _Record | None:
        record = self._get(key, now)
        return record if record is not None and record.state == "running" and record.token == token else None

    def _put(self, key: str, record: _Record, expires: float) -> None:
        self._records[key] = (expires, record)
        self._records.move_to_end(key)
        while len(self._records) > self._max_entries:
            self._records.popitem(last=False)


# One script, four transitions, on Redis's clock (TIME): replicas never compare their own clocks.
# ARGV[1] is the operation; a record is a hash {state, fp, token, until (ms), response}.
_LUA = """
local op = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', KEYS[1], 'state')
if op == 'claim' then
  local fp, token, lease, ttl = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
  if not state then
    redis.call('HSET', KEYS[1], 'state', 'running', 'fp', fp, 'token', token, 'until', now + lease)
    redis.call('PEXPIRE', KEYS[1], ttl)
    return {'started', '0', ''}
  end
  if redis.call('HGET', KEYS[1], 'fp') ~= fp then return {'reused', '0', ''} end
  if state == 'done' then return {'done', '0', redis.call('HGET', KEYS[1], 'response')} end
  local untl = tonumber(redis.call('HGET', KEYS[1], 'until'))
  if untl > now then return {state, string.format('%.0f', untl - now), ''} end
  redis.call('HSET', KEYS[1], 'state', 'running', 'token', token, 'until', now + lease)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {'started', '1', ''}
end
if state ~= 'running' or redis.call('HGET', KEYS[1], 'token') ~= ARGV[2] then return 0 end
if op == 'complete' then
  redis.call('HSET', KEYS[1], 'state', 'done', 'token', '', 'response', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
elseif op == 'doubt' then
  redis.call('HSET', KEYS[1], 'state', 'uncertain', 'token', '', 'until', now + tonumber(ARGV[3]))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
else
  redis.call('DEL', KEYS[1])
end
return 1
"""


class RedisIdempotencyStore:
    """Records shared by every replica, as hashes under `prefix`; give it a fast-failing client
    (`ratelimit.redis_client`), since a hung Redis must cost a write 100 ms, not a socket timeout."""

    def __init__(self, redis: RedisClient, *, prefix: str = "tidegate:idem:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_LUA)

    async def claim(self, key: str, fingerprint: str, *, lease_s: float, ttl_s: float) -> Claim:
        token = secrets.token_hex(16)
        reply = await self._run(key, "claim", fingerprint, token, _ms(lease_s), _ms(ttl_s))
        outcome, number, body = (_text(part) for part in cast("list[bytes | str]", reply))
        if outcome == Outcome.STARTED:
            return Claim(Outcome.STARTED, token, reconcile=number == "1")
        if outcome == Outcome.DONE:
            return Claim(Outcome.DONE, response=orjson.loads(body))
        return Claim(Outcome(outcome), wait_s=int(number) / 1000)

    async def complete(self, key: str, token: str, response: Any, *, ttl_s: float) -> bool:
        body = orjson.dumps(response)  # outside the try: a value that will not serialize is our bug
        return bool(await self._run(key, "complete", token, body, _ms(ttl_s)))

    async def doubt(self, key: str, token: str, *, settle_s: float, ttl_s: float) -> bool:
        return bool(await self._run(key, "doubt", token, _ms(settle_s), _ms(ttl_s)))

    async def abandon(self, key: str, token: str) -> bool:
        return bool(await self._run(key, "abandon", token))

    async def _run(self, key: str, *args: str | bytes | int) -> Any:
        try:
            return await cast("Awaitable[Any]", self._script(keys=[self._prefix + key], args=list(args)))
        except REDIS_FAILURES as exc:
            raise IdempotencyStoreUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc


def _text(part: bytes | str) -> str:
    return part.decode() if isinstance(part, bytes) else part


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
