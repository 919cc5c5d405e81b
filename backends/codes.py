"""Code tables and field mappings kept as data: a YAML file beside each backend client.

A table maps a vendor's raw code to a domain enum member. A broken file stops start-up with a
message naming the file and the entry; an unknown code at run time becomes the enum's UNKNOWN
member and is logged with the raw value, never a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import yaml

logger = logging.getLogger("tidegate.codes")

E = TypeVar("E", bound=Enum)


class CodeTableError(Exception):
    """A code table file is missing, malformed or names members that do not exist."""


@dataclass(frozen=True)
class CodeTables:
    backend: str
    path: Path
    tables: Mapping[str, Mapping[str, Enum]]
    fields: Mapping[str, str]

    def lookup(self, table: str, raw: str | None, enum: type[E]) -> E:
        """The member for `raw`, or `enum.UNKNOWN` (logged) when the table does not know it."""
        code = (raw or "").strip()
        member = self.tables[table].get(code)
        if isinstance(member, enum):
            return member
        logger.warning("unknown code", extra={"backend": self.backend, "table": table, "raw_code": code})
        return enum["UNKNOWN"]

    def field(self, name: str) -> str:
        """The vendor's name for one of our fields."""
        return self.fields[name]


def load_code_tables(
    backend: str,
    path: Path,
    enums: Mapping[str, type[Enum]],
    fields: frozenset[str] = frozenset(),
) -> CodeTables:
    """Load and validate `path`: every table in `enums`, every field in `fields`, nothing unknown."""
    try:
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CodeTableError(f"{path}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise CodeTableError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise CodeTableError(f"{path}: expected a mapping with 'codes' and 'fields'")
    raw_tables = doc.get("codes") or {}
    raw_fields = doc.get("fields") or {}
    if not isinstance(raw_tables, dict) or not isinstance(raw_fields, dict):
        raise CodeTableError(f"{path}: 'codes' and 'fields' must be mappings")
    missing = sorted(set(enums) - set(raw_tables))
    extra = sorted(set(raw_tables) - set(enums))
    if missing or extra:
        raise CodeTableError(f"{path}: tables missing {missing or '[]'}, unexpected {extra or '[]'}")
    tables = {name: _table(path, name, raw_tables[name], enum) for name, enum in enums.items()}
    missing_fields = sorted(fields - set(raw_fields))
    if missing_fields:
        raise CodeTableError(f"{path}: fields missing {missing_fields}")
    for name, wire in raw_fields.items():
        if not isinstance(wire, str) or not wire:
            raise CodeTableError(f"{path}: fields.{name}: expected the vendor's field name, got {wire!r}")
    return CodeTables(backend, path, tables, {str(k): v for k, v in raw_fields.items()})


def _table(path: Path, name: str, entries: Any, enum: type[Enum]) -> dict[str, Enum]:
    if not isinstance(entries, dict) or not entries:
        raise CodeTableError(f"{path}: codes.{name}: expected a non-empty mapping of code to {enum.__name__}")
    out: dict[str, Enum] = {}
    for code, member in entries.items():
        if not isinstance(code, str):
            raise CodeTableError(f"{path}: codes.{name}: code {code!r} must be quoted as a string")
        if not isinstance(member, str) or member not in enum.__members__ or member == "UNKNOWN":
            choices = ", ".join(m for m in enum.__members__ if m != "UNKNOWN")
            raise CodeTableError(
                f"{path}: codes.{name}.{code!r}: {member!r} is not a {enum.__name__} member "
                f"(one of {choices})"
            )
        out[code] = enum[member]
    return out
