"""Who the active outages leave without water, kept in memory for the IVR and the screen pop.

Two readers, two paths:

- **The IVR look-up** (`caller_status`) answers from the process's `ImpactIndex` only: a dictionary
  look-up by the caller's number, no back office touched (billing least of all: it is what a burst
  drowns). The index is built in the background (`ImpactIndexer.run`, started with the app) every
  `REFRESH_S`: the GIS's active outages, the network graph (`services.isolation`, kept ten minutes),
  each outage's reach (`domain.outage_impact`), the affected accounts, and their phones (billing's
  account holder numbers and the CRM contacts' numbers, read once per account and kept while the
  account stays affected: a burst costs billing one batch per 50 newly affected accounts, once).
  A refresh that fails keeps the last good index and logs it. Per process: each replica builds its
  own (the reads are the GIS's outage list and, for new accounts only, billing and the CRM).
- **The screen pop** (`outages_for_accounts`) reads the request's cached outage list and the graph
  the process keeps (built by the index at start-up; a pop never waits for a build), and asks which
  outages leave the caller's mains dry. An outage the network cannot place, or a process that has no
  graph yet, falls back to the polygon test it replaced (`byTrace` false says so).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from domain.network_graph import NetworkGraph
from domain.outage_impact import (
    ImpactIndex,
    OutageNotice,
    OutageReach,
    account_notices,
    notice,
    outage_reach,
    phone_notices,
)
from domain.phones import national
from domain.ports import Backends
from domain.records import Outage
from services.context import RequestContext
from services.errors import ErrorCode, guarded, public_error
from services.freshness import ResponsePath
from services.isolation import graph_of, kept_graph

logger = logging.getLogger("tidegate.services.outage_impact")

REFRESH_S = 15.0  # how often the index re-reads the GIS's active outages
REFRESH_TIMEOUT_S = 60.0  # one refresh (graph, outages, phones of newly affected accounts) by then
MAX_NEW_ACCOUNTS = 20_000  # phones read per refresh at most: a bigger burst completes over rounds
BILLING_CONCURRENCY = 2  # background batches in flight at billing: the pop's traffic goes first
MAX_PHONE_CHARS = 40
# What switches send for a number the caller withheld: not affected, not an error.
WITHHELD = frozenset({"", "anonymous", "private", "restricted", "unknown", "withheld", "unavailable"})


# --- the reach of each outage, memoized per graph -------------------------------------------------

_reaches: weakref.WeakKeyDictionary[NetworkGraph, dict[tuple[object, ...], OutageReach]] = (
    weakref.WeakKeyDictionary()
)
_account_mains: weakref.WeakKeyDictionary[NetworkGraph, dict[str, int]] = weakref.WeakKeyDictionary()


def reach_of(graph: NetworkGraph, outage: Outage) -> OutageReach:
    """The outage's reach, computed once per graph and outage version (one reachability pass)."""
    memo = _reaches.setdefault(graph, {})
    key = (
        outage.outage_id,
        outage.valve_object_ids,
        outage.main_object_ids,
        outage.estimated_restore_at,
        outage.reason,
        outage.kind,
    )
    found = memo.get(key)
    if found is None:
        if len(memo) > 1_000:
            memo.clear()  # outages come and go: a bound, not a policy
        found = memo[key] = outage_reach(graph, outage)
    return found


def main_of_account(graph: NetworkGraph) -> dict[str, int]:
    """Account -> the main its service connection taps (the graph's taps, inverted once)."""
    found = _account_mains.get(graph)
    if found is None:
        found = {a: m for m, accounts in graph.taps.items() for a in accounts}
        _account_mains[graph] = found
    return found


# --- the screen pop ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountOutage:
    """An active outage that leaves one of the caller's accounts dry, and why (None: by polygon)."""

    outage: Outage
    notice: OutageNotice | None
    account_no: str


