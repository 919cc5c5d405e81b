"""`fleet_lease`: one holder at a time for a name, across every replica that shares the store.

Why: a few steps must not run twice at once anywhere in the fleet, where each step alone is keyed
but their order is not: declaring an outage looks for an active one and creates one if there is
none, and two replicas doing that for the same burst at once would both create. An asyncio lock
covers one process; this covers the fleet, on the idempotency store every replica already shares
(Redis; in memory for one process), with its own claims: taken atomically, held for at most
`lease_s` (a holder that dies frees the name when its lease runs out), released as the step ends.

Written on the idempotency store rather than with a Redis lock library: the store is already the
fleet's single place for "who is doing this write", already has an in-memory twin for the demo and
the tests, and its claim is exactly a lease (tests/services/test_fleet_lease.py).

Without the store (Redis down) the step runs unleased, as the writes do then: each back office's
unique reference stands in (services/idempotency.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from infra.idempotency_store import IdempotencyStore, IdempotencyStoreUnavailable, Outcome

logger = logging.getLogger("tidegate.services.fleet_lease")

PREFIX = "lease:"
POLL_S = 0.05  # how often a waiting replica asks again (the holder's step takes a few calls)


@asynccontextmanager
async def fleet_lease(store: IdempotencyStore, name: str, *, lease_s: float = 60.0) -> AsyncIterator[None]:
    """Hold `name` for the block: wait while another holder has it (at most until its lease runs out,
    when the store hands it over), then release it however the block ends."""
    key = PREFIX + name
    token: str | None = None
    while True:
        try:
            claim = await store.claim(key, "", lease_s=lease_s, ttl_s=lease_s)
        except IdempotencyStoreUnavailable as exc:
            logger.warning(
                "no fleet lease without the store: running unleased", extra={"lease": name, "error": str(exc)}
            )
            break
        if claim.outcome is Outcome.STARTED:
            token = claim.token
            break
        await asyncio.sleep(min(POLL_S, claim.wait_s) if claim.wait_s > 0 else POLL_S)
    try:
        yield
    finally:
        if token is not None:
            await asyncio.shield(_release(store, key, token))


async def _release(store: IdempotencyStore, key: str, token: str) -> None:
    try:
        await store.abandon(key, token)
    except IdempotencyStoreUnavailable as exc:  # the lease runs out by itself
        logger.warning("fleet lease not released", extra={"lease": key, "error": str(exc)})
