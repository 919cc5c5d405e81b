"""The ring-time screen pop, resolver side: keep what it loaded for the call, push it, serve it once.

The gateway runs `gql/screen_pop.graphql` with the ringing agent's access when the CTI says the phone
rings (`gateway.live.ring_prefetch`); then `keep_and_push` snapshots what that pop loaded, stores it for the
call and publishes it to the agent's `screenPop` subscribers, and `prime_answered_pop` fills the
agent's answered-call `ScreenPop` query's loaders with it, so that query asks no back office but
the CRM's phone lookup (which also binds the call on whichever replica serves it).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from services import caller_match
from services.calls import Call
from services.context import RequestContext
from services.live import Live, screen_pop_channel
from services.pop_snapshot import PopSnapshot
from services.pop_store import StoredPop


async def keep_and_push(
    live: Live,
    call: Call,
    ringing_at: float,
    ran: RequestContext | None,
    clock: Callable[[], float] = time.time,
) -> StoredPop:
    """Store the pop for the call and publish it on `screenpop:<agent>`. `ran` is the context the pop ran
    in (its loaders hold the records); None when it did not run: subscribers then look the caller up."""
    snapshot = PopSnapshot.capture(ran.loaders, call.customers, clock()) if ran is not None else None
    searches = live.searches
    searching = searches is not None and call.caller is not None and searches.running(call.caller)
    how = caller_match.IDENTIFIED if call.identified is not None else call.matched_by  # over a transfer
    pop = StoredPop(
        call.agent_id, call.call_id, call.caller, ringing_at, snapshot, matched_by=how, searching=searching
    )
    payload = await live.pops.put(pop) if snapshot is not None else live.pops.seal(pop)
    await live.bus.publish(screen_pop_channel(call.agent_id), payload)
    return pop


async def prime_answered_pop(ctx: RequestContext, clock: Callable[[], float] = time.time) -> bool:
    """Fill this request's loaders with the ring-time pop of the caller's current call, if there is one
    for them. Taken once: a later screen pop in the same call (after a ticket was filed) loads afresh."""
    live, call, principal = ctx.live, ctx.access.call, ctx.access.principal
    if live is None or call is None or principal is None or principal.agent_id != call.agent_id:
        return False
    pop = await live.pops.take(call.agent_id, call.call_id)
    if pop is None or pop.snapshot is None:
        return False
    pop.snapshot.prime(ctx.loaders, clock())
    return True
