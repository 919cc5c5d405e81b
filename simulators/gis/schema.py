"""Layer schemas: fields and coded-value domains as the utility's enterprise geodatabase defines them.

Coded fields carry raw codes in query results; only these domains say what a code means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from simulators.world.network import (
    MAIN_STATUS,
    MAIN_TYPES,
    MATERIALS,
    OUTAGE_KINDS,
    OUTAGE_STATUS,
    SOURCE_KINDS,
    VALVE_BOUNDARY,
    VALVE_TYPES,
)

OID = "esriFieldTypeOID"
STRING = "esriFieldTypeString"
SMALLINT = "esriFieldTypeSmallInteger"
INTEGER = "esriFieldTypeInteger"
DOUBLE = "esriFieldTypeDouble"
DATE = "esriFieldTypeDate"

POINT = "esriGeometryPoint"
POLYLINE = "esriGeometryPolyline"
POLYGON = "esriGeometryPolygon"

WKID = 4490  # CGCS2000, China's national geographic datum
SPATIAL_REFERENCE: dict[str, int] = {"wkid": WKID, "latestWkid": WKID}
MAX_RECORD_COUNT = 1000
# Date fields hold local (China Standard Time) values, served as UTC epoch milliseconds.
DATA_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Domain:
    name: str
    codes: Mapping[int, str]

    def as_json(self) -> dict[str, Any]:
        coded = [{"name": label, "code": code} for code, label in self.codes.items()]
        return {"type": "codedValue", "name": self.name, "codedValues": coded}


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    alias: str
    length: int | None = None
    domain: Domain | None = None

    @property
    def kind(self) -> str:
        """How the where parser compares it: "num", "str" or "date"."""
        if self.type == STRING:
            return "str"
        return "date" if self.type == DATE else "num"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "alias": self.alias,
            "sqlType": "sqlTypeOther",
        }
        if self.length is not None:
            out["length"] = self.length
        out["nullable"] = self.type != OID
        out["editable"] = self.type != OID
        out["domain"] = self.domain.as_json() if self.domain else None
        out["defaultValue"] = None
        return out


@dataclass(frozen=True)
class LayerSchema:
    id: int
    name: str
    geometry_type: str
    display_field: str
    description: str
    fields: tuple[Field, ...]
    max_record_count: int = MAX_RECORD_COUNT
    by_upper: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_upper", {f.name.upper(): f for f in self.fields})

    def field(self, name: str) -> Field | None:
        """Field names are case-insensitive, as in the geodatabase."""
        return self.by_upper.get(name.strip().upper())


MATERIAL_DOMAIN = Domain("WaterMainMaterial", MATERIALS)
LIFECYCLE_DOMAIN = Domain("LifecycleStatus", MAIN_STATUS)
VALVE_TYPE_DOMAIN = Domain("ValveType", VALVE_TYPES)
NORMAL_POS_DOMAIN = Domain("ValveNormalPosition", {1: "常开", 0: "常闭"})
CURRENT_POS_DOMAIN = Domain("ValveCurrentPosition", {1: "开启", 0: "关闭"})
YES_NO_DOMAIN = Domain("YesNo", {1: "是", 0: "否"})
MAIN_TYPE_DOMAIN = Domain("WaterMainType", MAIN_TYPES)
VALVE_BOUNDARY_DOMAIN = Domain("ValveBoundary", VALVE_BOUNDARY)
SOURCE_TYPE_DOMAIN = Domain("WaterSourceType", SOURCE_KINDS)
OUTAGE_TYPE_DOMAIN = Domain("OutageType", OUTAGE_KINDS)
OUTAGE_STATUS_DOMAIN = Domain("OutageStatus", OUTAGE_STATUS)

_OID = Field("OBJECTID", OID, "OBJECTID")

WATER_MAINS = LayerSchema(
    0,
    "WaterMains",
    POLYLINE,
    "ASSET_NO",
    "供水管线",
    (
        _OID,
        Field("ASSET_NO", STRING, "管线编号", 20),
        Field("ROAD_NAME", STRING, "所在道路", 50),
        Field("MATERIAL", SMALLINT, "管材", domain=MATERIAL_DOMAIN),
        Field("DIAMETER", INTEGER, "管径(DN)"),
        Field("INSTALL_DATE", DATE, "敷设日期", 8),
        Field("PRESSURE_ZONE", STRING, "压力分区", 10),
        Field("DMA", STRING, "计量分区", 10),
        Field("STATUS", SMALLINT, "运行状态", domain=LIFECYCLE_DOMAIN),
        Field("LENGTH_M", DOUBLE, "管长(米)"),
        Field("FROM_NODE", INTEGER, "起点节点"),
        Field("TO_NODE", INTEGER, "终点节点"),
        Field("MAIN_TYPE", SMALLINT, "管线类别", domain=MAIN_TYPE_DOMAIN),
    ),
)

VALVES = LayerSchema(
    1,
    "Valves",
    POINT,
    "ASSET_NO",
    "阀门",
    (
        _OID,
        Field("ASSET_NO", STRING, "阀门编号", 20),
        Field("VALVE_TYPE", SMALLINT, "阀门类型", domain=VALVE_TYPE_DOMAIN),
        Field("DIAMETER", INTEGER, "口径(DN)"),
        Field("MAIN_ID", INTEGER, "所在管线"),
        Field("NORMAL_POS", SMALLINT, "常态启闭", domain=NORMAL_POS_DOMAIN),
        Field("CURRENT_POS", SMALLINT, "当前启闭", domain=CURRENT_POS_DOMAIN),
        Field("OPERABLE", SMALLINT, "是否可操作", domain=YES_NO_DOMAIN),
        Field("PROT_NODE", INTEGER, "保护节点"),  # the end of MAIN_ID it shuts the main off from
        Field("BOUNDARY", SMALLINT, "分区边界", domain=VALVE_BOUNDARY_DOMAIN),
    ),
)

SERVICE_CONNECTIONS = LayerSchema(
    2,
    "ServiceConnections",
    POINT,
    "ACCT_NO",
    "用户接水点",
    (
        _OID,
        Field("ACCT_NO", STRING, "户号", 20),
        Field("MAIN_ID", INTEGER, "接驳管线"),
        Field("GRID_CODE", STRING, "所属网格", 10),
        Field("DN", SMALLINT, "接管口径(DN)"),
        Field("INSTALL_DATE", DATE, "接水日期", 8),
    ),
)

GRIDS = LayerSchema(
    3,
    "Grids",
    POLYGON,
    "GRID_NAME",
    "网格化管理网格",
    (
        _OID,
        Field("GRID_CODE", STRING, "网格编码", 10),
        Field("GRID_NAME", STRING, "网格名称", 50),
        Field("WORKER_ID", STRING, "网格员工号", 10),
        Field("WORKER_NAME", STRING, "网格员", 20),
        Field("WORKER_MOBILE", STRING, "网格员电话", 20),
    ),
)

OUTAGES = LayerSchema(
    4,
    "Outages",
    POLYGON,
    "OUTAGE_ID",
    "停水范围",
    (
        _OID,
        Field("OUTAGE_ID", STRING, "停水编号", 20),
        Field("OUTAGE_TYPE", SMALLINT, "停水类型", domain=OUTAGE_TYPE_DOMAIN),
        Field("STATUS", SMALLINT, "停水状态", domain=OUTAGE_STATUS_DOMAIN),
        Field("REASON", STRING, "停水原因", 200),
        Field("START_TIME", DATE, "停水开始时间", 8),
        Field("EST_RESTORE", DATE, "预计恢复时间", 8),
        Field("MAIN_IDS", STRING, "涉及管线", 2000),
        Field("AFFECTED_CNT", INTEGER, "影响户数"),
        Field("VALVE_IDS", STRING, "关闭阀门", 500),
    ),
)

SOURCES = LayerSchema(
    5,
    "WaterSources",
    POINT,
    "NAME",
    "水源(水厂、清水池、高位水池、加压泵站)",
    (
        _OID,
        Field("ASSET_NO", STRING, "水源编号", 20),
        Field("NAME", STRING, "名称", 50),
        Field("SOURCE_TYPE", SMALLINT, "水源类型", domain=SOURCE_TYPE_DOMAIN),
        Field("NODE_ID", INTEGER, "供水节点"),
        Field("MAIN_IDS", STRING, "出水管线", 200),
        Field("PRESSURE_ZONE", STRING, "压力分区", 10),
        Field("CAPACITY", INTEGER, "供水能力(m³/日)"),
    ),
)

PRESSURE_ZONES = LayerSchema(
    6,
    "PressureZones",
    POLYGON,
    "ZONE_NAME",
    "供水压力分区",
    (
        _OID,
        Field("ZONE_CODE", STRING, "分区编码", 10),
        Field("ZONE_NAME", STRING, "分区名称", 50),
        Field("SOURCE_IDS", STRING, "水源", 100),
    ),
)

SCHEMAS: tuple[LayerSchema, ...] = (
    WATER_MAINS,
    VALVES,
    SERVICE_CONNECTIONS,
    GRIDS,
    OUTAGES,
    SOURCES,
    PRESSURE_ZONES,
)
