"""`@requiresScopes` and `@mask`: field-level policy, declared in the SDL and enforced from it.

The directives are the single statement of who may see what: `schema.policy` reads them off the
types at build time and enforces them, so a reviewer (or a client) reads the policy in the SDL.

As a federation subgraph (`schema.federation`) both are `@composeDirective`s of our own core
feature, `POLICY_SPEC`, so a router's supergraph keeps them: whoever reads the composed schema
still sees which fields are masked and which scopes they need.
"""

from __future__ import annotations

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet
from strawberry.schema_directive import Location

from schema.masking import MaskKind
from services.access import CUSTOMER_READ, CUSTOMER_READ_ANY, NETWORK_READ, OUTAGE_DECLARE, TICKET_READ

# Our own core feature (`@link` needs a versioned URL; it is an identifier, never fetched, and the
# `.example` host says so). Named `access`, not `policy`: Apollo's own `policy` feature would clash.
POLICY_SPEC = "https://specs.tidegate.example/access/v0.1"


@strawberry.federation.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.OBJECT],
    name="requiresScopes",
    compose=True,
    import_url=POLICY_SPEC,
    description="Apollo's meaning: the caller needs every scope of at least one inner list. "
    "On a type it applies to each of the type's fields.",
)
class RequiresScopes:
    scopes: list[list[str]]


@strawberry.federation.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="mask",
    compose=True,
    import_url=POLICY_SPEC,
    description="Shown masked unless the caller holds pii:unmask and may read the owning customer "
    "(FREE_TEXT: every phone, ID and card number in the text, each masked by its own kind's rule; "
    "STAFF_MOBILE: unless the caller holds staff:contact).",
)
class Mask:
    kind: MaskKind


# The scope sets the types use, named once so the annotations read as policy.
CUSTOMER_DATA = RequiresScopes(scopes=[[CUSTOMER_READ], [CUSTOMER_READ_ANY]])
TICKET_DATA = RequiresScopes(scopes=[[TICKET_READ]])
NETWORK_DATA = RequiresScopes(scopes=[[NETWORK_READ]])
OUTAGE_DECLARES = RequiresScopes(scopes=[[OUTAGE_DECLARE]])  # supervisors: declare, restore, count notices


def mask(kind: MaskKind) -> Mask:
    return Mask(kind=kind)


def key(fields: str) -> Key:
    """An entity key: a router may ask for the type by these fields through `_entities`."""
    return Key(fields=FieldSet(fields))


__all__ = [
    "CUSTOMER_DATA",
    "NETWORK_DATA",
    "POLICY_SPEC",
    "TICKET_DATA",
    "Mask",
    "MaskKind",
    "RequiresScopes",
    "key",
    "mask",
]
