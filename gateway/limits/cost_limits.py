"""`CostLimits`: what a document may ask for, checked on `gateway.limits.document_cost`'s one-pass measure.

Run before any other validation rule (graphql-core's own included), so a document whose fragments
multiply is refused in time proportional to its size, before anything walks its spreads. The checks,
cheapest first, each with its code:

- fragment definitions over `max_fragments`: TOO_MANY_FRAGMENTS, refused before anything is walked;
- a cycle among fragments: GRAPHQL_VALIDATION_FAILED (as graphql-core's `NoFragmentCycles` says it),
  refused before any figure is trusted;
- per operation, every spread expanded: depth over `max_query_depth` (QUERY_TOO_DEEP, Strawberry's
  wording), fragment spreads over `max_spreads` (TOO_MANY_SPREADS), fields over `max_fields`
  (TOO_MANY_FIELDS), static cost over `max_cost` (QUERY_TOO_COSTLY);
- aliases over `max_aliases` in the whole document (TOO_MANY_ALIASES, Strawberry's wording).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from graphql import DocumentNode, FragmentDefinitionNode, GraphQLError, GraphQLSchema

from gateway.limits.document_cost import SATURATED, DocumentCost, ListSizes, measure
from gateway.settings import Settings
from services.errors import ErrorCode

# The measure of the document being validated in this task (None: not measured), for
# `gateway.persisted.document_caches`, which validates a large document off the event loop.
measured_cost: ContextVar[DocumentCost | None] = ContextVar("tidegate_measured_cost", default=None)


@dataclass(frozen=True, slots=True)
class CostLimits:
    max_depth: int = 12
    max_aliases: int = 30
    max_fragments: int = 32
    max_spreads: int = 64
    max_fields: int = 300
    max_cost: int = 20_000
    sizes: ListSizes = field(default_factory=ListSizes)

    @classmethod
    def from_settings(cls, settings: Settings) -> CostLimits:
        return cls(
            max_depth=settings.limits.max_query_depth,
            max_aliases=settings.limits.max_aliases,
            max_fragments=settings.limits.max_fragments,
            max_spreads=settings.limits.max_spreads,
            max_fields=settings.limits.max_fields,
            max_cost=settings.limits.max_cost,
            sizes=ListSizes(page_cap=settings.limits.cost_page_cap, list_size=settings.limits.cost_list_size),
        )


def _error(message: str, code: ErrorCode, *nodes: object) -> GraphQLError:
    return GraphQLError(message, list(nodes) or None, extensions={"code": str(code)})  # type: ignore[arg-type]


def check_cost(
    document: DocumentNode, schema: GraphQLSchema, limits: CostLimits
) -> tuple[DocumentCost | None, list[GraphQLError]]:
    """The document's measure (None when refused before measuring) and its refusals, coded."""
    fragments = sum(1 for d in document.definitions if isinstance(d, FragmentDefinitionNode))
    if fragments > limits.max_fragments:
        message = (
            f"A document may define at most {limits.max_fragments} fragments; this one defines {fragments}."
        )
        return None, [_error(message, ErrorCode.TOO_MANY_FRAGMENTS)]
    cost = measure(document.definitions, schema, limits.sizes)
    if cost.cycles:
        return cost, [
            _error(
                f"Cannot spread fragment '{name}' within itself.", ErrorCode.GRAPHQL_VALIDATION_FAILED, spread
            )
            for name, spread in cost.cycles
        ]
    errors: list[GraphQLError] = []
    for op in cost.operations:
        figures, name = op.figures, op.name
        if figures.depth > limits.max_depth:
            message = f"'{name}' exceeds maximum operation depth of {limits.max_depth}"
            errors.append(_error(message, ErrorCode.QUERY_TOO_DEEP, op.node))
        if figures.spreads > limits.max_spreads:
            message = (
                f"'{name}' spreads fragments {_count(figures.spreads)} times once expanded; "
                f"at most {limits.max_spreads} are allowed."
            )
            errors.append(_error(message, ErrorCode.TOO_MANY_SPREADS, op.node))
        if figures.fields > limits.max_fields:
            message = (
                f"'{name}' selects {_count(figures.fields)} fields once its fragments are expanded; "
                f"at most {limits.max_fields} are allowed."
            )
            errors.append(_error(message, ErrorCode.TOO_MANY_FIELDS, op.node))
        if figures.cost > limits.max_cost:
            message = (
                f"'{name}' would cost {_count(figures.cost)} (each field 1, times the sizes of the lists "
                f"it is in: `first`/`last`, else {limits.sizes.list_size}); at most {limits.max_cost}."
            )
            errors.append(_error(message, ErrorCode.QUERY_TOO_COSTLY, op.node))
    if cost.aliases > limits.max_aliases:
        message = f"{_count(cost.aliases)} aliases found. Allowed: {limits.max_aliases}"
        errors.append(_error(message, ErrorCode.TOO_MANY_ALIASES))
    return cost, errors


def _count(n: int) -> str:
    """A figure as the message shows it (a saturated one is "over 2^62")."""
    return "over 2^62" if n >= SATURATED else str(n)
