"""The gateway's schema extensions keep ValidationCache effective with the limits switched on."""

from __future__ import annotations

from typing import ClassVar

import strawberry
from graphql import ValidationContext, ValidationRule
from strawberry.extensions import AddValidationRules

from gateway.http.extensions import schema_extensions
from gateway.settings import Settings
from tests.gateway.conftest import Query


class CountingRule(ValidationRule):
    """Instantiated once per real validation: a ValidationCache hit never builds the rules."""

    runs: ClassVar[int] = 0

    def __init__(self, context: ValidationContext) -> None:
        CountingRule.runs += 1
        super().__init__(context)


async def test_repeated_operations_are_validated_once() -> None:
    settings = Settings()
    schema = strawberry.Schema(
        query=Query,
        extensions=[*schema_extensions(settings), lambda: AddValidationRules([CountingRule])],
    )
    CountingRule.runs = 0
    for _ in range(5):
        result = await schema.execute("query Again { node { child { name } } }")
        assert result.errors is None
    assert CountingRule.runs == 1