async def outages_for_accounts(
    ctx: RequestContext, account_nos: Sequence[str], at: ResponsePath | None = None
) -> list[AccountOutage]:
    """Active outages that leave these accounts without water, by the trace; outages the network
    cannot place (no valve or main it holds) by the old polygon test. One entry per outage."""
    outages = ctx.freshness.saw(at, await ctx.loaders.outages.load(True))
    if not outages or not account_nos:
        return []
    graph = kept_graph(ctx.backends.gis)
    if graph is None:  # never built in this process (the index is off and nobody traced): polygons
        return await _by_polygon(ctx, outages, account_nos, at)
    mains = main_of_account(graph)
    found: list[AccountOutage] = []
    untraced: list[Outage] = []
    for outage in outages:
        reach = reach_of(graph, outage)
        if not reach.traced:
            untraced.append(outage)
            continue
        for account_no in account_nos:
            main = mains.get(account_no)
            if main is not None and main in reach.causes:
                found.append(AccountOutage(outage, notice(graph, reach, main), account_no))
                break
    if untraced:
        found += await _by_polygon(ctx, untraced, account_nos, at)
    return found


async def _by_polygon(
    ctx: RequestContext, outages: Sequence[Outage], account_nos: Sequence[str], at: ResponsePath | None
) -> list[AccountOutage]:
    connections = await ctx.loaders.connection_by_account.load_many(list(account_nos))
    points = [
        (no, ctx.freshness.saw(at, c).location) for no, c in zip(account_nos, connections, strict=True) if c
    ]
    out: list[AccountOutage] = []
    for o in outages:
        hit = next((no for no, p in points if o.covers(p)), None)
        if hit is not None:
            out.append(AccountOutage(o, None, hit))
    return out


# --- the IVR index -------------------------------------------------------------------------------


