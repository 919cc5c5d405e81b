"""Which CTI events were already used and which calls already ended: the `CtiEventStore` protocol, an
in-process `MemoryCtiEventStore` and a shared `RedisCtiEventStore`, with the same semantics (one
contract suite runs against both).

A signed CTI event is good for one use only. `admit` is one atomic step that remembers the event's
id (a second use of it is `REPLAYED`), then refuses any event of a call that has ended
(`CALL_ENDED`), and remembers the call as ended when the event is its end. On Redis that step is one
Lua script, so a replayed RINGING posted to one replica while the CALL_ENDED lands on another cannot
slip between a check and a write.

Ids are kept for `seen_ttl_s`: at least the span in which the signature check still accepts the
event's timestamp (after that the timestamp refuses it). Ended calls are kept for `ended_ttl_s`.
A store that cannot answer raises `CtiEventStoreUnavailable`: the endpoint answers 503 and the CTI
retries, rather than acting on an event it could not check.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Protocol, cast

from infra.errors import StoreUnavailable
from infra.redis_client import REDIS_FAILURES, RedisClient

MAX_ENTRIES = 100_000


class Admission(StrEnum):
    ADMITTED = "admitted"  # first use of the id, and the call has not ended
    REPLAYED = "replayed"  # the id was used before: nothing changed
    CALL_ENDED = "call_ended"  # the call had ended already (the id is now used up too)


class CtiEventStoreUnavailable(StoreUnavailable):
    def __init__(self, message: str) -> None:
        super().__init__("cti-events", message)


class CtiEventStore(Protocol):
    async def admit(self, event_id: str, call_id: str, *, ends_call: bool) -> Admission:
        """Use up `event_id`; refuse events of ended calls; remember the call ended if `ends_call`."""


class MemoryCtiEventStore:
    """One process's seen ids and ended calls (the default without Redis), bounded and expiring."""

    def __init__(
        self,
        *,
        seen_ttl_s: float,
        ended_ttl_s: float,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._seen_ttl_s = seen_ttl_s
        self._ended_ttl_s = ended_ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # event id -> expires
        self._ended: OrderedDict[str, float] = OrderedDict()  # call id -> expires

    async def admit(self, event_id: str, call_id: str, *, ends_call: bool) -> Admission:
        now = self._clock()  # no await from here on: the checks and the writes are one step
        for table in (self._seen, self._ended):
            _expire(table, now)
        if event_id in self._seen:
            return Admission.REPLAYED
        self._remember(self._seen, event_id, now + self._seen_ttl_s)
        if call_id in self._ended:
            return Admission.CALL_ENDED
        if ends_call:
            self._remember(self._ended, call_id, now + self._ended_ttl_s)
        return Admission.ADMITTED

    def _remember(self, table: OrderedDict[str, float], key: str, expires: float) -> None:
        table[key] = expires
        table.move_to_end(key)
        while len(table) > self._max_entries:
            table.popitem(last=False)


def _expire(table: OrderedDict[str, float], now: float) -> None:
    """Entries of one table share one TTL, so they expire in the order they came: drop the oldest."""
    while table and next(iter(table.values())) <= now:
        table.popitem(last=False)


# KEYS[1]: the event's seen-marker, KEYS[2]: the call's ended-marker. Both carry the call id as their
# hash tag (`<prefix>{<call>}:seen:<event>`, `<prefix>{<call>}:ended`), so on a Redis Cluster they
# share a slot: an event belongs to one call, and a replay carries the same call as the original.
# ARGV: seen TTL (ms), ended TTL (ms), '1' when the event ends the call.
_LUA = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 'replayed' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'call_ended' end
if ARGV[3] == '1' then redis.call('SET', KEYS[2], '1', 'PX', ARGV[2]) end
return 'admitted'
"""


class RedisCtiEventStore:
    """Seen ids and ended calls shared by every replica; give it a fast-failing `ratelimit.redis_client`."""

    def __init__(
        self, redis: RedisClient, *, seen_ttl_s: float, ended_ttl_s: float, prefix: str = "tidegate:cti:"
    ) -> None:
        self._seen_ms = _ms(seen_ttl_s)
        self._ended_ms = _ms(ended_ttl_s)
        self._prefix = prefix
        self._script = redis.register_script(_LUA)

    async def admit(self, event_id: str, call_id: str, *, ends_call: bool) -> Admission:
        call = f"{self._prefix}{{{call_id}}}"
        keys = [f"{call}:seen:{event_id}", f"{call}:ended"]
        args = [self._seen_ms, self._ended_ms, "1" if ends_call else "0"]
        try:
            reply = await cast("Awaitable[Any]", self._script(keys=keys, args=args))
        except REDIS_FAILURES as exc:
            raise CtiEventStoreUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc
        return Admission(reply.decode() if isinstance(reply, bytes) else reply)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
