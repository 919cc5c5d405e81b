"""Ticket status changes pushed by the work-order system: kept once, in order, then announced.

The sender delivers at least once and out of order; the state store decides (atomically, across
replicas) whether a change is new, a duplicate or stale. Only an applied change is published on the
event bus (`ticket:<id>`, `customer:<customer no>`), after it is stored: the bus only says "look again",
so a lost message costs a subscriber freshness, not data. The gateway's webhook endpoint verifies the
signature and hands the change here; the work-order adapter decoded it (`WorkOrdersPort.status_change`).
"""

from __future__ import annotations

import logging

from domain.records import TicketStatusChange
from infra.pubsub import EventBus, Message
from services.ticket_state_store import ApplyOutcome, TicketStateStore

logger = logging.getLogger("tidegate.webhooks")


def bus_message(change: TicketStatusChange) -> Message:
    """What subscribers of `ticket:<id>` and `customer:<no>` receive."""
    return {
        "ticketId": change.ticket_id,
        "customerId": change.customer_no,
        "status": change.status.value,
        "at": change.changed_at.isoformat(timespec="milliseconds"),  # the vendor keeps ms
        "eventId": change.event_id,
        "sequence": change.sequence,
    }


def channels(change: TicketStatusChange) -> list[str]:
    out = [f"ticket:{change.ticket_id}"]
    if change.customer_no:
        out.append(f"customer:{change.customer_no}")
    return out


async def record(store: TicketStateStore, bus: EventBus, change: TicketStatusChange) -> ApplyOutcome:
    """Store the change; announce it if it is now the newest. Raises the store's
    `TicketStateStoreUnavailable` (nothing kept: the sender must retry)."""
    outcome = await store.apply(change)
    logger.info(
        "work-order webhook",
        extra={
            "event_id": change.event_id,
            "ticket_id": change.ticket_id,
            "sequence": change.sequence,
            "outcome": outcome.value,
        },
    )
    if outcome is ApplyOutcome.APPLIED:
        await _publish(bus, change)
    return outcome


async def _publish(bus: EventBus, change: TicketStatusChange) -> None:
    """Best effort: the change is stored, and a subscriber that misses this reads it on its next query."""
    message = bus_message(change)
    for channel in channels(change):
        try:
            await bus.publish(channel, message)
        except Exception:
            logger.exception("publishing a ticket change failed", extra={"channel": channel})
