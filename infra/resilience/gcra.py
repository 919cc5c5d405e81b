"""GCRA (generic cell rate algorithm): one timestamp per bucket, several buckets checked all or nothing.

Each bucket stores its theoretical arrival time (TAT). A request of `cost` pushes the TAT forward by
`interval * cost` and is admitted if the pushed TAT stays within `tolerance = interval * burst` of
now: from idle, `burst` requests pass at once, then one per interval. A request names several
buckets (global, per client, per operation class); if any would refuse, none moves, so a refused
request is charged nowhere and the answer carries the longest wait.

Two implementations of the same arithmetic: `LocalGcra` (a dict, one process) and `RedisGcra`
(one Lua script on Redis's clock, shared by every replica). Times are integer microseconds on both
sides: Lua numbers are doubles, exact for integers up to 2**53 µs (285 years), so nothing drifts.

Both can also be `charge`d: a bucket's TAT pushed forward by admissions decided elsewhere, without
a check (they happened already). That is how a replica back from its local fallback hands the
shared buckets what it admitted alone; `LocalGcra.unreported` is the ledger of what it still owes.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from redis.exceptions import NoScriptError

from infra.redis_client import RedisClient

_US = 1_000_000
NEVER = -1  # retry-after sentinel: the cost exceeds a bucket's burst, waiting will not help


@dataclass(frozen=True, slots=True)
class Limit:
    """A sustained rate and how many requests may arrive at once on top of it."""

    rate_per_s: float
    burst: int
    # Worked out once here: every admission and backend call reads both, for each of its buckets.
    interval_us: int = field(init=False, compare=False)  # the time one unit of cost occupies
    tolerance_us: int = field(init=False, compare=False)  # how far past now a TAT may run: `burst` units

    def __post_init__(self) -> None:
        if not self.rate_per_s > 0 or math.isinf(self.rate_per_s):
            raise ValueError(f"rate_per_s must be a positive finite number, not {self.rate_per_s}")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, not {self.burst}")
        interval = max(1, round(_US / self.rate_per_s))
        object.__setattr__(self, "interval_us", interval)
        object.__setattr__(self, "tolerance_us", interval * self.burst)

    def share(self, replicas: int) -> Limit:
        """One replica's part when replicas cannot coordinate: the fleet stays at or under the
        whole (burst rounds down), and no replica is ever shut (burst at least 1)."""
        return Limit(self.rate_per_s / replicas, max(1, self.burst // replicas))


@dataclass(frozen=True, slots=True)
class Bucket:
    """A limit applied to a key such as `rl:global`, `rl:client:<sub>`, `rl:class:critical`."""

    key: str
    limit: Limit


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one request.

    `retry_after_s` is 0 when allowed, `math.inf` when the cost can never fit a bucket's burst.
    `remaining` is what each bucket could still take now (after this request, if it was allowed).
    `shared` says whether Redis decided for the whole fleet or this process decided alone.
    """

    allowed: bool
    retry_after_s: float
    remaining: Mapping[str, int]
    shared: bool


