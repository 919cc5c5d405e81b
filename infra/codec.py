"""Domain records to JSON-able values and back, for caches that outlive one request.

Driven by each dataclass's own type hints, so a new field needs no codec change: dates and datetimes
travel as ISO 8601 (with their offset), enums as their values, tuples as lists, nested records as
objects keyed by field name. `decode` rejects what does not fit the type (a shape from an older
deploy, say) with `ValueError`, and the cache treats that as a miss.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def encode(value: Any) -> Any:
    """A JSON-able form of a record, a list or tuple of records, or a scalar."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):  # before date: a datetime is a date
        if value.tzinfo is None:
            raise ValueError("naive datetimes have no place in the domain model")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(kind: Any, data: Any) -> Any:
    """The value of type `kind` (a record class, `list[X]`, `tuple[X, ...]`, `X | None`, a scalar)."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if data is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return decode(inner, data)
    if origin in (list, tuple):
        if not isinstance(data, list):
            raise ValueError(f"expected a list for {kind}, got {type(data).__name__}")
        item = typing.get_args(kind)[0]
        items = [decode(item, v) for v in data]
        return items if origin is list else tuple(items)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise ValueError(f"expected an object for {kind.__name__}")
        hints = _hints(kind)
        try:
            return kind(**{name: decode(hint, data[name]) for name, hint in hints.items()})
        except KeyError as exc:
            raise ValueError(f"{kind.__name__}: missing {exc}") from exc
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    if kind is datetime:
        return datetime.fromisoformat(_typed(data, str))
    if kind is date:
        return date.fromisoformat(_typed(data, str))
    if kind is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise ValueError(f"expected a number, got {data!r}")
        return float(data)
    if kind in (str, int, bool):
        return _typed(data, kind)
    raise TypeError(f"cannot decode into {kind!r}")


def _typed(data: Any, kind: type[T]) -> T:
    if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
        raise ValueError(f"expected {kind.__name__}, got {data!r}")
    return data


@cache
def _hints(kind: type) -> dict[str, Any]:
    """Field name → resolved type hint (the records use `from __future__ import annotations`)."""
    hints = typing.get_type_hints(kind)
    return {f.name: hints[f.name] for f in dataclasses.fields(kind)}
