"""The outbox: every status change waiting to be delivered, when each is due, and what became of it.

An event is queued only while a subscriber is configured (a system sends to the endpoints it
knows, from the moment it knows them). It stays until the receiver answers 2xx: each failure puts it
back with exponential backoff and jitter. Some events are held back so later ones overtake them,
and some acknowledged ones are sent once more with the same id: the habits of real senders,
as often as the knobs say.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulators.workorders import events
from simulators.workorders.signing import new_message_id
from simulators.workorders.store import Order
from simulators.workorders.webhook_config import WebhookConfig

MAX_PENDING = 10_000  # beyond it the oldest are dropped (counted): memory, not a promise


@dataclass
class Delivery:
    message_id: str
    order_no: str
    seq: int
    body: bytes
    attempts: int = 0
    copy: bool = False  # a deliberate duplicate of an acknowledged event


class WebhookStats:
    """`webhooks` in `/_sim/stats`; `pending` and `in_flight` are gauges and survive a reset."""

    events: int  # status changes made
    queued: int  # of them, queued for a subscriber
    no_endpoint: int  # of them, made while nobody subscribed
    attempts: int  # HTTP attempts, duplicates included
    acks: int  # 2xx answers
    failures: Counter[str]  # by kind: http_401, connect, timeout, ...
    retries: int  # attempts put back after a failure
    duplicates: int  # acknowledged events queued once more
    held_back: int  # events delayed so later ones overtake them
    out_of_order_acks: int  # acknowledged after a later change of the same order was
    dropped: int  # pushed out of a full outbox

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.reset()

    def reset(self) -> None:
        self.events = self.queued = self.no_endpoint = self.attempts = self.acks = 0
        self.retries = self.duplicates = self.held_back = self.out_of_order_acks = self.dropped = 0
        self.failures = Counter()

    def as_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "queued": self.queued,
            "no_endpoint": self.no_endpoint,
            "attempts": self.attempts,
            "acks": self.acks,
            "failures": dict(self.failures),
            "retries": self.retries,
            "duplicates": self.duplicates,
            "held_back": self.held_back,
            "out_of_order_acks": self.out_of_order_acks,
            "dropped": self.dropped,
            "pending": len(self.outbox),
            "in_flight": self.outbox.in_flight,
        }


class Outbox:
    """Deliveries by due time; one event loop owns it (the store's listener, the sender, the admin)."""

    def __init__(
        self,
        config: Callable[[], WebhookConfig],
        rng: random.Random,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.config = config
        self.rng = rng
        self.clock = clock
        self.max_pending = max_pending
        self.stats = WebhookStats(self)
        self.in_flight = 0
        self.wake = asyncio.Event()  # something is new: an event, a free slot, a changed knob
        self._due: list[tuple[float, int, Delivery]] = []  # a heap by due time
        self._order = itertools.count()
        self._newest_acked: dict[str, int] = {}  # order no -> highest seq acknowledged

    def __len__(self) -> int:
        return len(self._due)

    def on_change(self, order: Order, index: int) -> None:
        """The store's listener: one status change of one order."""
        self.stats.events += 1
        cfg = self.config()
        if cfg.url is None:
            self.stats.no_endpoint += 1
            return
        event = events.status_changed(order, index)
        delivery = Delivery(new_message_id(), order.order_no, event["seq"], events.encode(event))
        delay_s = 0.0
        if self.rng.random() < cfg.reorder_rate:
            self.stats.held_back += 1
            delay_s = cfg.hold_back_ms / 1000
        self.stats.queued += 1
        self._push(delivery, delay_s)

    def take_due(self) -> Delivery | None:
        """The delivery most overdue, if any is due now; the caller owns it until `acked`/`failed`."""
        if not self._due or self._due[0][0] > self.clock():
            return None
        self.in_flight += 1
        return heapq.heappop(self._due)[2]

    def seconds_to_next(self) -> float | None:
        return max(0.0, self._due[0][0] - self.clock()) if self._due else None

    def acked(self, delivery: Delivery) -> None:
        self._settled()
        self.stats.acks += 1
        if delivery.copy:
            return
        newest = self._newest_acked.get(delivery.order_no, 0)
        if delivery.seq < newest:
            self.stats.out_of_order_acks += 1
        self._newest_acked[delivery.order_no] = max(newest, delivery.seq)
        cfg = self.config()
        if self.rng.random() < cfg.duplicate_rate:
            self.stats.duplicates += 1
            copy = Delivery(delivery.message_id, delivery.order_no, delivery.seq, delivery.body, copy=True)
            self._push(copy, self.rng.uniform(0, cfg.hold_back_ms / 1000))

    def failed(self, delivery: Delivery, kind: str) -> None:
        """Back in the queue after `backoff`: the system retries until the receiver says 2xx."""
        self._settled()
        self.stats.failures[kind] += 1
        self.stats.retries += 1
        self._push(delivery, self.backoff_s(delivery.attempts))

    def backoff_s(self, attempts: int) -> float:
        """Exponential, capped, with equal jitter: half the step fixed, half random."""
        cfg = self.config()
        step = min(cfg.backoff_cap_ms, cfg.backoff_base_ms << min(max(attempts - 1, 0), 30)) / 1000
        return step / 2 + self.rng.uniform(0, step / 2)

    def _settled(self) -> None:
        self.in_flight -= 1
        self.wake.set()

    def _push(self, delivery: Delivery, delay_s: float) -> None:
        heapq.heappush(self._due, (self.clock() + delay_s, next(self._order), delivery))
        while len(self._due) > self.max_pending:
            oldest = min(range(len(self._due)), key=lambda i: self._due[i][1])
            self._due.pop(oldest)
            heapq.heapify(self._due)
            self.stats.dropped += 1
        self.wake.set()
