"""`POST /webhooks/workorders`: the work-order system pushes status changes (Standard Webhooks).

The sender delivers at least once, out of order, and retries until it sees a 2xx, so the answer
says "kept" only once it is true:

- 401 `UNAUTHENTICATED`: signature, timestamp (±5 min) or id missing or wrong; nothing stored.
- 400 `BAD_REQUEST`: authentic, but not JSON or not a status change we can read.
- 503 `BACKEND_UNAVAILABLE` with `Retry-After`: the state store cannot answer; the sender retries.
- 200 `{"outcome": ...}`: `applied` (stored, the newest now), `duplicate` (this id was seen),
  `stale` (a newer sequence is stored), `ignored` (an event type we do not consume).

The work-order adapter reads the body (`WorkOrdersPort.status_change`); `services.ticket_updates` keeps
and announces the change. This module only speaks HTTP: the signature, the status codes, the answer.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.ports import Backends
from domain.records import TicketStatusChange
from gateway.auth import AuthConfigError
from gateway.http.errors import error_response
from gateway.live.webhook_signature import WebhookVerificationError, parse_secrets, verify
from gateway.settings import Settings
from infra.redis_client import RedisClient
from services import ticket_updates
from services.ticket_state_store import (
    MemoryTicketStateStore,
    RedisTicketStateStore,
    TicketStateStore,
    TicketStateStoreUnavailable,
)

logger = logging.getLogger("tidegate.webhooks")

_MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")  # it becomes part of a Redis key
RETRY_AFTER_S = 5


def open_ticket_states(settings: Settings, redis: RedisClient | None) -> TicketStateStore:
    """Redis when configured (every replica applies against the same states), else in this process."""
    dedupe_s, state_s = (
        settings.webhooks.workorders_webhook_dedupe_ttl_s,
        settings.webhooks.workorders_ticket_state_ttl_s,
    )
    if redis is not None:
        return RedisTicketStateStore(redis, dedupe_ttl_s=dedupe_s, state_ttl_s=state_s)
    return MemoryTicketStateStore(dedupe_ttl_s=dedupe_s, state_ttl_s=state_s)


class WorkOrderWebhooks:
    """The endpoint; the store and the bus come from the app's lifespan (`request.state`)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkOrderWebhooks:
        """A malformed secret stops start-up; the message names the variable, never the value."""
        try:
            keys = parse_secrets(settings.webhooks.workorders_webhook_secrets)
        except ValueError as exc:
            raise AuthConfigError(f"TIDEGATE_WORKORDERS_WEBHOOK_SECRETS: {exc}") from None
        return cls(keys, settings.webhooks.workorders_webhook_tolerance_s)

    def __init__(
        self, keys: Sequence[bytes], tolerance_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.keys = list(keys)
        self.tolerance_s = tolerance_s
        self.clock = clock
        if not self.keys:
            logger.warning("no work-order webhook secret configured: every delivery will be refused")

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        headers = request.headers
        message_id = headers.get("webhook-id", "")
        try:
            verify(
                self.keys,
                message_id,
                headers.get("webhook-timestamp", ""),
                headers.get("webhook-signature", ""),
                body,
                now=self.clock(),
                tolerance_s=self.tolerance_s,
            )
        except WebhookVerificationError as exc:
            logger.warning("work-order webhook refused", extra={"reason": str(exc)})
            return error_response(401, "webhook not authenticated", "UNAUTHENTICATED")
        if not _MESSAGE_ID.fullmatch(message_id):
            return error_response(400, "webhook-id: at most 128 of A-Z a-z 0-9 _ . : -")
        try:
            event = orjson.loads(body)
            if not isinstance(event, dict):
                raise ValueError("expected a JSON object")
            backends: Backends = request.state.backends
            change = backends.workorders.status_change(event, message_id)
        except (orjson.JSONDecodeError, ValueError) as exc:
            logger.warning(
                "work-order webhook unreadable", extra={"event_id": message_id, "reason": str(exc)}
            )
            return error_response(400, f"bad work-order event: {exc}")
        if change is None:
            return JSONResponse({"outcome": "ignored"})
        return await self._store(request, change)

    async def _store(self, request: Request, change: TicketStatusChange) -> Response:
        try:
            outcome = await ticket_updates.record(request.state.ticket_states, request.state.bus, change)
        except TicketStateStoreUnavailable as exc:
            logger.error(
                "ticket state store unavailable", extra={"event_id": change.event_id, "error": str(exc)}
            )
            return error_response(
                503, "ticket state store unavailable", exc.code, headers={"Retry-After": str(RETRY_AFTER_S)}
            )
        return JSONResponse({"outcome": outcome.value})
