"""Where pushed ticket states live: the `TicketStateStore` protocol, an in-process `MemoryTicketStateStore`
and a shared `RedisTicketStateStore`, with the same semantics (one contract suite runs against both).

The work-order system pushes status changes at least once, in any order. `apply` is one atomic step
that remembers the delivery's id (a second delivery of it is a `DUPLICATE`) and keeps the change only
if its sequence number is newer than the one stored for the ticket (else `STALE`): arrival order
never decides, the vendor's own per-order sequence does. On Redis that step is one Lua script, so
replicas receiving deliveries of the same ticket at once still agree.

A store that cannot answer raises `TicketStateStoreUnavailable`: the webhook then answers 503 and
the sender retries, rather than acknowledging a change that was never kept.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, cast

import orjson

from domain.enums import TicketStatus
from domain.records import TicketStatusChange
from domain.timestamps import SHANGHAI
from infra.errors import StoreUnavailable
from infra.redis_client import REDIS_FAILURES, RedisClient

MAX_ENTRIES = 100_000


def _local_from_ms(ms: int) -> datetime:
    """The store's own encoding (epoch ms) back to the local zone the domain shows."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(SHANGHAI)


class ApplyOutcome(StrEnum):
    APPLIED = "applied"  # the newest state now
    DUPLICATE = "duplicate"  # this delivery was seen before: nothing changed
    STALE = "stale"  # a newer (or the same) sequence is already stored: nothing changed


class TicketStateStoreUnavailable(StoreUnavailable):
    def __init__(self, message: str) -> None:
        super().__init__("ticket-states", message)


class TicketStateStore(Protocol):
    async def apply(self, change: TicketStatusChange) -> ApplyOutcome:
        """Remember `change.event_id` and keep `change` if it is newer than the ticket's stored state."""

    async def get_many(self, ticket_ids: list[str]) -> dict[str, TicketStatusChange]:
        """The stored state of each ticket that has one."""


def encode(change: TicketStatusChange) -> bytes:
    return orjson.dumps(
        {
            "ticketId": change.ticket_id,
            "customerNo": change.customer_no,
            "status": change.status.value,
            "sequence": change.sequence,
            "changedAtMs": round(change.changed_at.timestamp() * 1000),
            "eventId": change.event_id,
        }
    )


def decode(raw: bytes | str) -> TicketStatusChange:
    doc: dict[str, Any] = orjson.loads(raw)
    try:
        status = TicketStatus(doc["status"])
    except ValueError:  # stored by a release that knew a status this one does not
        status = TicketStatus.UNKNOWN
    return TicketStatusChange(
        ticket_id=doc["ticketId"],
        customer_no=doc["customerNo"],
        status=status,
        sequence=int(doc["sequence"]),
        changed_at=_local_from_ms(doc["changedAtMs"]),
        event_id=doc["eventId"],
    )


class MemoryTicketStateStore:
    """One process's states and seen ids (the embedded default), each bounded and expiring."""

    def __init__(
        self,
        *,
        dedupe_ttl_s: float,
        state_ttl_s: float,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dedupe_ttl_s = dedupe_ttl_s
        self._state_ttl_s = state_ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # event id -> expires
        self._states: OrderedDict[str, tuple[float, TicketStatusChange]] = OrderedDict()

    async def apply(self, change: TicketStatusChange) -> ApplyOutcome:
        now = self._clock()  # no await from here on: the check and the write are one step
        self._expire(now)
        if change.event_id in self._seen:
            return ApplyOutcome.DUPLICATE
        self._remember(self._seen, change.event_id, now + self._dedupe_ttl_s)
        current = self._current(change.ticket_id, now)
        if current is not None and current.sequence >= change.sequence:
            return ApplyOutcome.STALE
        self._remember(self._states, change.ticket_id, (now + self._state_ttl_s, change))
        return ApplyOutcome.APPLIED

    async def get_many(self, ticket_ids: list[str]) -> dict[str, TicketStatusChange]:
        now = self._clock()
        return {t: found for t in ticket_ids if (found := self._current(t, now)) is not None}

    def _current(self, ticket_id: str, now: float) -> TicketStatusChange | None:
        entry = self._states.get(ticket_id)
        return entry[1] if entry is not None and entry[0] > now else None

    def _expire(self, now: float) -> None:
        """Seen ids expire in the order they came (one TTL for all): drop from the oldest end."""
        while self._seen and next(iter(self._seen.values())) <= now:
            self._seen.popitem(last=False)

    def _remember(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self._max_entries:
            table.popitem(last=False)


# KEYS[1]: the delivery's seen-marker, KEYS[2]: the ticket's state hash {seq, record}. Both carry the
# ticket id as their hash tag (`<prefix>{<ticket>}:seen:<event>`, `<prefix>{<ticket>}:state`), so on a
# Redis Cluster they share a slot: a delivery's id names a change of one ticket.
# ARGV: sequence, record, dedupe TTL (ms), state TTL (ms).
_LUA = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[3]) then return 'duplicate' end
local stored = redis.call('HGET', KEYS[2], 'seq')
if stored and tonumber(stored) >= tonumber(ARGV[1]) then return 'stale' end
redis.call('HSET', KEYS[2], 'seq', ARGV[1], 'record', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 'applied'
"""


class RedisTicketStateStore:
    """States and seen ids shared by every replica; give it a fast-failing `ratelimit.redis_client`."""

    def __init__(
        self,
        redis: RedisClient,
        *,
        dedupe_ttl_s: float,
        state_ttl_s: float,
        prefix: str = "tidegate:tickets:",
    ) -> None:
        self._redis = redis
        self._dedupe_ms = _ms(dedupe_ttl_s)
        self._state_ms = _ms(state_ttl_s)
        self._prefix = prefix
        self._script = redis.register_script(_LUA)

    async def apply(self, change: TicketStatusChange) -> ApplyOutcome:
        ticket = self._ticket(change.ticket_id)
        keys = [f"{ticket}:seen:{change.event_id}", f"{ticket}:state"]
        args: list[int | bytes] = [change.sequence, encode(change), self._dedupe_ms, self._state_ms]
        try:
            reply = await cast("Awaitable[Any]", self._script(keys=keys, args=args))
        except REDIS_FAILURES as exc:
            raise TicketStateStoreUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc
        return ApplyOutcome(reply.decode() if isinstance(reply, bytes) else reply)

    async def get_many(self, ticket_ids: list[str]) -> dict[str, TicketStatusChange]:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for ticket_id in ticket_ids:
                    pipe.hget(f"{self._ticket(ticket_id)}:state", "record")  # a cluster splits it by node
                replies: Sequence[bytes | None] = await pipe.execute()
        except REDIS_FAILURES as exc:
            raise TicketStateStoreUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc
        return {t: decode(raw) for t, raw in zip(ticket_ids, replies, strict=True) if raw is not None}

    def _ticket(self, ticket_id: str) -> str:
        return f"{self._prefix}{{{ticket_id}}}"


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