def check(
    now_us: int, tats: Sequence[int | None], limits: Sequence[Limit], cost: int
) -> tuple[bool, int, list[int], list[int]]:
    """The algorithm, pure: (allowed, retry_after_us or NEVER, remaining, new TATs to store).

    `GCRA_LUA` below is this function line for line; keep them in step.
    """
    retry_us = 0
    never = False
    remaining: list[int] = []
    new_tats: list[int] = []
    for stored, limit in zip(tats, limits, strict=True):
        interval, tolerance = limit.interval_us, limit.tolerance_us
        tat = now_us if stored is None else max(stored, now_us)
        remaining.append(max(0, (now_us - tat + tolerance) // interval))
        new_tat = tat + interval * cost
        new_tats.append(new_tat)
        if interval * cost > tolerance:
            never = True
        elif new_tat - tolerance > now_us:
            retry_us = max(retry_us, new_tat - tolerance - now_us)
    if never:
        return False, NEVER, remaining, new_tats
    if retry_us > 0:
        return False, retry_us, remaining, new_tats
    return True, 0, [left - cost for left in remaining], new_tats


def charged(now_us: int, stored: int | None, owed_us: int) -> int:
    """A bucket's TAT after a charge of `owed_us`: pushed from now (or its TAT, if later), never
    refused. `CHARGE_LUA` below is this function line for line."""
    return (now_us if stored is None else max(stored, now_us)) + owed_us


def _validate(buckets: Sequence[Bucket], cost: int) -> None:
    if cost < 1:
        raise ValueError(f"cost must be at least 1, not {cost}")
    keys = [bucket.key for bucket in buckets]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a bucket key appears twice: {keys}")


def _decision(
    buckets: Sequence[Bucket], allowed: bool, retry_us: int, remaining: Sequence[int], shared: bool
) -> Decision:
    retry_after_s = math.inf if retry_us == NEVER else retry_us / _US
    left = {bucket.key: int(n) for bucket, n in zip(buckets, remaining, strict=True)}
    return Decision(allowed=allowed, retry_after_s=retry_after_s, remaining=left, shared=shared)


class LocalGcra:
    """The arithmetic in one process: for a BFF without Redis, and for one that has lost it."""

    _SWEEP_EVERY = 4096

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tats: dict[str, int] = {}
        self._reported: dict[str, int] = {}  # per key, the TAT up to which `mark_reported` was told
        self._calls = 0

    def acquire(self, buckets: Sequence[Bucket], cost: int = 1) -> Decision:
        _validate(buckets, cost)
        now_us = round(self._clock() * _US)
        tats = self._tats
        admitted = self._admitted(buckets, now_us, cost)
        if admitted is None:  # some bucket refuses (or never fits): `check` says how long to wait
            stored = [tats.get(bucket.key) for bucket in buckets]
            limits = [bucket.limit for bucket in buckets]
            _, retry_us, remaining, _ = check(now_us, stored, limits, cost)
            decision = _decision(buckets, False, retry_us, remaining, shared=False)
        else:
            decision = admitted
        self._calls += 1
        if self._calls % self._SWEEP_EVERY == 0:
            self._sweep(now_us)
        return decision

    def _admitted(self, buckets: Sequence[Bucket], now_us: int, cost: int) -> Decision | None:
        """`check` for a request every bucket admits, its new TATs stored: the common case, in one
        pass with no intermediate lists (about half of `acquire`'s cost on the request path, which
        asks twice per screen pop). None, and nothing stored, when any bucket would refuse.
        `tests/infra/test_ratelimit.py` holds its decisions to `check`'s."""
        tats = self._tats
        remaining: dict[str, int] = {}
        new_tats: list[int] = []
        for bucket in buckets:
            limit = bucket.limit
            interval, tolerance = limit.interval_us, limit.tolerance_us
            stored = tats.get(bucket.key)
            tat = now_us if stored is None or stored < now_us else stored
            new_tat = tat + interval * cost
            if interval * cost > tolerance or new_tat - tolerance > now_us:
                return None
            left = (now_us - tat + tolerance) // interval
            remaining[bucket.key] = (left if left > 0 else 0) - cost
            new_tats.append(new_tat)
        for bucket, new_tat in zip(buckets, new_tats, strict=True):
            tats[bucket.key] = new_tat
        return Decision(True, 0.0, remaining, False)

    def charge(self, owed: Mapping[str, int]) -> None:
        """Push each key's TAT forward by the µs owed (admissions made elsewhere), unchecked."""
        now_us = round(self._clock() * _US)
        for key, owed_us in owed.items():
            self._tats[key] = charged(now_us, self._tats.get(key), owed_us)

    def unreported(self) -> dict[str, tuple[int, int]]:
        """Per key: (its TAT now, the µs of it not yet reported). What still weighs on a bucket is
        its TAT minus now; of that, what lies past the last reported TAT is news. An admission whose
        time has passed weighs nothing, reported or not."""
        now_us = round(self._clock() * _US)
        out: dict[str, tuple[int, int]] = {}
        for key, tat in self._tats.items():
            since = max(now_us, self._reported.get(key, now_us))
            if tat > since:
                out[key] = (tat, tat - since)
        return out

    def mark_reported(self, tats: Mapping[str, int]) -> None:
        """The shared side has been charged for these keys up to these TATs (from `unreported`)."""
        for key, tat in tats.items():
            self._reported[key] = max(tat, self._reported.get(key, tat))

    def _sweep(self, now_us: int) -> None:
        """Forget buckets whose TAT has passed (they read as idle anyway): PEXPIRE's counterpart,
        so per-client keys do not pile up for the life of the process."""
        self._tats = {key: tat for key, tat in self._tats.items() if tat > now_us}
        self._reported = {key: tat for key, tat in self._reported.items() if tat > now_us}


# KEYS[i]  bucket key i (in Redis Cluster all keys of one call must share a hash slot: `RedisGcra`
#          puts every bucket under one hash tag, see its docstring)
# ARGV[1]  cost (integer units)
# ARGV[2i], ARGV[2i+1]  emission interval and burst tolerance of KEYS[i], integer microseconds
# Reply    {allowed 1|0, retry_after_us (-1: never fits), remaining_1, ..., remaining_n}
# Writes   only when allowed: SET KEYS[i] <new TAT µs> PX <ms until that TAT>, for every i
GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1])
local retry = 0
local never = false
local remaining = {}
local new_tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local tolerance = tonumber(ARGV[2 * i + 1])
  local tat = now
  local stored = redis.call('GET', KEYS[i])
  if stored then tat = math.max(tonumber(stored), now) end
  remaining[i] = math.max(0, math.floor((now - tat + tolerance) / interval))
  local new_tat = tat + interval * cost
  new_tats[i] = new_tat
  if interval * cost > tolerance then
    never = true
  elseif new_tat - tolerance > now then
    retry = math.max(retry, new_tat - tolerance - now)
  end
