"""Events between BFF processes: a ticket changed, a screen pop is ready for an agent.

Channels are plain strings (`ticket:<id>`, `customer:<customer no>`, `screenpop:<agent id>`), messages
JSON-able dicts. `MemoryBus` serves one process (the demo, narrow tests); `RedisBus` (pub/sub) serves
several, so a webhook landing on one replica reaches a subscriber on another. Delivery is at most
once and only to subscribers present at publish time: anything that must not be lost is stored
first, and the bus only says "look again".

On a Redis Cluster the bus uses sharded pub/sub (SPUBLISH / SSUBSCRIBE: a message goes to the shard
owning its channel's slot, not to every node), with every channel under one hash tag
(`{tidegate:bus}:ticket:<id>` on the wire), so one connection to one master carries all of this
process's subscriptions as on a single server. The bus's traffic (ticket changes, screen pops) is
small; one slot keeps it simple, and a failover of that slot's master is a lost connection like any
other: the listener asks the cluster client where the slot is now (a keyed command, which refreshes
its slot map) and subscribes there afresh. A slot moved away while we listen (the server's
SUNSUBSCRIBE of a channel we still follow) reads the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from infra.redis_client import REDIS_FAILURES, RedisClient

logger = logging.getLogger("tidegate.pubsub")

SHARD_TAG = "{tidegate:bus}:"  # on a cluster, every channel's wire name starts so: one slot

Message = dict[str, Any]


class EventBus(Protocol):
    async def publish(self, channel: str, message: Message) -> None: ...

    def subscribe(self, *channels: str) -> Subscription:
        """Entered, an async iterator of the messages published on `channels` from then on."""
        ...

    async def aclose(self) -> None: ...


Subscription = AbstractAsyncContextManager[AsyncIterator[Message]]


class FanOut:
    """This process's subscribers: one bounded queue each, registered under every channel it follows.
    Both buses deliver through it; a slow subscriber loses the oldest message, never blocks the sender."""

    def __init__(self, max_queued: int = 1_000) -> None:
        self._max_queued = max_queued
        self._queues: dict[str, set[asyncio.Queue[Message]]] = {}

    def add(self, channels: tuple[str, ...]) -> asyncio.Queue[Message]:
        queue: asyncio.Queue[Message] = asyncio.Queue(self._max_queued)
        for channel in channels:
            self._queues.setdefault(channel, set()).add(queue)
        return queue

    def remove(self, queue: asyncio.Queue[Message], channels: tuple[str, ...]) -> list[str]:
        """Forget `queue`; the channels nobody in this process follows any more."""
        gone = []
        for channel in channels:
            queues = self._queues.get(channel)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._queues[channel]
                    gone.append(channel)
        return gone

    def deliver(self, channel: str, message: Message) -> None:
        for queue in list(self._queues.get(channel, ())):
            if queue.full():
                queue.get_nowait()  # drop the oldest rather than block the publisher
            queue.put_nowait(message)

    def followed(self, channel: str) -> bool:
        return channel in self._queues

    def channels(self) -> list[str]:
        return list(self._queues)

    def count(self, channel: str) -> int:
        return len(self._queues.get(channel, ()))

    def clear(self) -> None:
        self._queues.clear()


class MemoryBus:
    """In-process fan-out: one bounded queue per subscriber; a slow subscriber loses the oldest."""

    def __init__(self, max_queued: int = 1_000) -> None:
        self._local = FanOut(max_queued)

    async def publish(self, channel: str, message: Message) -> None:
        self._local.deliver(channel, message)

    def subscribe(self, *channels: str) -> Subscription:
        return self._subscription(channels)

    def subscribers(self, channel: str) -> int:
        """Subscriptions to `channel` in this process (tests wait on it; the view reports it)."""
        return self._local.count(channel)

    @asynccontextmanager
    async def _subscription(self, channels: tuple[str, ...]) -> AsyncIterator[AsyncIterator[Message]]:
        queue = self._local.add(channels)
        try:
            yield _drain(queue)
        finally:
            self._local.remove(queue, channels)

    async def aclose(self) -> None:
        self._local.clear()


async def _drain(queue: asyncio.Queue[Message]) -> AsyncIterator[Message]:
    while True:
        yield await queue.get()


class RedisBus:
    """Redis pub/sub: one connection carries every subscription of this process, whatever their number.

    A listener task reads that connection and fans messages out to bounded per-subscriber queues (a
    slow subscriber loses the oldest, as with `MemoryBus`). It pings when the line is quiet; a failed
    or silent connection is dropped and made again with backoff, every channel subscribed afresh
    (what was published meanwhile is lost: at most once). `publish` never raises: a failed publish is
    logged, since whoever publishes has stored the change first.
    """

    def __init__(
        self,
        redis: RedisClient,
        *,
        max_queued: int = 1_000,
        heartbeat_s: float = 5.0,
        confirm_s: float = 2.0,
        retry_max_s: float = 2.0,
    ) -> None:
        self._redis = redis
        self._local = FanOut(max_queued)
        self._heartbeat_s = heartbeat_s
        self._confirm_s = confirm_s
        self._retry_max_s = retry_max_s
        # Sharded pub/sub on a cluster (see the module docstring); the wire names carry the one tag.
        self._sharded = isinstance(redis, RedisCluster)
        self._tag = SHARD_TAG if self._sharded else ""
        self._node: Redis | None = None  # on a cluster: the client of the bus slot's master
        # Always subscribed, so the connection is never idle-unsubscribed and pings have a reason to flow.
        self._own = f"tidegate:bus:{uuid.uuid4().hex}"
        self._confirmed: dict[str, asyncio.Event] = {}
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._healthy = True

    async def publish(self, channel: str, message: Message) -> None:
        data = orjson.dumps(message)  # outside the try: a message that will not serialize is a bug
        try:
            if isinstance(self._redis, RedisCluster):
                await self._redis.spublish(self._tag + channel, data)
            else:
                await self._redis.publish(channel, data)
        except REDIS_FAILURES as exc:
            logger.warning("publish on %s failed (%s: %s): message lost", channel, type(exc).__name__, exc)

    def subscribe(self, *channels: str) -> Subscription:
        return self._subscription(channels)

    def subscribers(self, channel: str) -> int:
        return self._local.count(channel)

    @asynccontextmanager
    async def _subscription(self, channels: tuple[str, ...]) -> AsyncIterator[AsyncIterator[Message]]:
        new = [c for c in dict.fromkeys(channels) if not self._local.followed(c)]
        queue = self._local.add(channels)
        try:
            await self._ensure_subscribed(new, channels)
            yield _drain(queue)
        finally:
            gone = self._local.remove(queue, channels)
            for channel in gone:
                self._confirmed.pop(channel, None)
            if gone and self._pubsub is not None:
                with suppress(*REDIS_FAILURES):
                    await self._unsubscribe(self._pubsub, gone)

    async def _ensure_subscribed(self, new: list[str], channels: tuple[str, ...]) -> None:
        """Subscribe to the `new` channels and wait until Redis has confirmed all `channels`, so a publish
        right after entering is received. If Redis is down the listener subscribes every channel when
        it is back; the wait is bounded either way."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="redis-bus-listener")
        events = [self._confirmed.setdefault(c, asyncio.Event()) for c in channels]
        if new and self._pubsub is not None:
            with suppress(*REDIS_FAILURES):
                await self._subscribe(self._pubsub, new)
        with suppress(TimeoutError):
            async with asyncio.timeout(self._confirm_s):
                for event in events:
                    await event.wait()

    async def _listen(self) -> None:
        backoff = 0.05
        while True:
            pubsub: PubSub | None = None
            try:
                pubsub = await self._open()
                wanted = {self._own, *self._local.channels()}
                await self._subscribe(pubsub, wanted)
                self._pubsub = pubsub
                if late := [c for c in self._local.channels() if c not in wanted]:  # added while we waited
                    await self._subscribe(pubsub, late)
                backoff = 0.05
                await self._read(pubsub)
            except REDIS_FAILURES as exc:
                level = logging.WARNING if self._healthy else logging.DEBUG
                self._healthy = False
                logger.log(level, "Redis bus connection lost (%s: %s): reconnecting", type(exc).__name__, exc)
            finally:
                self._pubsub = None
                for event in self._confirmed.values():
                    event.clear()
                await self._close(pubsub)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._retry_max_s)

    async def _read(self, pubsub: PubSub) -> None:
        """Deliver messages until the connection fails or stays silent through three heartbeats."""
        heard = time.monotonic()
        while True:
            message = await pubsub.get_message(timeout=self._heartbeat_s)
            now = time.monotonic()
            if message is None:
                if now - heard > 3 * self._heartbeat_s:
                    raise TimeoutError("no answer to three pings")
                await pubsub.ping()
                continue
            heard = now
            kind, channel = message["type"], self._channel(message.get("channel"))
            if kind in ("subscribe", "ssubscribe") and channel is not None:
                if not self._healthy:
                    self._healthy = True
                    logger.info("Redis bus connected again")
                if (event := self._confirmed.get(channel)) is not None:
                    event.set()
            elif kind in ("message", "smessage") and channel is not None:
                self._deliver(channel, message["data"])
            elif kind == "sunsubscribe" and channel is not None and self._followed(channel):
                # The server dropped a channel we still follow: its slot has moved (resharding).
                raise RedisConnectionError(f"the bus slot moved away from this node ({channel})")

    async def _open(self) -> PubSub:
        """A pub/sub connection: the client's own, or on a cluster one to the bus slot's master. The
        keyed command first routes through the cluster client, which after a failover refreshes its
        slot map (and fails fast while the slot has no master yet): the node it names is current."""
        if not isinstance(self._redis, RedisCluster):
            return self._redis.pubsub()
        await self._redis.spublish(self._tag + self._own, b"{}")
        node = self._redis.get_node_from_key(self._tag + self._own)
        if node is None:
            raise RedisConnectionError("the bus slot has no master")
        kwargs = self._redis.get_connection_kwargs()
        self._node = Redis(
            host=node.host,
            port=int(node.port),
            socket_timeout=kwargs.get("socket_timeout"),
            socket_connect_timeout=kwargs.get("socket_connect_timeout"),
            retry=Retry(NoBackoff(), 0),
        )
        return self._node.pubsub()

    async def _close(self, pubsub: PubSub | None) -> None:
        with suppress(*REDIS_FAILURES):
            if pubsub is not None:
                await pubsub.aclose()
            if self._node is not None:
                await self._node.aclose()
        self._node = None

    async def _subscribe(self, pubsub: PubSub, channels: Iterable[str]) -> None:
        wire = [self._tag + channel for channel in channels]
        await (pubsub.ssubscribe(*wire) if self._sharded else pubsub.subscribe(*wire))

    async def _unsubscribe(self, pubsub: PubSub, channels: list[str]) -> None:
        wire = [self._tag + channel for channel in channels]
        await (pubsub.sunsubscribe(*wire) if self._sharded else pubsub.unsubscribe(*wire))

    def _channel(self, wire: object) -> str | None:
        """The channel's name without the wire's tag."""
        text = _text(wire)
        if text is None or not text.startswith(self._tag):
            return None
        return text[len(self._tag) :]

    def _followed(self, channel: str) -> bool:
        return channel == self._own or self._local.followed(channel)

    def _deliver(self, channel: str, data: bytes | str) -> None:
        try:
            decoded = orjson.loads(data)
        except orjson.JSONDecodeError:
            decoded = None
        if not isinstance(decoded, dict):
            logger.warning("dropped a message on %s that is not a JSON object", channel)
            return
        self._local.deliver(channel, decoded)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
        self._local.clear()
        self._confirmed.clear()


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode()
    return value if isinstance(value, str) else None
