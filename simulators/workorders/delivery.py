"""The webhook sender: takes due deliveries from the outbox and POSTs them, signed, to the subscriber.

Each attempt is signed afresh (`webhook-timestamp` is the attempt's time, the id stays the same) with
every configured secret. Anything but a 2xx, including no answer at all, sends the delivery back to
the outbox for a later retry; several attempts run at once, which reorders deliveries too.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import httpx

from simulators.workorders.outbox import Delivery, Outbox
from simulators.workorders.signing import sign
from simulators.workorders.webhook_config import WebhookConfig

USER_AGENT = "JCWater-WorkOrder-Webhook/2.3"
IDLE_WAIT_S = 1.0


class DeliveryWorker:
    def __init__(
        self,
        outbox: Outbox,
        config: Callable[[], WebhookConfig],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.outbox = outbox
        self.config = config
        self.transport = transport
        self.wall_clock = wall_clock
        self._running: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Forever: start every due delivery a free slot allows, then sleep until something changes."""
        async with httpx.AsyncClient(transport=self.transport, headers={"User-Agent": USER_AGENT}) as client:
            while True:
                cfg = self.config()
                while cfg.url is not None and self.outbox.in_flight < cfg.max_in_flight:
                    delivery = self.outbox.take_due()
                    if delivery is None:
                        break
                    task = asyncio.create_task(self.attempt(client, cfg, delivery))
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
                await self._sleep(cfg)

    async def _sleep(self, cfg: WebhookConfig) -> None:
        wake = self.outbox.wake
        wake.clear()
        next_due = self.outbox.seconds_to_next()
        can_send = cfg.url is not None and self.outbox.in_flight < cfg.max_in_flight
        timeout = min(next_due, IDLE_WAIT_S) if next_due is not None and can_send else IDLE_WAIT_S
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout)

    async def attempt(self, client: httpx.AsyncClient, cfg: WebhookConfig, delivery: Delivery) -> None:
        """One POST; the outbox learns the outcome either way."""
        delivery.attempts += 1
        self.outbox.stats.attempts += 1
        timestamp = int(self.wall_clock())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
        }
        keys = cfg.keys()
        if keys:
            headers["webhook-signature"] = sign(keys, delivery.message_id, timestamp, delivery.body)
        assert cfg.url is not None
        try:
            response = await client.post(
                cfg.url, content=delivery.body, headers=headers, timeout=cfg.timeout_ms / 1000
            )
        except httpx.TimeoutException:
            self.outbox.failed(delivery, "timeout")
        except httpx.HTTPError:
            self.outbox.failed(delivery, "connect")
        except BaseException:
            self.outbox.failed(delivery, "crash")
            raise
        else:
            if 200 <= response.status_code < 300:
                self.outbox.acked(delivery)
            else:
                self.outbox.failed(delivery, f"http_{response.status_code}")
