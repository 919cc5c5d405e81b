"""Strawberry types filled from a domain record by field name, instead of one getter per field.

A type's GraphQL fields mostly are its record's fields, renamed to camelCase and with money and
points as their GraphQL types. Written out, that is one `return self.record.x` per field, and every
one of them is a place to get a field wrong. Here the type declares its fields once (description,
`@mask`) and `from_record` copies them by name, converting through the declared GraphQL type: an
object type (`Money`, `GeoPoint`, `TierLine`, `FieldWorker`) is itself filled from the value, lists
element by element. Where the GraphQL name differs from the record's, `record_field(source=...)`
says which attribute it copies.

`loaded_field` is the same for types whose record loads on first use (`Account`, `Customer`): the
field awaits the type's `load_record` and copies from what it returns, so the fields still load
concurrently and a failing backend still blanks only its own fields.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol, TypeVar, cast

import strawberry
from strawberry.types.base import (
    StrawberryList,
    StrawberryOptional,
    get_object_definition,
    has_object_definition,
)
from strawberry.types.field import StrawberryField
from strawberry.types.private import is_private

from schema.info import Info

# A field's metadata key: the record attribute it is copied from (None: the field's own name).
SOURCE: Final = "tidegate.record"
# A `loaded_field`'s metadata key for its `compute`: the value worked out from the record.
COMPUTED: Final = "tidegate.computed"
# Set on `loaded_field`'s resolver: a planned walk (`schema.compiled`) loads the record once per object
# for all such fields, where each field's resolver would await it on its own.
LOADED: Final = "tidegate_loaded_field"

T = TypeVar("T")


class LoadsRecord(Protocol):
    """A type whose record loads when a field first asks (the loaders batch and cache it)."""

    def load_record(self, info: Info) -> Awaitable[object]: ...


def record_field(*, source: str | None = None, **options: Any) -> Any:
    """`strawberry.field(**options)` copied from the record's `source` attribute (default: its name)."""
    return cast(Any, strawberry.field)(metadata={SOURCE: source}, **options)


def loaded_field(
    *, source: str | None = None, compute: Callable[[Any], Any] | None = None, **options: Any
) -> Any:
    """A field copied from the record `load_record` gives; async, so the type's fields load concurrently.
    `compute`, in place of an attribute: the field's value worked out from the record alone (a first
    phone number, an amount due), then converted through the declared type as a copied value is. The
    field is still the record's: a planned walk reads it from the one load with the others."""
    if source is not None and compute is not None:
        raise TypeError("a loaded field is copied from `source` or worked out by `compute`, not both")
    field: StrawberryField
    read: Callable[[Any], Any] | None = compute

    async def resolve(self: LoadsRecord, info: Info) -> Any:
        record = await self.load_record(info)
        value = read(record) if read is not None else getattr(record, source or field.python_name)
        return convert(field.type, value)

    setattr(resolve, LOADED, True)
    metadata = {COMPUTED: compute} if compute is not None else {SOURCE: source}
    field = cast(Any, strawberry.field)(resolver=resolve, metadata=metadata, **options)
    return field


def loaded_reader(field: StrawberryField) -> Callable[[Any], Any] | None:
    """How a `loaded_field` reads its value from the record (its attribute, or its `compute`); None
    for any other field."""
    resolver = field.base_resolver
    if resolver is None or not getattr(resolver.wrapped_func, LOADED, False):
        return None
    compute = field.metadata.get(COMPUTED)
    if compute is not None:
        return cast("Callable[[Any], Any]", compute)
    return operator.attrgetter(cast("str | None", field.metadata.get(SOURCE)) or field.python_name)


def from_record(cls: type[T], record: object, /, **given: Any) -> T:
    """An instance of the Strawberry type `cls`: `given` as they are, every other data field from
    `record` by name (or by `record_field`'s `source`). Private fields are only ever `given`."""
    values = dict(given)
    plan = _PLANS.get(cls) or _PLANS.setdefault(cls, _plan(cls))
    for name, source, into in plan:
        if name not in values:
            value = getattr(record, source)
            values[name] = value if into is None or value is None else into(value)
    return cls(**values)


def convert(target: object, value: Any) -> Any:
    """A record's value as the GraphQL type `target` wants it: object types filled from it by name,
    lists element by element, scalars and enums as they are."""
    into = converter(target)
    return value if into is None or value is None else into(value)


Into = Callable[[Any], Any]


def converter(target: object) -> Into | None:
    """`convert` for one GraphQL type, decided once (types are filled many times a request, and asking
    a type what it is costs more than the copy); None: a value (never None) passes as it is."""
    if isinstance(target, StrawberryOptional):
        return converter(target.of_type)
    if isinstance(target, StrawberryList):
        each = converter(target.of_type)
        if each is None:
            return list
        return functools.partial(_each, each)
    if isinstance(target, type) and has_object_definition(target):
        return functools.partial(from_record, target)
    return None


def _each(into: Into, items: Any) -> list[Any]:
    return [None if item is None else into(item) for item in items]


_PLANS: dict[type, tuple[tuple[str, str, Into | None], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, str, Into | None], ...]:
    """(field, record attribute, converter) of each data field: worked out once per type."""
    return tuple(
        (f.python_name, f.metadata.get(SOURCE) or f.python_name, converter(f.type))
        for f in get_object_definition(cls, strict=True).fields
        if f.base_resolver is None and f.init and not is_private(f.type)
    )
