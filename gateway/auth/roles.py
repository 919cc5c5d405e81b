"""Roles as data: `roles.yaml` maps each role to the scopes the embedded issuer grants it.

Production tokens come from the utility's IdP, which owns that mapping; the BFF then reads the
token's `scope` and nothing here. The file is still validated at start-up, so a typo in a scope
name stops the BFF instead of silently granting less (or more) than meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.auth.errors import AuthConfigError
from services.access import (
    AUDIT_READ,
    BILLING_ADJUST,
    BOARD_READ,
    CUSTOMER_READ,
    CUSTOMER_READ_ANY,
    INTERACTION_WRITE,
    NETWORK_READ,
    OUTAGE_DECLARE,
    PII_REVEAL,
    PII_UNMASK,
    STAFF_CONTACT,
    TICKET_READ,
    TICKET_WRITE,
)

ROLES_PATH = Path(__file__).with_name("roles.yaml")
# Every scope this API knows; a token holding none of them has no business with /graphql.
API_SCOPES = frozenset(
    {
        *(CUSTOMER_READ, CUSTOMER_READ_ANY, PII_UNMASK, TICKET_READ, TICKET_WRITE, NETWORK_READ, AUDIT_READ),
        *(BILLING_ADJUST, INTERACTION_WRITE, STAFF_CONTACT, PII_REVEAL),
        BOARD_READ,
        OUTAGE_DECLARE,
    }
)
_ROLE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    scopes: tuple[str, ...]  # in file order: the `scope` claim reads as the file does
    needs_agent_id: bool
    description: str = ""

    @property
    def scope(self) -> str:
        """The space-separated `scope` claim value (RFC 9068 §2.2.3)."""
        return " ".join(self.scopes)


@dataclass(frozen=True)
class Roles(Mapping[str, Role]):
    path: Path
    roles: Mapping[str, Role]

    def __getitem__(self, name: str) -> Role:
        return self.roles[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.roles)

    def __len__(self) -> int:
        return len(self.roles)

    def get_role(self, name: str) -> Role:
        """The role, or an `AuthConfigError` listing the ones that exist."""
        try:
            return self.roles[name]
        except KeyError:
            raise AuthConfigError(f"unknown role {name!r} (one of {', '.join(self.roles)})") from None


def load_roles(path: Path = ROLES_PATH) -> Roles:
    """Read and validate `path`; any problem is an `AuthConfigError` naming the file and entry."""
    try:
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuthConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise AuthConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or set(doc) != {"roles"} or not isinstance(doc["roles"], dict):
        raise AuthConfigError(f"{path}: expected one top-level mapping, 'roles'")
    if not doc["roles"]:
        raise AuthConfigError(f"{path}: roles: no roles defined")
    return Roles(path, {str(name): _role(path, name, entry) for name, entry in doc["roles"].items()})


def _role(path: Path, name: Any, entry: Any) -> Role:
    where = f"{path}: roles.{name}"
    if not isinstance(name, str) or not _ROLE_NAME.match(name):
        raise AuthConfigError(f"{where}: a role name is lower case letters, digits and dashes")
    if not isinstance(entry, dict):
        raise AuthConfigError(f"{where}: expected a mapping with 'scopes'")
    unexpected = sorted(set(entry) - {"scopes", "needs_agent_id", "description"})
    if unexpected:
        raise AuthConfigError(f"{where}: unexpected keys {unexpected}")
    scopes = entry.get("scopes")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise AuthConfigError(f"{where}.scopes: expected a non-empty list of scope names")
    unknown = sorted(set(scopes) - API_SCOPES)
    if unknown:
        raise AuthConfigError(f"{where}.scopes: unknown {unknown} (known: {', '.join(sorted(API_SCOPES))})")
    if len(set(scopes)) != len(scopes):
        raise AuthConfigError(f"{where}.scopes: a scope is listed twice")
    needs_agent_id = entry.get("needs_agent_id", False)
    if not isinstance(needs_agent_id, bool):
        raise AuthConfigError(f"{where}.needs_agent_id: expected true or false")
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise AuthConfigError(f"{where}.description: expected text")
    return Role(name, tuple(scopes), needs_agent_id, description)
