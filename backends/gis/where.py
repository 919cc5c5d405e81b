"""Safe SQL-92 `where` clauses and `objectIds` lists: nothing a caller sends is pasted in raw.

Text values are quoted by doubling single quotes; numeric values must be real ints (a bool or a
numeric-looking string is refused), so no input can change a clause's shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

EVERYTHING = "1=1"


def quote(value: str) -> str:
    """A string literal: `O'Brien` -> `'O''Brien'`."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return "'" + value.replace("'", "''") + "'"


def integer(value: int) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an int, got {type(value).__name__}: {value!r}")
    return str(value)


def field(name: str) -> str:
    """Field names come from our YAML, but they go in verbatim: check them anyway."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a field name: {name!r}")
    return name


def in_text(name: str, values: Iterable[str]) -> str:
    """`NAME IN ('a','b')`; an empty list matches nothing."""
    quoted = [quote(v) for v in values]
    return f"{field(name)} IN ({','.join(quoted)})" if quoted else "1=0"


def in_ints(name: str, values: Iterable[int]) -> str:
    numbers = [integer(v) for v in values]
    return f"{field(name)} IN ({','.join(numbers)})" if numbers else "1=0"


def not_in_ints(name: str, values: Iterable[int]) -> str:
    """Null counts as "not in": SQL's three-valued logic would otherwise drop those rows."""
    numbers = [integer(v) for v in values]
    if not numbers:
        return EVERYTHING
    return f"({field(name)} IS NULL OR {name} NOT IN ({','.join(numbers)}))"


def object_ids(values: Iterable[int]) -> str:
    """The `objectIds` parameter: comma-separated ints."""
    return ",".join(integer(v) for v in values)
