"""Tidegate as an Apollo Federation 2 subgraph: entity keys, `_entities` under our policy.

A router composes `_service { sdl }` (with `@key` on `ENTITIES`, and `@mask`/`@requiresScopes`
composed from our own core feature, see `schema.directives`) and then fetches our objects through
`_entities(representations: ...)`. That root field is one more way in, so it gets what every other
entry point has:

- each representation's type `@requiresScopes` is checked before its `resolve_reference` runs,
  so a caller without `ticket:read` makes no work-order call at all (FORBIDDEN at `_entities.N`);
- `resolve_reference` goes through `services.entities`: least privilege and the request's loaders;
- the fields of what comes back are policed as anywhere (`schema.execution`; `attach_policy` walks
  `ENTITIES` too for their masks);
- the list is bounded, like every list argument, and the query limits apply to the whole document.

`FEDERATION_VERSION` is the lowest that has everything we use (`@composeDirective` is 2.1; see
docs/federation.md): a higher one would shut out routers that compose with an older library and
buy us nothing.
"""

from __future__ import annotations

from typing import Any, Final, Literal, cast

import strawberry
from graphql import GraphQLError
from strawberry.federation.schema import FederationAny
from strawberry.types.base import get_object_definition

from schema.accounts.account import Account
from schema.customers.customer import Customer
from schema.network.pipe_segment import PipeSegment
from schema.policy import require_scopes, type_requirements
from schema.tickets.ticket import Ticket
from services.context import RequestContext
from services.errors import ErrorCode, bounded, public_error

FEDERATION_VERSION: Final[Literal["2.1"]] = "2.1"
ENTITIES: Final = (Customer, Account, Ticket, PipeSegment)
# A router sends every entity of one query-plan step in one fetch, deduplicated: two bounded lists
# (50 each) can meet there. 100 is one CRM or GIS batch, two billing ones.
MAX_REPRESENTATIONS: Final = 100


class Subgraph(strawberry.federation.Schema):
    """Strawberry's federation schema, with `_entities` refusing by type before resolving."""

    def entities_resolver(
        self, info: strawberry.Info[Any, Any], representations: list[FederationAny]
    ) -> list[FederationAny]:
        """Refusals take the place of their representation; the rest resolve as one batch."""
        bounded("representations", len(representations), 0, MAX_REPRESENTATIONS)
        ctx = cast(RequestContext, info.context)
        refusals = [_refusal(ctx, info, i, rep) for i, rep in enumerate(representations)]
        allowed = [rep for rep, refused in zip(representations, refusals, strict=True) if refused is None]
        resolved = iter(super().entities_resolver(info, allowed))
        return [next(resolved) if refused is None else cast(FederationAny, refused) for refused in refusals]


_REQUIREMENTS: Final = {
    get_object_definition(cls, strict=True).name: type_requirements(cls) for cls in ENTITIES
}


def _refusal(
    ctx: RequestContext, info: strawberry.Info[Any, Any], index: int, representation: Any
) -> GraphQLError | None:
    """Why this representation gets no answer (None: resolve it). Decided before any backend call."""
    typename = representation.get("__typename") if isinstance(representation, dict) else None
    requirements = _REQUIREMENTS.get(typename) if isinstance(typename, str) else None
    if requirements is None:
        return public_error(f"not an entity of this subgraph: {typename!r}", ErrorCode.BAD_USER_INPUT)
    try:
        require_scopes(ctx, requirements, info.path.add_key(index, None))
    except GraphQLError as refused:
        return refused
    return None
