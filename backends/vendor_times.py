"""Vendor time formats to aware datetimes: every timestamp leaves here with its offset.

The back offices' wire habits (billing's compact local strings, the CRM's epoch seconds, esri's and
the work-order system's epoch milliseconds), shared by their mapping modules. Local times without a
zone are read in the domain's local zone (`domain.timestamps.SHANGHAI`) and epoch values shown there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.timestamps import SHANGHAI


def from_compact_local(raw: str) -> datetime:
    """`yyyyMMddHHmmss` in Asia/Shanghai with no offset (the billing system's habit)."""
    if len(raw) != 14 or not raw.isdigit():
        raise ValueError(f"expected yyyyMMddHHmmss, got {raw!r}")
    return datetime.strptime(raw, "%Y%m%d%H%M%S").replace(tzinfo=SHANGHAI)


def from_compact_date(raw: str) -> date:
    """`yyyyMMdd`."""
    if len(raw) != 8 or not raw.isdigit():
        raise ValueError(f"expected yyyyMMdd, got {raw!r}")
    return datetime.strptime(raw, "%Y%m%d").date()


def from_epoch_seconds(value: int | float) -> datetime:
    return datetime.fromtimestamp(value, UTC).astimezone(SHANGHAI)


def from_epoch_millis(value: int | float) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC).astimezone(SHANGHAI)


def local_date_from_epoch_millis(value: int | float) -> date:
    """Date-only esri fields hold local midnight as UTC epoch ms: read them back in local time."""
    return from_epoch_millis(value).date()
