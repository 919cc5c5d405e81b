"""Assemble the Strawberry schema from its types, scalars and the extensions the gateway asks for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from schema.policy import attach_policy
from schema.query import Query
from schema.scalars import SCALAR_MAP

Extension = type[SchemaExtension] | Any


def build_schema(*, extensions: Sequence[Extension] = ()) -> strawberry.Schema:
    attach_policy(Query)  # @requiresScopes / @mask become enforcement before the types are converted
    return strawberry.Schema(
        query=Query,
        extensions=list(extensions),
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
