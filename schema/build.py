"""Assemble the Strawberry schema (placeholder root until the screen-pop types land)."""

from __future__ import annotations

import strawberry


@strawberry.type
class Query:
    @strawberry.field(description="Liveness of the GraphQL layer itself.")
    def ping(self) -> str:
        return "pong"


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query)
