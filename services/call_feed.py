"""`CallFeed`: every process's call registry kept in step over the event bus, on the channel `cti`.

The CTI posts each event to one replica, the agent's websocket sits on another and their next query
may land on a third; least privilege needs all three to agree on the call and the customers it
matched. So each registry's changes go out in the order they happened (one queue, one sender), the
other processes' changes are applied as they arrive, and a process's own echo is ignored. The
caller's number is the caller's PII: it is sealed (AES-GCM, `TIDEGATE_CACHE_KEY`) before it leaves.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from infra.pubsub import EventBus, Message
from infra.sealed import Sealer, SealError
from services.calls import CallChange, CallRegistry, ChangeKind

logger = logging.getLogger("tidegate.calls")

CHANNEL = "cti"


class CallFeed:
    def __init__(self, calls: CallRegistry, bus: EventBus, sealer: Sealer, max_queued: int = 10_000) -> None:
        self.origin = uuid.uuid4().hex
        self._calls = calls
        self._bus = bus
        self._sealer = sealer
        self._outbox: asyncio.Queue[CallChange] = asyncio.Queue(max_queued)
        self._unreadable_logged = False
        calls.on_change = self._queue

    async def run(self, ready: asyncio.Event | None = None) -> None:
        """Until cancelled: send this process's changes, apply the others'. `ready` is set once the
        feed listens, so a server that waits for it never misses a change made after it starts."""
        async with self._bus.subscribe(CHANNEL) as messages:
            if ready is not None:
                ready.set()
            async with asyncio.TaskGroup() as group:
                group.create_task(self._send())
                group.create_task(self._receive(messages))

    def _queue(self, change: CallChange) -> None:
        try:
            self._outbox.put_nowait(change)
        except asyncio.QueueFull:
            logger.warning("call feed backlog full: a %s change stays in this process", change.kind)

    async def _send(self) -> None:
        while True:
            change = await self._outbox.get()
            await self._bus.publish(CHANNEL, self.encode(change))

    async def _receive(self, messages: AsyncIterator[Message]) -> None:
        async for message in messages:
            if message.get("origin") == self.origin:
                continue
            change = self.decode(message)
            if change is None:
                continue
            try:
                self._calls.apply(change)
            except Exception:  # one bad change must not stop the feed
                logger.exception("could not apply a %s change from another process", change.kind)

    def encode(self, change: CallChange) -> Message:
        caller = change.caller
        return {
            "origin": self.origin,
            "kind": str(change.kind),
            "agentId": change.agent_id,
            "callId": change.call_id,
            "caller": self._sealer.seal(_aad(change.agent_id, change.call_id), caller) if caller else None,
            "customers": list(change.customers),
            "accounts": list(change.accounts),
            "identified": change.identified,
        }

    def decode(self, message: Message) -> CallChange | None:
        try:
            kind = ChangeKind(message["kind"])
            agent, call = _text(message["agentId"]), _text(message["callId"])
            customers, accounts = _texts(message.get("customers")), _texts(message.get("accounts"))
            identified = message.get("identified")
            identified = _text(identified) if identified is not None else None
        except (KeyError, ValueError) as exc:
            logger.warning("dropped an unreadable call change: %s", exc)
            return None
        caller = self.open_caller(agent, call, message.get("caller"))
        return CallChange(kind, agent, call, caller, customers, accounts, identified)

    def open_caller(self, agent_id: str, call_id: str, sealed: object) -> str | None:
        """The caller's number as another process sealed it; None (and one warning) when it will not
        open: replicas that do not share TIDEGATE_CACHE_KEY cannot read each other's callers."""
        if sealed is None:
            return None
        try:
            opened = self._sealer.open(_aad(agent_id, call_id), sealed)
        except SealError:
            if not self._unreadable_logged:
                self._unreadable_logged = True
                logger.error("a caller sealed by another replica does not open: share TIDEGATE_CACHE_KEY")
            return None
        return opened if isinstance(opened, str) else None


def _aad(agent_id: str, call_id: str) -> str:
    return f"cti:{agent_id}:{call_id}"


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError("expected a list of strings")
    return tuple(_text(v) for v in value)
