"""The isolation plan (关阀分析) for a main: valves to close, what goes dry, and who is affected.

The trace itself is `domain.network_graph`; this module feeds it. The network changes rarely, so the
graph is built once per GIS adapter from every page of the mains, valves, service connections and
sources (four layers read concurrently, the whole rebuild inside `BUILD_TIMEOUT_S`), kept for
`GRAPH_TTL_S`, and rebuilt by one request at a time (the others wait for it, or go on with the old
graph while it is rebuilt: a failed rebuild keeps the old one and is logged). The CRM's register
of sensitive customers is kept the same way.

What needs no customer data (valves, mains, counts of connections and accounts) comes from the graph
alone. Customers, households and the lists go through billing (the account loader) and the one
authorization point: the lists are district-wide reads, for roles that may read any customer.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.enums import WaterUseType
from domain.network import PAGE_MAX, NetworkMain, Page, SensitiveCustomer
from domain.network_graph import NetworkGraph, Trace
from domain.ports import CrmPort, GisPort
from domain.records import Account
from services.authorize import counts_only, require_unrestricted
from services.context import RequestContext
from services.errors import ErrorCode, bounded, guarded, public_error

logger = logging.getLogger("tidegate.services.isolation")

GRAPH_TTL_S = 600.0  # the network changes rarely: a new valve position shows within ten minutes
BUILD_TIMEOUT_S = 30.0  # reading every layer (22,000 connections: ~25 pages) must finish by then
REGISTER_TTL_S = 600.0
MAX_PAGES = 1_000  # a layer longer than this is a GIS fault, not a network

T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class IsolationPlan:
    """A trace with the GIS facts a reader needs: asset numbers, valves, the accounts affected."""

    main: NetworkMain
    trace: Trace
    mains: dict[int, NetworkMain]
    accounts: tuple[str, ...]  # every account whose connection taps a main left dry

    def asset_nos(self, main_ids: tuple[int, ...]) -> list[str]:
        return [self.mains[m].segment_id for m in main_ids]


@dataclass(frozen=True, slots=True)
class AffectedCustomers:
    """The customers behind the affected accounts (billing's owner of each), one page of them."""

    total: int
    customer_nos: list[str]
    next_cursor: str | None


class _Kept(Generic[T]):
    """One value per back-office adapter, rebuilt after `ttl_s` by one caller at a time."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self.value: T | None = None
        self.built_at = 0.0
        self.lock = asyncio.Lock()

    async def get(self, build: Callable[[], Awaitable[T]], what: str) -> T:
        if self.value is not None and time.monotonic() - self.built_at < self.ttl_s:
            return self.value
        if self.value is not None and self.lock.locked():
            return self.value  # a rebuild is under way: the old value serves meanwhile
        async with self.lock:
            if self.value is not None and time.monotonic() - self.built_at < self.ttl_s:
                return self.value
            started = time.monotonic()
            try:
                async with asyncio.timeout(BUILD_TIMEOUT_S):
                    value = await build()
            except Exception:
                if self.value is None:
                    raise
                logger.warning(
                    "rebuild failed: serving the previous one", extra={"what": what}, exc_info=True
                )
                self.built_at = time.monotonic() - self.ttl_s / 2  # try again before long
                return self.value
            self.value, self.built_at = value, time.monotonic()
            logger.info("built", extra={"what": what, "seconds": round(self.built_at - started, 3)})
            return value


class _PerAdapter(Generic[K, T]):
    """`_Kept` values keyed by the adapter object (by identity: fakes are unhashable dataclasses)."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._kept: dict[int, tuple[weakref.ref[K], _Kept[T]]] = {}

    def of(self, adapter: K) -> _Kept[T]:
        found = self._kept.get(id(adapter))
        if found is None or found[0]() is not adapter:
            self._kept = {k: v for k, v in self._kept.items() if v[0]() is not None}
            found = (weakref.ref(adapter), _Kept[T](self.ttl_s))
            self._kept[id(adapter)] = found
        return found[1]

    def forget(self, adapter: K) -> None:
        self._kept.pop(id(adapter), None)


_graphs: _PerAdapter[GisPort, NetworkGraph] = _PerAdapter(GRAPH_TTL_S)
_registers: _PerAdapter[CrmPort, dict[str, list[SensitiveCustomer]]] = _PerAdapter(REGISTER_TTL_S)


async def read_all(fetch: Callable[[int, int], Awaitable[Page[T]]]) -> list[T]:
    """Every item of a paged layer, following `next_offset` to the end."""
    out: list[T] = []
    offset: int | None = 0
    for _ in range(MAX_PAGES):
        if offset is None:
            return out
        page = await fetch(offset, PAGE_MAX)
        out.extend(page.items)
        if page.next_offset is not None and page.next_offset <= offset:
            raise RuntimeError(f"paging did not move on from offset {offset}")
        offset = page.next_offset
    raise RuntimeError(f"more than {MAX_PAGES} pages")


async def build_graph(gis: GisPort) -> NetworkGraph:
    """Read the four layers concurrently and build the graph (linear in the network's size)."""
    mains, valves, connections, sources = await asyncio.gather(
        read_all(gis.network_mains),
        read_all(gis.valves),
        read_all(gis.service_connection_page),
        gis.water_sources(),
    )
    taps: dict[int, list[str]] = {}
    seen: set[str] = set()
    for c in sorted(connections, key=lambda c: c.account_no):
        if c.main_object_id is not None and c.account_no not in seen:
            seen.add(c.account_no)
            taps.setdefault(c.main_object_id, []).append(c.account_no)
    return NetworkGraph(mains, valves, sources, taps)


async def graph_of(gis: GisPort) -> NetworkGraph:
    """The kept graph of this GIS adapter (built on first use, rebuilt after `GRAPH_TTL_S`)."""
    return await _graphs.of(gis).get(lambda: build_graph(gis), "network graph")


def kept_graph(gis: GisPort) -> NetworkGraph | None:
    """The graph already built for this adapter, however old, or None: for readers on a budget (the
    screen pop) that must never wait for a build."""
    return _graphs.of(gis).value


async def network_graph(ctx: RequestContext) -> NetworkGraph:
    return await graph_of(ctx.backends.gis)


def forget_graph(gis: GisPort) -> None:
    """Drop the kept graph (tests; an operator's "the GIS was edited" would call this too)."""
    _graphs.forget(gis)


def _main_id(graph: NetworkGraph, raw: str) -> int:
    """A main by asset number (GS-000205) or GIS object id (digits); NOT_FOUND for neither."""
    text = raw.strip().upper()
    if not text or len(text) > 40:
        raise public_error(f"a main is an asset number like GS-000205, got {raw!r}", ErrorCode.BAD_USER_INPUT)
    found = graph.main_id(text)
    if found is None and text.isascii() and text.isdigit() and int(text) in graph.mains:
        found = int(text)
    if found is None:
        raise public_error(f"no main {raw.strip()}", ErrorCode.NOT_FOUND)
    return found


@guarded
async def isolation_plan(ctx: RequestContext, main_id: str) -> IsolationPlan:
    graph = await network_graph(ctx)
    oid = _main_id(graph, main_id)
    trace = graph.trace(oid)
    return IsolationPlan(graph.mains[oid], trace, graph.mains, graph.accounts_on(trace.out_main_ids))


async def _accounts(ctx: RequestContext, plan: IsolationPlan) -> list[Account]:
    found = await ctx.loaders.account_by_no.load_many(list(plan.accounts))
    return [c.value for c in found if c is not None]


@guarded
async def customer_count(ctx: RequestContext, plan: IsolationPlan) -> int:
    """Distinct billing customers behind the affected accounts (accounts billing lacks are skipped)."""
    counts_only(ctx, "isolation plan customers")
    return len({a.customer_no for a in await _accounts(ctx, plan)})


@guarded
async def estimated_households(ctx: RequestContext, plan: IsolationPlan) -> int:
    """One household per residential account: shops, schools and offices are not households."""
    counts_only(ctx, "isolation plan households")
    return sum(1 for a in await _accounts(ctx, plan) if a.use_type is WaterUseType.RESIDENTIAL)


def _page_bounds(first: int, after: str | None) -> int:
    bounded("first", first, 1, 200)
    if after is None:
        return 0
    if not after.isascii() or not after.isdigit() or len(after) > 9:
        raise public_error(
            f"after must be a cursor this list returned, got {after!r}", ErrorCode.BAD_USER_INPUT
        )
    return int(after)


def affected_accounts(
    ctx: RequestContext, plan: IsolationPlan, first: int, after: str | None
) -> tuple[list[str], str | None]:
    """One page of the affected accounts (GIS order: by main, then 户号): supervisors only."""
    require_unrestricted(ctx, "isolation plan accounts")
    start = _page_bounds(first, after)
    page = list(plan.accounts[start : start + first])
    return page, str(start + first) if start + first < len(plan.accounts) else None


@guarded
async def affected_customers(
    ctx: RequestContext, plan: IsolationPlan, first: int, after: str | None
) -> AffectedCustomers:
    """One page of the affected customers (by customer number): supervisors only."""
    require_unrestricted(ctx, "isolation plan customers")
    start = _page_bounds(first, after)
    everyone = sorted({a.customer_no for a in await _accounts(ctx, plan)})
    following = str(start + first) if start + first < len(everyone) else None
    return AffectedCustomers(len(everyone), everyone[start : start + first], following)


async def _register(crm: CrmPort) -> dict[str, list[SensitiveCustomer]]:
    by_account: dict[str, list[SensitiveCustomer]] = {}
    for entry in await crm.sensitive_customers():
        by_account.setdefault(entry.account_no, []).append(entry)
    return by_account


async def _sensitive(ctx: RequestContext, plan: IsolationPlan) -> list[SensitiveCustomer]:
    crm = ctx.backends.crm
    register = await _registers.of(crm).get(lambda: _register(crm), "sensitive register")
    return [entry for no in plan.accounts for entry in register.get(no, ())]


@guarded
async def sensitive_count(ctx: RequestContext, plan: IsolationPlan) -> int:
    return len(await _sensitive(ctx, plan))


@guarded
async def sensitive_customers(ctx: RequestContext, plan: IsolationPlan) -> list[SensitiveCustomer]:
    """The register's entries at the affected accounts: supervisors only (care needs are health data)."""
    require_unrestricted(ctx, "isolation plan sensitive customers")
    return await _sensitive(ctx, plan)


def forget_register(crm: CrmPort) -> None:
    _registers.forget(crm)
