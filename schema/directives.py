"""`@requiresScopes` and `@mask`: field-level policy, declared in the SDL and enforced from it.

The directives are the single statement of who may see what: `schema.policy` reads them off the
types at build time and enforces them, so a reviewer (or a client) reads the policy in the SDL.
"""

from __future__ import annotations

import strawberry
from strawberry.schema_directive import Location

from resolvers.access import CUSTOMER_READ, CUSTOMER_READ_ANY, NETWORK_READ, TICKET_READ
from schema.masking import MaskKind


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.OBJECT],
    name="requiresScopes",
    description="Apollo's meaning: the caller needs every scope of at least one inner list. "
    "On a type it applies to each of the type's fields.",
)
class RequiresScopes:
    scopes: list[list[str]]


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="mask",
    description="Shown masked unless the caller holds pii:unmask and may read the owning customer.",
)
class Mask:
    kind: MaskKind


# The scope sets the types use, named once so the annotations read as policy.
CUSTOMER_DATA = RequiresScopes(scopes=[[CUSTOMER_READ], [CUSTOMER_READ_ANY]])
TICKET_DATA = RequiresScopes(scopes=[[TICKET_READ]])
NETWORK_DATA = RequiresScopes(scopes=[[NETWORK_READ]])


def mask(kind: MaskKind) -> Mask:
    return Mask(kind=kind)


__all__ = ["CUSTOMER_DATA", "NETWORK_DATA", "TICKET_DATA", "Mask", "MaskKind", "RequiresScopes", "mask"]
