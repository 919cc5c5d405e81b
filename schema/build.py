"""Assemble the Strawberry schema from its types, scalars and the extensions the gateway asks for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from schema.mutation import Mutation
from schema.policy import attach_policy
from schema.query import Query
from schema.scalars import SCALAR_MAP

Extension = type[SchemaExtension] | Any


def build_schema(
    *, extensions: Sequence[Extension] = (), field_suggestions: bool = True
) -> strawberry.Schema:
    """`field_suggestions=False` outside dev mode: "did you mean ...?" maps the schema for a prober."""
    # @requiresScopes / @mask become enforcement before the types are converted.
    attach_policy(Query, Mutation)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=list(extensions),
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=not field_suggestions),
    )