class ImpactIndexer:
    """The process's index for one set of back offices, refreshed in the background."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends
        self.index: ImpactIndex | None = None
        self.failures = 0
        self._phones: dict[str, tuple[str, ...]] = {}  # account -> phones, while it stays affected
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.interval_s = REFRESH_S
        # outage id -> IVR look-ups it answered "affected" (its first notice), since start: the
        # callers told before reaching an agent, for the board. One entry per outage ever active.
        self.answered: Counter[str] = Counter()

    async def refresh(self) -> ImpactIndex | None:
        """One refresh; on failure the last good index stays (and is returned)."""
        async with self._lock:
            try:
                async with asyncio.timeout(REFRESH_TIMEOUT_S):
                    self.index = await self._build()
                    self.failures = 0
            except Exception:
                self.failures += 1
                logger.warning(
                    "outage index refresh failed: keeping the last good one",
                    extra={"failures": self.failures, "have_index": self.index is not None},
                    exc_info=True,
                )
            return self.index

    async def _build(self) -> ImpactIndex:
        gis = self.backends.gis
        outages, graph = await asyncio.gather(gis.outages(True), graph_of(gis))
        reaches = [reach_of(graph, o) for o in outages]
        by_account = account_notices(graph, [r for r in reaches if r.traced])
        complete = await self._read_phones(sorted(by_account))
        by_phone = phone_notices(by_account, self._phones)
        return ImpactIndex(
            by_account=by_account,
            by_phone=by_phone,
            outages=tuple(outages),
            untraced=tuple(r.outage for r in reaches if not r.traced),
            built_at=time.time(),
            phones_complete=complete,
            stats={"accounts": len(by_account), "phones": len(by_phone), "outages": len(outages)},
        )

    async def _read_phones(self, account_nos: list[str]) -> bool:
        """Phones of newly affected accounts: billing's holder numbers, then the CRM contacts'.
        Accounts no longer affected are forgotten. False when this round could not read them all."""
        wanted = set(account_nos)
        self._phones = {k: v for k, v in self._phones.items() if k in wanted}
        new = [a for a in account_nos if a not in self._phones]
        complete = len(new) <= MAX_NEW_ACCOUNTS
        new = new[:MAX_NEW_ACCOUNTS]
        if not new:
            return complete
        billing, crm = self.backends.billing, self.backends.crm
        gate = asyncio.Semaphore(BILLING_CONCURRENCY)

        async def accounts(batch: list[str]) -> dict[str, tuple[str | None, str | None, str]]:
            async with gate:
                got = await billing.accounts(batch)
            return {no: (a.mobile, a.landline, a.customer_no) for no, a in got.items()}

        step = max(1, billing.MAX_BATCH)
        parts = await asyncio.gather(*(accounts(new[i : i + step]) for i in range(0, len(new), step)))
        holders = {no: row for part in parts for no, row in part.items()}
        customer_nos = sorted({row[2] for row in holders.values()})
        contacts: dict[str, tuple[str, ...]] = {}
        step = max(1, crm.MAX_BATCH)
        for i in range(0, len(customer_nos), step):
            try:
                got = await crm.contacts_by_customer_no(customer_nos[i : i + step])
            except Exception:  # the CRM's numbers add to billing's: without them, billing's serve
                logger.warning("crm contacts unavailable for the outage index", exc_info=True)
                complete = False
                break
            for no, c in got.items():
                contacts[no] = (*c.mobiles, *c.landlines)
        for no in new:
            row = holders.get(no)
            if row is None:
                self._phones[no] = ()  # billing does not know it: no phone to match
                continue
            raw = [row[0], row[1], *contacts.get(row[2], ())]
            self._phones[no] = tuple(dict.fromkeys(p for p in (national(r) for r in raw if r) if p))
        return complete

    async def run(self) -> None:
        """Refresh forever (until cancelled); the first refresh at once unless one just ran."""
        while True:
            if self.index is None or time.time() - self.index.built_at >= self.interval_s:
                await self.refresh()
            await asyncio.sleep(self.interval_s)

    def ensure_running(self) -> None:
        """Start the background refresh unless it runs (the app's start-up, or the first look-up)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="outage-index")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None


_indexers: dict[int, tuple[weakref.ref[Backends], ImpactIndexer]] = {}


def indexer_of(backends: Backends) -> ImpactIndexer:
    """The index kept for these back offices (one per `Backends`, by identity)."""
    found = _indexers.get(id(backends))
    if found is None or found[0]() is not backends:
        for key in [k for k, (ref, _) in _indexers.items() if ref() is None]:
            del _indexers[key]
        found = (weakref.ref(backends), ImpactIndexer(backends))
        _indexers[id(backends)] = found
    return found[1]


@dataclass(frozen=True, slots=True)
class CallerStatus:
    """The IVR's answer: the caller's outages (empty: not affected) and how old the index is."""

    notices: tuple[OutageNotice, ...]
    as_of: float | None  # when the index was built (None: not built yet: "not affected" for now)
    phone_known: bool  # False: withheld or not a number the index could hold


def _phone(raw: str) -> str | None:
    """The number in national form; None for a withheld number; BAD_USER_INPUT for garbage."""
    text = raw.strip()
    if text.lower() in WITHHELD:
        return None
    if len(text) > MAX_PHONE_CHARS or not text.isprintable():
        raise public_error("phone must be a phone number (at most 40 characters)", ErrorCode.BAD_USER_INPUT)
    number = national(text)
    if number is None and any(ch.isalpha() for ch in text):
        raise public_error(f"not a phone number: {raw!r}", ErrorCode.BAD_USER_INPUT)
    return number  # digits that are no number we know (an extension, a short code): not affected


@guarded
async def caller_status(ctx: RequestContext, phone: str) -> CallerStatus:
    """From memory only: a look-up never awaits a back office."""
    number = _phone(phone)
    indexer = indexer_of(ctx.backends)
    indexer.ensure_running()  # not awaited: the look-up never waits for a back office
    index = indexer.index
    if index is None:
        return CallerStatus((), None, number is not None)
    if number is None:
        return CallerStatus((), index.built_at, False)
    notices = index.by_phone.get(number, ())
    if notices:
        indexer.answered[notices[0].outage_id] += 1
    return CallerStatus(notices, index.built_at, True)
