"""Events between BFF processes: a ticket changed, a screen pop is ready for an agent.

Channels are plain strings (`ticket:<id>`, `customer:<customer no>`, `screenpop:<agent id>`), messages
JSON-able dicts. `MemoryBus` serves one process (the demo, narrow tests); `RedisBus` (pub/sub) serves
several, so a webhook landing on one replica reaches a subscriber on another. Delivery is at most
once and only to subscribers present at publish time: anything that must not be lost is stored
first, and the bus only says "look again".
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any, Protocol

import orjson
from redis.asyncio.client import PubSub

from infra.redis_client import REDIS_FAILURES, RedisClient

logger = logging.getLogger("tidegate.pubsub")

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
        # Always subscribed, so the connection is never idle-unsubscribed and pings have a reason to flow.
        self._own = f"tidegate:bus:{uuid.uuid4().hex}"
        self._confirmed: dict[str, asyncio.Event] = {}
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._healthy = True

    async def publish(self, channel: str, message: Message) -> None:
        data = orjson.dumps(message)  # outside the try: a message that will not serialize is a bug
        try:
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
                    await self._pubsub.unsubscribe(*gone)

    async def _ensure_subscribed(self, new: list[str], channels: tuple[str, ...]) -> None:
        """Subscribe to the `new` channels and wait until Redis has confirmed all `channels`, so a publish
        right after entering is received. If Redis is down the listener subscribes every channel when
        it is back; the wait is bounded either way."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="redis-bus-listener")
        events = [self._confirmed.setdefault(c, asyncio.Event()) for c in channels]
        if new and self._pubsub is not None:
            with suppress(*REDIS_FAILURES):
                await self._pubsub.subscribe(*new)
        with suppress(TimeoutError):
            async with asyncio.timeout(self._confirm_s):
                for event in events:
                    await event.wait()

    async def _listen(self) -> None:
        backoff = 0.05
        while True:
            pubsub = self._redis.pubsub()
            try:
                wanted = {self._own, *self._local.channels()}
                await pubsub.subscribe(*wanted)
                self._pubsub = pubsub
                if late := [c for c in self._local.channels() if c not in wanted]:  # added while we waited
                    await pubsub.subscribe(*late)
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
                with suppress(*REDIS_FAILURES):
                    await pubsub.aclose()
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
            kind, channel = message["type"], _text(message.get("channel"))
            if kind == "subscribe" and channel is not None:
                if not self._healthy:
                    self._healthy = True
                    logger.info("Redis bus connected again")
                if (event := self._confirmed.get(channel)) is not None:
                    event.set()
            elif kind == "message" and channel is not None:
                self._deliver(channel, message["data"])

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
