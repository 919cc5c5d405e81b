"""`Live`: what subscriptions and the ring-time screen pop need beyond one request.

A subscription outlives the request that opened it: each event it delivers is resolved with fresh
loaders (`reads`), with the agent's access read again from the call registry (`calls`), from messages
on the bus between processes (`bus`), and a screen pop may come ready-made from the ring (`pops`);
billing's slow phone searches run beside the calls (`searches`).
The channel names are the bus contract, named here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.pubsub import EventBus
from infra.sealed import Sealer
from services.cached_reads import CachedReads
from services.calls import CallRegistry
from services.identify_store import Identifications
from services.phone_search import PhoneSearches
from services.pop_store import PopStore


@dataclass(frozen=True)
class Live:
    bus: EventBus
    calls: CallRegistry
    pops: PopStore
    reads: CachedReads | None = None
    # billing's slow phone searches for callers the CRM does not know (`services.phone_search`).
    searches: PhoneSearches | None = None
    # Seals what leaves the process about a call (identification candidates' ids): the cache key.
    sealer: Sealer | None = None
    # Each call's identification attempts and verified candidate (`services.identify`).
    identifications: Identifications | None = None


def ticket_channel(ticket_id: str) -> str:
    return f"ticket:{ticket_id}"


def customer_channel(customer_no: str) -> str:
    return f"customer:{customer_no}"


def screen_pop_channel(agent_id: str) -> str:
    return f"screenpop:{agent_id}"
