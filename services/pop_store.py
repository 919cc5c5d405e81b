"""`PopStore`: the ring-time screen pop of each agent's current call, kept for the call.

One entry per agent (an agent is on one call at a time), in the cache store: Redis when configured,
so the agent's answered-call query finds it whichever replica it lands on, else in process. The pop
holds PII (names, numbers, addresses), so the caller and the records are sealed (AES-GCM, the cache
key) with the agent and call as associated data: an entry copied to another agent's key does not
open. The same sealed payload travels on the bus to the agent's `screenPop` subscribers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.cache.store import CacheStore, Entry
from infra.sealed import Sealer, SealError
from services.pop_snapshot import PopSnapshot

logger = logging.getLogger("tidegate.prefetch")


@dataclass(frozen=True)
class StoredPop:
    agent_id: str
    call_id: str
    caller: str | None
    ringing_at: float  # epoch seconds: when the CTI said the phone rang
    snapshot: PopSnapshot | None  # None: the pop did not run (prefetch off, or it failed)
    # How the pop's customers were found, when not by the ring-time phone lookup: `PHONE_BILLING_LATE`
    # (billing's phone search answered after the pop), `IDENTIFIED` (an agent verified the caller).
    matched_by: str | None = None
    # billing's phone search still ran for the caller when the pop was kept (it may update the pop).
    searching: bool = False

    @property
    def customer_nos(self) -> list[str]:
        return self.snapshot.customer_nos if self.snapshot is not None else []


class PopStore:
    def __init__(
        self, store: CacheStore, sealer: Sealer, keep_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._sealer = sealer
        self.keep_s = keep_s
        self._clock = clock

    def seal(self, pop: StoredPop) -> dict[str, Any]:
        """The pop as a JSON-able payload: ids and the customer and account numbers in clear (they open
        the call's customers to the agent on every replica), the rest sealed."""
        secret = {"caller": pop.caller, "snapshot": pop.snapshot.encode() if pop.snapshot else None}
        return {
            "agentId": pop.agent_id,
            "callId": pop.call_id,
            "ringingAt": pop.ringing_at,
            "customers": pop.customer_nos,
            "accounts": pop.snapshot.account_nos if pop.snapshot else [],
            "sealed": self._sealer.seal(_aad(pop.agent_id, pop.call_id), secret),
            "matchedBy": pop.matched_by,
            "searching": pop.searching,
        }

    def open(self, payload: Any) -> StoredPop | None:
        """None (logged) for a payload that does not open here: tampered, another version's, or sealed
        by a replica with another TIDEGATE_CACHE_KEY."""
        try:
            agent, call = str(payload["agentId"]), str(payload["callId"])
            secret: Any = self._sealer.open(_aad(agent, call), payload["sealed"])
            raw = secret["snapshot"]
            caller = secret["caller"]
            return StoredPop(
                agent_id=agent,
                call_id=call,
                caller=caller if isinstance(caller, str) else None,
                ringing_at=float(payload["ringingAt"]),
                snapshot=PopSnapshot.decode(raw) if raw is not None else None,
                matched_by=str(payload["matchedBy"]) if payload.get("matchedBy") else None,
                searching=payload.get("searching") is True,
            )
        except (SealError, KeyError, TypeError, ValueError) as exc:
            logger.warning("a screen pop does not open here (%s): share TIDEGATE_CACHE_KEY", exc)
            return None

    async def put(self, pop: StoredPop) -> dict[str, Any]:
        payload = self.seal(pop)
        await self._store.set(_key(pop.agent_id), Entry(self._clock(), payload), self.keep_s)
        return payload

    async def get(self, agent_id: str, call_id: str) -> StoredPop | None:
        """The agent's pop if it is for this call (a pop of their previous call is no use)."""
        entry = await self._store.get(_key(agent_id))
        if entry is None or not isinstance(entry.payload, dict) or entry.payload.get("callId") != call_id:
            return None
        return self.open(entry.payload)

    async def take(self, agent_id: str, call_id: str) -> StoredPop | None:
        """`get`, once: after it the call's screen pops load afresh (a ticket or a note added during the
        call must show). Two replicas taking at the same instant may both get it; both answers are right."""
        pop = await self.get(agent_id, call_id)
        if pop is not None:
            await self._store.delete(_key(agent_id))
        return pop


def _key(agent_id: str) -> str:
    return f"screenpop:{agent_id}"


def _aad(agent_id: str, call_id: str) -> str:
    return f"screenpop:{agent_id}:{call_id}"
