"""The seeded world's records in neutral form.

Each simulator renders these in its own wire format and key style; the
canonical values here are what the four systems agree on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

LonLat = tuple[float, float]


@dataclass(frozen=True, slots=True)
class FieldWorker:
    worker_id: str  # "W017"
    name: str
    mobile: str


@dataclass(frozen=True, slots=True)
class Grid:
    code: str  # "WG-07"
    name: str  # "临江区第07网格"
    ring: tuple[LonLat, ...]  # closed polygon, counter-clockwise
    worker: FieldWorker

    def contains(self, point: LonLat) -> bool:
        xs = [p[0] for p in self.ring]
        ys = [p[1] for p in self.ring]
        return min(xs) <= point[0] < max(xs) and min(ys) <= point[1] < max(ys)


@dataclass(frozen=True, slots=True)
class Road:
    name: str
    axis: str  # "ew" (constant latitude) or "ns" (constant longitude)
    index: int
    width_class: int  # 1 trunk, 2 secondary, 3 branch


@dataclass(frozen=True, slots=True)
class Compound:
    """A 小区: buildings in one block, named, served from the block's south road."""

    compound_id: int
    name: str
    road: Road  # the road its gate opens onto (address road)
    gate_no: int  # 门牌号 on that road
    centre: LonLat
    block: tuple[int, int]  # (ew row, ns column) of the block it sits in
    footprint: tuple[float, float, float, float]  # (lon0, lat0, lon1, lat1) its buildings stand in


@dataclass(frozen=True, slots=True)
class Frontage:
    """Where a premises takes its water: a point along a road, on one side of it.

    `along` is in street units from the district's south-west corner (east-west roads: columns,
    north-south streets: rows), so `int(along)` is the block-long link between two junctions.
    `side` is +1 north (east-west roads) or east (north-south streets) of the road, -1 the other.
    """

    road: Road
    along: float
    side: int


@dataclass(frozen=True, slots=True)
class Premises:
    """One metered place: a flat in a compound, or a shop on a street."""

    premises_id: int
    compound: Compound | None
    road: Road
    house_no: int  # 门牌号
    building: int | None  # 幢
    unit: int | None  # 单元
    room: str | None  # 室, e.g. "1502"
    location: LonLat
    district: str
    city: str
    frontage: Frontage

    @property
    def address(self) -> str:
        head = f"{self.city}{self.district}{self.road.name}{self.house_no}号"
        if self.compound is None:
            return head
        return f"{head}{self.compound.name}{self.building}幢{self.unit}单元{self.room}室"


@dataclass(frozen=True, slots=True)
class Main:
    """A water main between two network nodes, laid along a road (FROM_NODE to TO_NODE)."""

    main_id: int  # GIS OBJECTID
    asset_no: str  # "GS-000123"
    road: Road
    from_node: int
    to_node: int
    path: tuple[LonLat, LonLat]
    material: int  # domain code
    diameter_mm: int
    install_date: date
    pressure_zone: str
    dma: str
    status: int  # domain code
    length_m: float
    main_type: int = 1  # domain code: 1 distribution (配水管), 2 transmission (输水管)


@dataclass(frozen=True, slots=True)
class Valve:
    """A valve on `main_id`, a few metres from `node`, one of that main's two ends.

    `node` is the protected node (PROT_NODE): closing the valve separates the main from it.
    """

    valve_id: int
    asset_no: str
    main_id: int
    node: int
    location: LonLat
    valve_type: int  # domain code
    normally_open: bool
    currently_open: bool
    operable: bool
    boundary: int = 0  # domain code: 0 none, 1 DMA boundary, 2 pressure-zone boundary


@dataclass(frozen=True, slots=True)
class Source:
    """Where water enters the district: a works, reservoir, tank or pump station, and its outlet."""

    source_id: int  # GIS OBJECTID
    asset_no: str  # "SY-0001"
    name: str
    kind: int  # domain code: 1 水厂, 2 清水池, 3 高位水池, 4 加压泵站
    node: int  # the node it delivers into
    location: LonLat
    main_ids: tuple[int, ...]  # the mains it feeds
    pressure_zone: str
    capacity_m3d: int


@dataclass(frozen=True, slots=True)
class PressureZone:
    code: str  # "PZ1"
    name: str
    ring: tuple[LonLat, ...]  # closed, counter-clockwise
    source_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Customer:
    customer_no: int  # canonical customer number
    name: str
    kind: str  # "person" or "org"
    id_card: str | None  # 18-digit, persons only
    mobile: str | None
    landline: str | None
    since: date


@dataclass(frozen=True, slots=True)
class Account:
    account_no: str  # 户号: 10 digits with leading zeros
    customer_no: int
    premises: Premises
    use_type: str  # 用水性质 "01".."04" (a few rogue codes on purpose)
    status: str  # 户状态
    pay_method: str  # 收费方式
    opened: date
    meter_no: str
    meter_size_mm: int
    direct_debit: bool
    main_id: int  # the main its service connection taps
    service_point: LonLat
    grid_code: str


@dataclass(frozen=True, slots=True)
class Outage:
    outage_id: str  # "TS2026110001"
    kind: int  # 1 planned, 2 emergency
    status: int  # 0 scheduled, 1 active, 2 restored, 3 cancelled
    reason: str
    start: int  # epoch seconds
    est_restore: int
    main_ids: tuple[int, ...]  # every main out of water: the isolated segment and what it cuts off
    ring: tuple[LonLat, ...]
    affected_accounts: int  # accounts whose service connection taps one of `main_ids`
    valve_ids: tuple[int, ...] = ()  # the valves closed to isolate the segment


@dataclass(slots=True)
class WorkOrderSeed:
    """A historical repair order; the work-order simulator owns its later life."""

    order_no: str
    customer_no: int
    account_no: str
    type_code: str  # numeric type code as the read API returns it
    urgency: str
    description: str
    address: str
    location: LonLat
    grid_code: str
    worker_id: str | None
    status: str
    created_ms: int
    updated_ms: int
    history: list[tuple[str, int]] = field(default_factory=list)
