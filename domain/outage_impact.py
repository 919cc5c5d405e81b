"""Who an outage leaves without water, and why: from its closed valves through the network to phones.

An outage in the GIS names the valves it closed (`VALVE_IDS`) and its mains. The polygon drawn
around it says nothing reliable about who is dry: a street downstream of the closure loses its
supply although it lies outside, and the far side of a boundary valve inside the polygon is still
fed. So the reach of an outage is computed on the network graph (`domain.network_graph`):

- close the outage's valves; every in-service main no source reaches any more is *out*;
- an out main whose valve segment one of the closures cuts straight off a side that still has water
  is `SHUT`; any other out main is `DOWNSTREAM` (it was fed through a shut segment);
- an outage that names no valve the network holds falls back to its mains' isolation traces;
  one that names neither valves nor mains the network holds has no reach here (`traced` False), and
  the caller may fall back to the polygon.

The index maps accounts (and, once phones are known, phone numbers) to notices. It is pure data,
built in one pass linear in the affected accounts, and read by dictionary look-up only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum

from domain.enums import OutageKind
from domain.network_graph import NetworkGraph
from domain.records import Outage

SHANGHAI = timezone(timedelta(hours=8))


class ImpactCause(Enum):
    SHUT = "SHUT"  # the outage's valves are closed around this main
    DOWNSTREAM = "DOWNSTREAM"  # fed through the shut section: loses supply although not shut itself
    UNKNOWN = "UNKNOWN"  # the network could not place the outage: its polygon decided


@dataclass(frozen=True, slots=True)
class OutageReach:
    """The mains one outage leaves dry, each with its cause, and the valves it closed (asset nos)."""

    outage: Outage
    causes: Mapping[int, ImpactCause]  # main object id -> cause
    closed_valves: tuple[str, ...]
    traced: bool  # False: the outage names nothing the network holds (no trace was possible)


@dataclass(frozen=True, slots=True)
class OutageNotice:
    """What a caller on an affected account is told: which outage, why, and when water is back."""

    outage_id: str
    kind: OutageKind
    reason: str | None
    cause: ImpactCause
    main_asset_no: str  # the main the caller's service connection taps
    road_name: str | None
    closed_valves: tuple[str, ...]
    estimated_restore_at: datetime | None

    @property
    def message(self) -> str:
        """A short sentence the IVR can play (text to speech), in the utility's language."""
        where = self.road_name or self.main_asset_no
        what = self.reason or ("计划停水" if self.kind is OutageKind.PLANNED else "供水管道抢修")
        if self.cause is ImpactCause.DOWNSTREAM:
            head = f"{where}上游管道关阀停水（{what}），您所在区域暂停供水。"
        else:
            head = f"{where}因{what}关阀停水。"
        if self.estimated_restore_at is None:
            return head + "恢复时间待定。"
        local = self.estimated_restore_at.astimezone(SHANGHAI)
        return head + f"预计{local.month}月{local.day}日{local:%H:%M}恢复供水。"


def outage_reach(graph: NetworkGraph, outage: Outage) -> OutageReach:
    """The outage's dry mains and why, from its closed valves (else its mains' traces)."""
    closed = [v for v in outage.valve_object_ids if v in graph.valves]
    known_mains = [m for m in outage.main_object_ids if m in graph.mains]
    causes: dict[int, ImpactCause] = {}
    if closed:
        out = graph.unfed_after_closing(closed)
        still_fed = graph.fed_main_ids - out
        # Shut: a closure cut the main's segment straight off a side that still has water. Any
        # other dry main lost its supply because it was fed through a shut segment: downstream.
        links = {(graph.valves[v].main_object_id, graph.valves[v].protected_node) for v in closed}
        shut_segments: set[int] = set()
        for v in closed:
            valve = graph.valves[v]
            main_side, node_side = graph.segments_at(v)
            node_wet = any(
                m in still_fed and (m, valve.protected_node) not in links
                for m in graph.mains_at_node(valve.protected_node)
            )
            if valve.main_object_id in still_fed:
                shut_segments.add(node_side)
            if node_wet:
                shut_segments.add(main_side)
        for main in sorted(out):
            shut = graph.segment_of_main(main) in shut_segments
            causes[main] = ImpactCause.SHUT if shut else ImpactCause.DOWNSTREAM
        valves = tuple(graph.valves[v].asset_no for v in sorted(closed))
    elif known_mains:
        closing: set[int] = set()
        for main in known_mains:
            trace = graph.trace(main)
            closing |= {v.object_id for v in trace.valves_to_close}
            for m in trace.isolated_main_ids:
                causes[m] = ImpactCause.SHUT
            for m in trace.cut_off_main_ids:
                causes.setdefault(m, ImpactCause.DOWNSTREAM)
        valves = tuple(graph.valves[v].asset_no for v in sorted(closing))
    else:
        return OutageReach(outage, {}, (), traced=False)
    return OutageReach(outage, causes, valves, traced=True)


def notice(graph: NetworkGraph, reach: OutageReach, main_id: int) -> OutageNotice:
    o = reach.outage
    main = graph.mains[main_id]
    return OutageNotice(
        outage_id=o.outage_id,
        kind=o.kind,
        reason=o.reason,
        cause=reach.causes[main_id],
        main_asset_no=main.segment_id,
        road_name=main.road_name,
        closed_valves=reach.closed_valves,
        estimated_restore_at=o.estimated_restore_at,
    )


@dataclass(frozen=True, slots=True)
class ImpactIndex:
    """Accounts and phones to the notices of the active outages that leave them dry.

    `untraced` holds the outages no trace could place (their polygon is all there is)."""

    by_account: Mapping[str, tuple[OutageNotice, ...]]
    by_phone: Mapping[str, tuple[OutageNotice, ...]]
    outages: tuple[Outage, ...]
    untraced: tuple[Outage, ...]
    built_at: float = 0.0
    phones_complete: bool = True  # False: some affected accounts' phones could not be read
    stats: Mapping[str, int] = field(default_factory=dict)


def account_notices(
    graph: NetworkGraph, reaches: Sequence[OutageReach]
) -> dict[str, tuple[OutageNotice, ...]]:
    """Every affected account's notices, outages in the order given (one pass over the dry mains)."""
    out: dict[str, list[OutageNotice]] = {}
    for reach in reaches:
        for main_id in reach.causes:
            told = notice(graph, reach, main_id)
            for account_no in graph.taps.get(main_id, ()):
                out.setdefault(account_no, []).append(told)
    return {k: tuple(v) for k, v in out.items()}


def phone_notices(
    by_account: Mapping[str, tuple[OutageNotice, ...]], phones: Mapping[str, Iterable[str]]
) -> dict[str, tuple[OutageNotice, ...]]:
    """Phones (national form) to the notices of every affected account they belong to, deduplicated
    by outage: a landlord with three dry flats hears about the outage once."""
    out: dict[str, dict[str, OutageNotice]] = {}
    for account_no, notices in by_account.items():
        for phone in phones.get(account_no, ()):
            kept = out.setdefault(phone, {})
            for n in notices:
                kept.setdefault(n.outage_id, n)
    return {phone: tuple(kept.values()) for phone, kept in out.items()}
