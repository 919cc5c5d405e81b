"""Vendor time formats to aware datetimes: every timestamp leaves here with its offset.

The utility runs on China Standard Time (UTC+08:00, no daylight saving), so local times
without a zone are read as +08:00 and epoch values are shown in +08:00 too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")


def from_compact_local(raw: str) -> datetime:
    """`yyyyMMddHHmmss` in Asia/Shanghai with no offset (the billing system's habit)."""
    if len(raw) != 14 or not raw.isdigit():
        raise ValueError(f"expected yyyyMMddHHmmss, got {raw!r}")
    return datetime.strptime(raw, "%Y%m%d%H%M%S").replace(tzinfo=CST)


def from_compact_date(raw: str) -> date:
    """`yyyyMMdd`."""
    if len(raw) != 8 or not raw.isdigit():
        raise ValueError(f"expected yyyyMMdd, got {raw!r}")
    return datetime.strptime(raw, "%Y%m%d").date()


def from_epoch_seconds(value: int | float) -> datetime:
    return datetime.fromtimestamp(value, UTC).astimezone(CST)


def from_epoch_millis(value: int | float) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC).astimezone(CST)


def local_date_from_epoch_millis(value: int | float) -> date:
    """Date-only esri fields hold local midnight as UTC epoch ms: read them back in local time."""
    return from_epoch_millis(value).date()
