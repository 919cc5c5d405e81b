"""Which app sent a request, from Apollo's client-awareness headers, for logs and metrics.

`apollographql-client-name` and `apollographql-client-version` are whatever the caller typed: only
printable ASCII is kept and each is cut to 64 characters, so a log line or a metric label cannot be
flooded or forged through them (no newlines, no control characters). Absent or empty: None.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_LENGTH = 64
NAME_HEADER = "apollographql-client-name"
VERSION_HEADER = "apollographql-client-version"


def sanitised(value: str | None) -> str | None:
    if value is None:
        return None
    kept = "".join(ch for ch in value if " " <= ch <= "~").strip()[:MAX_LENGTH]
    return kept or None


def client_identity(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(name, version) as sent, sanitised."""
    return sanitised(headers.get(NAME_HEADER)), sanitised(headers.get(VERSION_HEADER))
