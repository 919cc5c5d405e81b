"""Assemble the Strawberry schema from its types, scalars and the extensions the gateway asks for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from schema.execution import PolicedExecution
from schema.federation import ENTITIES, FEDERATION_VERSION, Subgraph
from schema.mutation import Mutation
from schema.policy import attach_policy
from schema.query import Query
from schema.scalars import SCALAR_MAP
from schema.subscription import Subscription

Extension = type[SchemaExtension] | Any


def build_schema(
    *, extensions: Sequence[Extension] = (), field_suggestions: bool = True
) -> strawberry.Schema:
    """`field_suggestions=False` outside dev mode: "did you mean ...?" maps the schema for a prober."""
    # @mask becomes an extension before the types are converted; the entities too, as a router's
    # `_entities` reaches them without passing through Query. @requiresScopes is enforced by the
    # executor, decided once per scope set (schema/execution.py).
    attach_policy(Query, Mutation, Subscription, *ENTITIES)
    # Served as a Federation 2 subgraph (schema/federation.py): same types, plus `_service`/`_entities`.
    return Subgraph(
        federation_version=FEDERATION_VERSION,
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=list(extensions),
        execution_context_class=PolicedExecution,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=not field_suggestions),
    )
