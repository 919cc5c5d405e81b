"""The network's topology as the GIS models it: mains between nodes, valves, sources.

These records are what the isolation trace is built from (`domain.network_graph`); they carry
only what the trace needs, so reading every feature of a layer stays cheap. `Page` is one page of
a layer read in object-id order: `next_offset` is where the next page starts, None after the last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.enums import MainKind, PipeStatus, SensitiveCategory, SourceKind, ValveBoundary
from domain.geo import GeoPoint

T = TypeVar("T")

PAGE_MAX = 1000  # the most features one page holds (the GIS's maxRecordCount)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_offset: int | None


@dataclass(frozen=True, slots=True)
class NetworkMain:
    """A main from `from_node` to `to_node` (GIS node ids); `segment_id` is its asset number."""

    object_id: int
    segment_id: str
    from_node: int
    to_node: int
    status: PipeStatus
    kind: MainKind
    diameter_mm: int | None
    road_name: str | None


@dataclass(frozen=True, slots=True)
class Valve:
    """A valve on `main_object_id`, next to `protected_node`: closing it separates that main from
    that node. A valve nobody can turn (`operable` False) isolates nothing until it is repaired."""

    object_id: int
    asset_no: str
    main_object_id: int
    protected_node: int
    operable: bool
    currently_open: bool
    normally_open: bool
    boundary: ValveBoundary
    location: GeoPoint | None


@dataclass(frozen=True, slots=True)
class WaterSource:
    """Where water enters the network: the node it delivers into."""

    object_id: int
    asset_no: str
    name: str
    kind: SourceKind
    node: int
    main_object_ids: tuple[int, ...]
    pressure_zone: str | None


@dataclass(frozen=True, slots=True)
class SensitiveCustomer:
    """An entry of the CRM's register of customers who must not be left without water unwarned."""

    register_id: str
    customer_no: str  # canonical KH…
    account_no: str  # canonical 10-digit 户号 where the need is
    category: SensitiveCategory
    note: str | None
