"""Events between BFF processes: a ticket changed, a screen pop is ready for an agent.

Channels are plain strings (`ticket:<id>`, `customer:<customer no>`, `screenpop:<agent id>`), messages
JSON-able dicts. `MemoryBus` serves one process (the demo, narrow tests); a Redis bus (pub/sub) serves
several, so a webhook landing on one replica reaches a subscriber on another. Delivery is at most
once and only to subscribers present at publish time: anything that must not be lost is stored
first, and the bus only says "look again".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

Message = dict[str, Any]


class EventBus(Protocol):
    async def publish(self, channel: str, message: Message) -> None: ...

    def subscribe(self, *channels: str) -> Subscription:
        """Entered, an async iterator of the messages published on `channels` from then on."""
        ...

    async def aclose(self) -> None: ...


Subscription = AbstractAsyncContextManager[AsyncIterator[Message]]


class MemoryBus:
    """In-process fan-out: one bounded queue per subscriber; a slow subscriber loses the oldest."""

    def __init__(self, max_queued: int = 1_000) -> None:
        self._max_queued = max_queued
        self._subscribers: dict[str, set[asyncio.Queue[Message]]] = {}

    async def publish(self, channel: str, message: Message) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            if queue.full():
                queue.get_nowait()  # drop the oldest rather than block the publisher
            queue.put_nowait(message)

    def subscribe(self, *channels: str) -> Subscription:
        return self._subscription(channels)

    @asynccontextmanager
    async def _subscription(self, channels: tuple[str, ...]) -> AsyncIterator[AsyncIterator[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue(self._max_queued)
        for channel in channels:
            self._subscribers.setdefault(channel, set()).add(queue)
        try:
            yield _drain(queue)
        finally:
            for channel in channels:
                subscribers = self._subscribers.get(channel)
                if subscribers is not None:
                    subscribers.discard(queue)
                    if not subscribers:
                        del self._subscribers[channel]

    async def aclose(self) -> None:
        self._subscribers.clear()


async def _drain(queue: asyncio.Queue[Message]) -> AsyncIterator[Message]:
    while True:
        yield await queue.get()
