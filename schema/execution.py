"""`PolicedExecution`: `@requiresScopes` decided once per caller's scope set, not once per field.

Scope requirements are static per field (issue 21): `ScopePolicy` reads them once per schema
from the same directives `attach_policy` reads, as a table (parent type, field) → requirements.
For one scope set the forbidden fields are decided once and memoized (few roles, so few sets), and
the executor does one dictionary look-up per field (none when the caller may see everything), where
a Strawberry extension wrapped every policed field and asked `Principal.holds` each time (profiled at
17-19% of a screen pop inclusive; removing it saved about 3% of CPU per pop, as the masked fields'
own resolvers were most of that share and still run).

Why in graphql-core's `execute_field`, and not per (document, scopes) at validation: validation
is cached per document without a caller (persisted documents are validated once at start-up), and
deciding per document would mean collecting its fields through fragments, aliases, type conditions
and abstract types, which is what the executor already does. Here every field arrives with its
concrete parent type, so fragments, interfaces, unions and `_entities` are covered by construction.
A forbidden field ends as a resolver error would: FORBIDDEN at its path, audited, null bubbling
per nullability (`handle_field_error`), and its resolver never runs.

Two paths do not pass `execute_field`: a subscription's root field (graphql-core calls its
`subscribe` directly: `attach_policy` keeps `PolicyExtension` there, once per subscription) and
planned operations (`schema.compiled`, run from `execute_root_grouped_field_set`), whose walk
looks the same `forbidden` table up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final
from weakref import WeakKeyDictionary, WeakMethod

from graphql import GraphQLObjectType, GraphQLResolveInfoHelpers, GraphQLSchema
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, UndefinedType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from schema.compiled import plan_for, served_by
from schema.policy import Requirements, refusal, requirements_of
from services.access import Principal

Coordinate = tuple[str, str]  # (parent object type, schema field name)
DEFINITION: Final = "strawberry-definition"  # Strawberry's back-reference on graphql-core types


class ScopePolicy:
    """One schema's scope requirements, and the fields each scope set may not see."""

    MAX_SCOPE_SETS: Final = 64  # roles are bundles, so a handful; a bound all the same

    def __init__(self, requirements: Mapping[Coordinate, Requirements]) -> None:
        self.requirements = dict(requirements)
        self._decided: dict[frozenset[str] | None, Mapping[Coordinate, str]] = {}

    @classmethod
    def of(cls, schema: GraphQLSchema) -> ScopePolicy:
        """The schema's table, read once from the directives on its Strawberry definitions."""
        found = _POLICIES.get(schema)
        if found is None:
            found = _POLICIES[schema] = cls(_requirements(schema))
        return found

    def forbidden(self, principal: Principal | None) -> Mapping[Coordinate, str]:
        """The fields this caller may not see, each with the scopes it lacks (memoized per set)."""
        key = principal.scopes if principal is not None else None
        found = self._decided.get(key)
        if found is None:
            if len(self._decided) >= self.MAX_SCOPE_SETS:
                self._decided.pop(next(iter(self._decided)))  # the oldest: a stray token's set
            found = self._decided[key] = self.decide(principal)
        return found

    def decide(self, principal: Principal | None) -> dict[Coordinate, str]:
        """Every requirement (one per directive) must hold; the first that does not is named."""
        forbidden: dict[Coordinate, str] = {}
        for coordinate, requirements in self.requirements.items():
            for any_of in requirements:
                if principal is None or not principal.holds(any_of):
                    forbidden[coordinate] = " or ".join(" and ".join(group) for group in any_of)
                    break
        return forbidden


_POLICIES: WeakKeyDictionary[GraphQLSchema, ScopePolicy] = WeakKeyDictionary()


def _requirements(schema: GraphQLSchema) -> dict[Coordinate, Requirements]:
    table: dict[Coordinate, Requirements] = {}
    for type_ in schema.type_map.values():
        definition = type_.extensions.get(DEFINITION) if isinstance(type_, GraphQLObjectType) else None
        if not isinstance(definition, StrawberryObjectDefinition):
            continue  # introspection and federation's own types: no policy
        assert isinstance(type_, GraphQLObjectType)
        for name, field in type_.fields.items():
            strawberry_field = field.extensions.get(DEFINITION)
            if not isinstance(strawberry_field, StrawberryField):
                continue
            if requirements := requirements_of(definition, strawberry_field):
                table[(type_.name, name)] = requirements
    return table


def _weakly(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method`, called through a weak reference to its object (which must outlive the calls: the
    executor does, as the helpers are only used while it executes)."""
    ref = WeakMethod(method)

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = ref()
        if bound is None:
            raise RuntimeError("the execution these helpers belong to has ended")
        return bound(*args, **kwargs)

    return call


def forbidden_for(schema: GraphQLSchema, context: Any) -> Mapping[Coordinate, str]:
    """What this request's caller may not see (no `access` on the context: no one, fail closed)."""
    access = getattr(context, "access", None)
    return ScopePolicy.of(schema).forbidden(access.principal if access is not None else None)


class PolicedExecution(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, refusing the fields the caller's scopes do not reach.

    Built once per operation (and copied, decisions included, per subscription event and for
    incremental delivery), so the decision is one look-up per request and field.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.forbidden = forbidden_for(self.schema, self.context_value)
        # graphql-core hands resolvers the executor's own bound methods here: a reference cycle
        # (executor → helpers → bound method → executor) that kept each request's whole graph
        # (context, loaders, Starlette request and response, ~90 objects) for the cyclic collector,
        # the only cycle a screen pop made (docs/benchmarks.md, eighth session). Weak, the request
        # is freed by reference counting as it ends.
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=_weakly(self.gather_async_work), track=_weakly(self.track_async_work)
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        if self.forbidden:
            name = field_details_list[0].node.name.value
            needs = self.forbidden.get((parent_type.name, name))
            if needs is not None:
                field_def = self.schema.get_field(parent_type, name)
                assert field_def is not None  # only the schema's own fields are in the table
                error = refusal(self.context_value, needs, path)
                self.handle_field_error(error, field_def.type, field_details_list, path)
                return None
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def execute_root_grouped_field_set(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """A planned operation (`schema.compiled`: the manifest's) walks its plan; any other, the
        generic walk. Field middleware (a schema extension's `resolve` hook) keeps the generic walk."""
        plan = plan_for(self.schema, self.operation)
        if plan is not None and not getattr(self.middleware_manager, "middlewares", None):
            served_by.set("compiled")
            return plan.run(self, root_value, serially)
        served_by.set("graphql-core")
        return super().execute_root_grouped_field_set(
            root_type, root_value, grouped_field_set, serially, position_context
        )
