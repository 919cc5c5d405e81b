"""One element of an answer, read column by column with the legacy quirks absorbed.

Every column goes through `text`: CHAR padding stripped, `""` and `"null"` (two generations of
the vendor's DAO layer) both meaning "no value". Typed readers turn anything unreadable into a
BackendProtocolError naming the operation, the row and the column.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from xml.etree.ElementTree import Element

from backends.vendor_times import from_compact_date, from_compact_local
from domain.money import Money
from infra.errors import BackendProtocolError

BACKEND = "billing"
_INTEGER = re.compile(r"-?\d+")
_ABSENT = frozenset({"", "null"})


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


class Row:
    """A wire element plus the operation it came from, for error messages."""

    __slots__ = ("element", "op")

    def __init__(self, element: Element, op: str) -> None:
        self.element = element
        self.op = op

    @property
    def tag(self) -> str:
        return local_name(self.element.tag)

    def fail(self, column: str, reason: str) -> BackendProtocolError:
        return BackendProtocolError(BACKEND, f"{self.op}: <{self.tag}>/{column}: {reason}")

    def rows(self, tag: str) -> list[Row]:
        """Every descendant element named `tag`, whatever list wrapper holds it."""
        return [Row(e, self.op) for e in self.element.iter() if local_name(e.tag) == tag]

    def text(self, column: str) -> str | None:
        """A direct child's value, stripped; None when absent, empty or "null"."""
        for child in self.element:
            if local_name(child.tag) == column:
                value = (child.text or "").strip()
                return None if value.lower() in _ABSENT else value
        return None

    def required(self, column: str) -> str:
        value = self.text(column)
        if value is None:
            raise self.fail(column, "missing")
        return value

    def integer(self, column: str) -> int:
        value = self.integer_or_none(column)
        if value is None:
            raise self.fail(column, "missing")
        return value

    def integer_or_none(self, column: str) -> int | None:
        value = self.text(column)
        if value is None:
            return None
        if not _INTEGER.fullmatch(value):
            raise self.fail(column, f"expected an integer, got {value!r}")
        return int(value)

    def money(self, column: str) -> Money:
        """Amounts travel as integer fen in strings ("12345" is 123.45 yuan)."""
        return Money(self.integer(column))

    def timestamp(self, column: str) -> datetime | None:
        """`yyyyMMddHHmmss` local time, read as +08:00."""
        value = self.text(column)
        if value is None:
            return None
        try:
            return from_compact_local(value)
        except ValueError as exc:
            raise self.fail(column, str(exc)) from exc

    def day(self, column: str) -> date | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            return from_compact_date(value)
        except ValueError as exc:
            raise self.fail(column, str(exc)) from exc
