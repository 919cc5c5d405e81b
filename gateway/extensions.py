"""The schema extensions every operation runs through: caches, cost limits, error codes.

`schema_extensions(settings)` is what the gateway asks the schema to be built with. Two choices
in it are deliberate:

- The depth and alias limits are graphql-core validation rules created once, here, not by a
  `lambda: QueryDepthLimiter(...)` per request: each such instance builds a new rule class, which
  changes ValidationCache's key (schema, document, rules) on every request, so the cache would
  never hit and every request would pay for full validation again.
- Their errors carry `QUERY_TOO_COMPLEX`, so a client can tell "ask for less" from a typo.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from graphql import GraphQLError, ValidationContext
from graphql.validation import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from gateway.error_codes import ErrorCodes
from gateway.errors import ErrorCode
from gateway.settings import Settings

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


def too_complex(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    """`rule`, with every error it reports coded QUERY_TOO_COMPLEX.

    Strawberry's limiters report from the rule's constructor straight to the context, so the
    context's error callback is wrapped for the duration of that call.
    """

    class TooComplex(rule):  # type: ignore[valid-type,misc]
        def __init__(self, context: ValidationContext) -> None:
            report = context.on_error

            def coded(error: GraphQLError) -> None:
                error.extensions = {**(error.extensions or {}), "code": ErrorCode.QUERY_TOO_COMPLEX}
                report(error)

            context.on_error = coded  # type: ignore[method-assign]  # as graphql-core does
            try:
                super().__init__(context)
            finally:
                context.on_error = report  # type: ignore[method-assign]

    TooComplex.__name__ = TooComplex.__qualname__ = f"TooComplex{rule.__name__}"
    return TooComplex


def limit_rules(settings: Settings) -> tuple[type[ASTValidationRule], ...]:
    """The depth and alias limits as rule classes (built once per app: see the module doc)."""
    depth = QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules
    aliases = MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules
    return tuple(too_complex(rule) for rule in (*depth, *aliases))


def schema_extensions(settings: Settings) -> Sequence[Extension]:
    """Classes and factories (never instances): Strawberry builds fresh ones per operation."""
    rules = list(limit_rules(settings))
    max_tokens = settings.max_tokens
    return (
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        ParserCache,
        lambda: AddValidationRules(rules),
        ValidationCache,
        ErrorCodes,
    )


def has_error_codes(extensions: Sequence[object]) -> bool:
    """Whether a schema was built with the gateway's extensions (see `create_app`)."""
    return ErrorCodes in extensions