end
if never then retry = -1 end
if never or retry > 0 then
  return {0, retry, unpack(remaining)}
end
for i = 1, #KEYS do
  local ttl_ms = math.max(1, math.ceil((new_tats[i] - now) / 1000))
  redis.call('SET', KEYS[i], string.format('%.0f', new_tats[i]), 'PX', ttl_ms)
  remaining[i] = remaining[i] - cost
end
return {1, 0, unpack(remaining)}
"""
GCRA_SHA = hashlib.sha1(GCRA_LUA.encode()).hexdigest()

# KEYS[i]  bucket key i;  ARGV[i]  µs to push its TAT forward (admissions already made elsewhere)
# Reply    how many keys were charged;  with no keys, a round trip that proves Redis answers
CHARGE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 1, #KEYS do
  local tat = now
  local stored = redis.call('GET', KEYS[i])
  if stored then tat = math.max(tonumber(stored), now) end
  local new_tat = tat + tonumber(ARGV[i])
  local ttl_ms = math.max(1, math.ceil((new_tat - now) / 1000))
  redis.call('SET', KEYS[i], string.format('%.0f', new_tat), 'PX', ttl_ms)
end
return #KEYS
"""


class RedisGcra:
    """The arithmetic as one atomic Lua script, so every replica draws on the same buckets and
    all of them read one clock (Redis's TIME, never ours: replica clocks disagree).

    Each bucket is stored as `prefix + key`, and the prefix holds a hash tag (`tidegate:{rl}:`): on a
    Redis Cluster a script's keys must share a slot, and a request's buckets (global, client, class)
    are checked in one script, as a charge's are. The global bucket is in every request anyway, so
    one slot for all of them costs no spread that was there to have."""

    _CHARGE_BATCH = 512  # keys per charge call: each key is a GET and a SET inside one script

    def __init__(self, client: RedisClient, *, prefix: str = "tidegate:{rl}:") -> None:
        self._client = client
        self._prefix = prefix
        self._loads = 0
        self._load_lock = asyncio.Lock()

    async def load(self) -> None:
        """SCRIPT LOAD at start-up, so the first requests do not wait for it (optional)."""
        await self._load(self._loads)

    async def acquire(self, buckets: Sequence[Bucket], cost: int = 1) -> Decision:
        _validate(buckets, cost)
        if not buckets:
            return Decision(allowed=True, retry_after_s=0.0, remaining={}, shared=True)
        keys = [self._prefix + bucket.key for bucket in buckets]
        args: list[int] = [cost]
        for bucket in buckets:
            args += [bucket.limit.interval_us, bucket.limit.tolerance_us]
        reply = await self._evalsha(keys, args)
        return _decision(buckets, reply[0] == 1, reply[1], reply[2:], shared=True)

    async def charge(self, owed: Mapping[str, int]) -> None:
        """Push each key's TAT forward by the µs owed, in batches of `_CHARGE_BATCH` keys. Plain EVAL:
        a charge happens once per return from fallback, not worth a second cached script. With
        nothing owed it still makes one round trip, so a charge that returns means Redis answers: a
        charge of 0 to `probe`, a key in the buckets' slot, so on a cluster it is their master that
        answered."""
        items = list(owed.items()) or [("probe", 0)]
        for start in range(0, len(items), self._CHARGE_BATCH):
            batch = items[start : start + self._CHARGE_BATCH]
            keys, values = [self._prefix + key for key, _ in batch], [value for _, value in batch]
            await cast("Awaitable[int]", self._client.eval(CHARGE_LUA, len(keys), *keys, *values))

    async def _evalsha(self, keys: list[str], args: list[int]) -> list[int]:
        seen = self._loads
        if seen == 0:
            await self._load(seen)
            seen = self._loads
        try:
            return await self._call(keys, args)
        except NoScriptError:  # Redis restarted or SCRIPT FLUSH: its cache is gone, our script is not
            await self._load(seen)
            return await self._call(keys, args)

    async def _call(self, keys: list[str], args: list[int]) -> list[int]:
        reply = self._client.evalsha(GCRA_SHA, len(keys), *keys, *args)
        return await cast("Awaitable[list[int]]", reply)

    async def _load(self, seen: int) -> None:
        """SCRIPT LOAD once per loss of the script cache, however many requests noticed the loss."""
        async with self._load_lock:
            if self._loads == seen:
                await cast("Awaitable[object]", self._client.script_load(GCRA_LUA))
                self._loads += 1
