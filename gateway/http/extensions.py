"""The schema extensions every operation runs through: caches, cost limits, error codes.

`schema_extensions(settings)` is what the gateway asks the schema to be built with. Three choices
in it are deliberate:

- Depth, aliases, fragments, spreads, fields and static cost are measured in one pass that reads
  each fragment once (`QueryCostLimit`, `gateway.limits.cost_limits`), before graphql-core's rules, not by
  Strawberry's `QueryDepthLimiter` and `MaxAliasesLimiter`, which walk a fragment again at every
  spread of it: exponential in a document of fragments spreading each other (issue 15).
- The remaining limits are graphql-core validation rules created once, here, not per request by a
  `lambda`: each such instance builds a new rule class, which changes ValidationCache's key (schema,
  document, rules) on every request, so the cache would never hit.
- Each limit's errors carry their own code (QUERY_TOO_DEEP, TOO_MANY_ALIASES, TOO_MANY_FRAGMENTS,
  TOO_MANY_SPREADS, TOO_MANY_FIELDS, QUERY_TOO_COSTLY, TOO_MANY_ROOT_FIELDS, TOO_MANY_MUTATIONS,
  INTROSPECTION_DISABLED), so a client can tell "ask for less" from a typo, and which "less".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
)
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension

from gateway.http.error_codes import ErrorCodes
from gateway.limits.cost_limits import CostLimits
from gateway.limits.query_cost_limit import QueryCostLimit
from gateway.observability.operation_attributes import OperationAttributes
from gateway.persisted.document_caches import DocumentParserCache, DocumentValidationCache
from gateway.persisted.prepared_document import PreparedDocument
from gateway.settings import Settings
from services.errors import ErrorCode

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


def coded(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    """`rule`, with every error it reports coded `code`.

    Strawberry's limiters report from the rule's constructor straight to the context, so the
    context's error callback is wrapped for the duration of that call.
    """

    class TooComplex(rule):  # type: ignore[valid-type,misc]
        def __init__(self, context: ValidationContext) -> None:
            report = context.on_error

            def with_code(error: GraphQLError) -> None:
                error.extensions = {**(error.extensions or {}), "code": code}
                report(error)

            context.on_error = with_code  # type: ignore[method-assign]  # as graphql-core does
            self._report, self._with_code = report, with_code
            try:
                super().__init__(context)
            finally:
                context.on_error = report  # type: ignore[method-assign]

        def report_error(self, error: GraphQLError) -> None:  # errors found while visiting
            self._with_code(error)

    TooComplex.__name__ = TooComplex.__qualname__ = f"Coded{rule.__name__}"
    return TooComplex


class MaxRootFields(ASTValidationRule):
    """At most N top-level fields per operation: one request cannot fan out over every entry point."""

    limit = 5

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
        count = sum(1 for s in node.selection_set.selections if isinstance(s, FieldNode))
        if count > self.limit:
            self.report_error(
                GraphQLError(
                    f"An operation may select at most {self.limit} root fields; this one selects {count}.",
                    node,
                )
            )


def max_root_fields(limit: int) -> type[ASTValidationRule]:
    return type(f"MaxRootFields{limit}", (MaxRootFields,), {"limit": limit})


class OneMutation(ASTValidationRule):
    """At most one mutation field per request: each write has its own idempotency key, answer and
    error, and a half-done batch of writes has no honest single answer. Fields reached through
    fragments and aliases count; `__typename` does not."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
        if node.operation is not OperationType.MUTATION:
            return
        count = len(self._fields(node.selection_set, set()))
        if count > 1:
            self.report_error(
                GraphQLError(f"A request may run one mutation field; this one runs {count}.", node)
            )

    def _fields(self, selection_set: SelectionSetNode, seen: set[str]) -> list[FieldNode]:
        found: list[FieldNode] = []
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode) and sel.name.value != "__typename":
                found.append(sel)
            elif isinstance(sel, InlineFragmentNode):
                found += self._fields(sel.selection_set, seen)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                seen.add(sel.name.value)
                fragment = self.context.get_fragment(sel.name.value)
                if fragment is not None:
                    found += self._fields(fragment.selection_set, seen)
        return found


class NoServiceSdl(ASTValidationRule):
    """`_service { sdl }` is the whole schema, as introspection is: refused unless a router needs it."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
        for sel in node.selection_set.selections:
            if isinstance(sel, FieldNode) and sel.name.value == "_service":
                self.report_error(GraphQLError("The subgraph SDL is not served here.", sel))


def limit_rules(settings: Settings) -> tuple[type[ASTValidationRule], ...]:
    """The limits that are graphql-core rules, as rule classes (built once per app: see the module
    doc). Depth and aliases are not among them: `QueryCostLimit` measures those before any rule."""
    rules = [coded(max_root_fields(settings.limits.max_root_fields), ErrorCode.TOO_MANY_ROOT_FIELDS)]
    rules.append(coded(OneMutation, ErrorCode.TOO_MANY_MUTATIONS))
    if not settings.serving.dev_mode:
        rules.append(coded(NoSchemaIntrospectionCustomRule, ErrorCode.INTROSPECTION_DISABLED))
    if not (settings.serving.dev_mode or settings.persisted.federation_sdl):
        rules.append(coded(NoServiceSdl, ErrorCode.INTROSPECTION_DISABLED))
    return tuple(rules)


def schema_extensions(settings: Settings) -> Sequence[Extension]:
    """Classes and factories (never instances): Strawberry builds fresh ones per operation.
    `PreparedDocument` comes first: a persisted operation's document, parsed and validated at
    start-up, is in place before the caches' parse and validation steps, which then skip.
    `QueryCostLimit` comes before `DocumentValidationCache`: it refuses before any rule walks."""
    rules = list(limit_rules(settings))
    max_tokens, inline_max_fields = settings.limits.max_tokens, settings.limits.validate_inline_max_fields
    inline_max_chars = settings.limits.parse_inline_max_chars
    limits = CostLimits.from_settings(settings)
    return (
        PreparedDocument,
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: DocumentParserCache(inline_max_chars),
        lambda: AddValidationRules(rules),
        lambda: QueryCostLimit(limits),
        lambda: DocumentValidationCache(inline_max_fields),
        ErrorCodes,
        OperationAttributes,  # names the operation's span (tracing on)
    )


def has_error_codes(extensions: Sequence[object]) -> bool:
    """Whether a schema was built with the gateway's extensions (see `create_app`)."""
    return ErrorCodes in extensions
