"""The GIS code tables and field mapping from `codes.yaml`, with the checks only the GIS needs.

Beyond the shared validation: every code must be an integer (esri coded values are numeric),
every attribute name a plain identifier (it goes into `where` and `outFields` verbatim), every
layer id a number, and no key we do not map (a typo would silently become an outField).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Literal, TypeVar

from backends.codes import CodeTableError, CodeTables, load_code_tables
from domain.enums import (
    MainKind,
    OutageKind,
    OutageStatus,
    PipeMaterial,
    PipeStatus,
    SourceKind,
    ValveBoundary,
)

DEFAULT_PATH = Path(__file__).with_name("codes.yaml")

Kind = Literal["segment", "connection", "grid", "outage", "main", "valve", "source"]
KINDS: tuple[Kind, ...] = ("segment", "connection", "grid", "outage", "main", "valve", "source")

ENUMS: dict[str, type[Enum]] = {
    "pipe_material": PipeMaterial,
    "pipe_status": PipeStatus,
    "outage_kind": OutageKind,
    "outage_status": OutageStatus,
    "main_kind": MainKind,
    "valve_boundary": ValveBoundary,
    "source_kind": SourceKind,
}

_RECORD_FIELDS: dict[Kind, tuple[str, ...]] = {
    "segment": (
        "object_id",
        "segment_id",
        "road_name",
        "material",
        "diameter_mm",
        "installed_on",
        "pressure_zone",
        "dma",
        "status",
        "length_m",
    ),
    "connection": ("object_id", "account_no", "main_object_id", "grid_code"),
    "grid": ("object_id", "code", "name", "worker_id", "worker_name", "worker_mobile"),
    "outage": (
        "object_id",
        "outage_id",
        "kind",
        "status",
        "reason",
        "starts_at",
        "estimated_restore_at",
        "main_object_ids",
        "affected_accounts",
        "valve_object_ids",
    ),
    # The topology the isolation trace reads (the mains layer again, with its node ids).
    "main": ("object_id", "segment_id", "from_node", "to_node", "status", "kind", "diameter_mm", "road_name"),
    "valve": (
        "object_id",
        "asset_no",
        "main_object_id",
        "protected_node",
        "operable",
        "currently_open",
        "normally_open",
        "boundary",
    ),
    "source": ("object_id", "asset_no", "name", "kind", "node", "main_object_ids", "pressure_zone"),
}

FIELDS = frozenset(
    {f"layer.{kind}" for kind in KINDS}
    | {f"{kind}.{name}" for kind, names in _RECORD_FIELDS.items() for name in names}
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"-?[0-9]+")

E = TypeVar("E", bound=Enum)


@dataclass(frozen=True)
class GisTables:
    """Validated tables plus the derived bits a query needs: layer ids, outFields, raw codes."""

    codes: CodeTables

    def layer(self, kind: Kind) -> str:
        return self.codes.field(f"layer.{kind}")

    def field(self, kind: Kind, name: str) -> str:
        return self.codes.field(f"{kind}.{name}")

    def out_fields(self, kind: Kind) -> str:
        """Every attribute one record is built from, comma-separated, never `*`."""
        names = dict.fromkeys(self.field(kind, name) for name in _RECORD_FIELDS[kind])
        return ",".join(names)

    def lookup(self, table: str, raw: str | None, enum: type[E]) -> E:
        return self.codes.lookup(table, raw, enum)

    def raw_codes(self, table: str, member: Enum) -> tuple[int, ...]:
        """The wire codes meaning `member`, for filtering server-side (e.g. STATUS = 1 for ACTIVE)."""
        return tuple(int(code) for code, m in self.codes.tables[table].items() if m is member)


def load_tables(path: Path | None = None) -> GisTables:
    """Load and validate at client construction: a broken file stops start-up, naming the entry."""
    path = path or DEFAULT_PATH
    codes = load_code_tables("gis", path, ENUMS, FIELDS)
    for table, entries in codes.tables.items():
        for code in entries:
            if not _INTEGER.fullmatch(code):
                raise CodeTableError(f"{path}: codes.{table}.{code!r}: esri coded values are integers")
    for key, wire in codes.fields.items():
        if key not in FIELDS:
            raise CodeTableError(f"{path}: fields.{key}: not a field the GIS client maps")
        if key.startswith("layer."):
            if not wire.isascii() or not wire.isdigit():
                raise CodeTableError(f"{path}: fields.{key}: layer id must be a number, got {wire!r}")
        elif not _IDENTIFIER.fullmatch(wire):
            raise CodeTableError(f"{path}: fields.{key}: {wire!r} is not an esri field name")
    return GisTables(codes)
