"""A caller found after their pop said "no match": bind the call and update the agent's pop live.

`services.phone_search` tells this module when billing's slower phone search finds accounts on a
number some calls are still waiting on. For each such call that is still the agent's and was not
identified by the agent meanwhile, the customers are bound to the call (the feed tells the other
replicas) and a new pop is kept and published on the agent's `screenPop` channel, marked
`PHONE_BILLING_LATE`: the workbench's subscription shows the caller without anyone asking again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from domain.ports import Backends
from domain.records import Account, Customer
from infra.cache.cache import Cached
from infra.errors import BackendError
from services.authorize import bound_to_call
from services.calls import Call
from services.customers import customers_from_billing
from services.live import Live, screen_pop_channel
from services.phone_search import CallKey
from services.pop_snapshot import PopSnapshot
from services.pop_store import StoredPop

logger = logging.getLogger("tidegate.phone_search")

LATE = "PHONE_BILLING_LATE"


async def deliver(
    live: Live,
    backends: Backends,
    accounts: list[Account],
    calls: set[CallKey],
    clock: Callable[[], float] = time.time,
) -> None:
    """Bind `accounts`' customers to each waiting call and push the updated pop to its agent."""
    pieced = customers_from_billing(accounts)
    now = clock()
    for agent_id, call_id in sorted(calls):
        call = live.calls.current(agent_id)
        if call is None or call.call_id != call_id or call.identified is not None:
            continue  # ended, transferred away, or the agent identified the caller meanwhile
        for customer in pieced:
            call.bind(customer.customer_no, customer.account_nos)
        call.matched_by = LATE
        customers = await _customers(backends, call, pieced)
        earlier = await live.pops.get(agent_id, call_id)
        snapshot = PopSnapshot(
            taken_at=now,
            customers=tuple(customers),
            accounts={a.account_no: Cached(a, 0.0, stale=False, stored_at=now) for a in accounts},
            interactions={},
            tickets={},
            connections={},
            outages=None,
        )
        ringing_at = earlier.ringing_at if earlier is not None else now
        pop = StoredPop(agent_id, call_id, call.caller, ringing_at, snapshot, matched_by=LATE)
        payload = await live.pops.put(pop)
        await live.bus.publish(screen_pop_channel(agent_id), payload)
        logger.info("late phone match pushed", extra={"agent_id": agent_id, "call_id": call_id})


async def _customers(backends: Backends, call: Call, pieced: list[Customer]) -> list[Customer]:
    """The CRM's record of each customer billing named (it may know them by number though not by this
    phone), else the customer pieced together from billing's accounts."""
    try:
        bound = bound_to_call(call, [c.customer_no for c in pieced])
        known = await backends.crm.contacts_by_customer_no(bound)
    except BackendError as exc:
        logger.warning("crm did not answer for a late phone match: %s", exc.code)
        known = {}
    return [known.get(c.customer_no, c) for c in pieced]
