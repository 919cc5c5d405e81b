"""Scalars: DateTime always carries its offset; Money is integer fen plus a decimal-string yuan."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types.scalar import ScalarDefinition

from domain import geo
from domain.money import Money as DomainMoney


def serialize_datetime(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to serialize a datetime without an offset: {value!r}")
    return value.isoformat(timespec="seconds")


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("DateTime must carry an offset, e.g. 2026-11-26T10:15:00+08:00")
    return parsed


DateTime = strawberry.scalar(
    name="DateTime",
    description="ISO 8601 date and time, always with its offset: 2026-11-26T10:15:00+08:00.",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {datetime: DateTime}


@strawberry.type(description="An amount of money: integer fen, and the same as a decimal yuan string.")
class Money:
    fen: int
    yuan: str = strawberry.field(description='Two decimal places, e.g. "12.34".')

    @classmethod
    def of(cls, money: DomainMoney) -> Money:
        return cls(fen=money.fen, yuan=money.yuan)


@strawberry.type(description="A point in CGCS2000 (wkid 4490) degrees.")
class GeoPoint:
    lon: float
    lat: float

    @classmethod
    def of(cls, point: geo.GeoPoint) -> GeoPoint:
        return cls(lon=point.lon, lat=point.lat)
