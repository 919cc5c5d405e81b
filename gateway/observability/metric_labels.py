"""Bounded label values for the GraphQL metrics: what a caller sends never becomes a series of its own.

Every label value here comes from a closed set or a capped one, so a client (or an attacker) cannot
grow the number of series without bound, and nothing personal (a phone number in a header, a
customer id in an operation name) ever lands in a label:

- `graphql_operation_name`: the persisted-query manifest's operations, then the first
  `max_others` other well-formed names this process sees, then `other`; "" when there is none. A
  name that is not a GraphQL name, is long, or holds a run of digits (a phone, an ID number) is
  `other` at once and takes no slot.
- `client_name`: the `apollographql-client-name` header when it names a registered client, else the
  token's client id when registered, else `other`.
- `graphql_operation_type`, `operation_class`, `error_code`: closed sets or code-shaped strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

OTHER: Final = "other"
OPERATION_TYPES: Final = frozenset({"query", "mutation", "subscription"})
OPERATION_CLASSES: Final = frozenset({"critical", "normal", "sheddable"})

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")  # a GraphQL Name, at most 64 characters
_DIGIT_RUN = re.compile(r"[0-9]{5,}")  # 5+ digits in a row: could be a phone, account or ID number
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,47}")  # extensions.code as the BFF writes them


class OperationNames:
    """The `graphql_operation_name` label, capped per process (single event loop: no lock)."""

    def __init__(self, known: Iterable[str], max_others: int) -> None:
        self._known = frozenset(known)
        self._max_others = max_others
        self._others: set[str] = set()

    def label(self, name: str | None) -> str:
        if not name:
            return ""
        if name in self._known or name in self._others:
            return name
        if not _NAME.fullmatch(name) or _DIGIT_RUN.search(name):
            return OTHER
        if len(self._others) >= self._max_others:
            return OTHER
        self._others.add(name)
        return name


class ClientNames:
    """The `client_name` label: a registered client id, or `other`."""

    def __init__(self, registered: Iterable[str]) -> None:
        self._registered = frozenset(registered)

    def label(self, header: str | None, token_client: str | None) -> str:
        if header is not None and header.strip() in self._registered:
            return header.strip()
        if token_client is not None and token_client in self._registered:
            return token_client
        return OTHER


def operation_type(value: str | None) -> str:
    return value if value in OPERATION_TYPES else ""


def operation_class(value: str | None) -> str:
    return value if value in OPERATION_CLASSES else ""


def error_code(value: str) -> str:
    """A public error code as it is; anything not shaped like one (never expected) is `OTHER`."""
    return value if _CODE.fullmatch(value) else "OTHER"
