"""`OperationPlan`: one operation's field walk decided ahead, run inside graphql-core's executor.

Why: graphql-core's executor is generic. For every field of every request it collects the
selection set (through fragments, directives and type conditions), looks the field up, builds a
`GraphQLResolveInfo`, checks for middleware and streams, and completes the value through a chain of
type tests; Strawberry then wraps each resolver. For an operation known at start-up (the persisted
manifest: the softphone's screen pop, the workbench's queries, mutations and subscriptions) all of
that is decided once, as graphql-jit compiles a query into a specialised function: each selected
field's definition, resolver, argument need, return type and sub-selection, and, for a field that
only reads an attribute (Strawberry's "basic" field), no resolver wrapper and no `Info` at all. A
field whose Python resolver has nothing between it and the call (no argument Strawberry builds an
object for: plain scalars as coerced, enums and lists converted by Strawberry's own
`convert_argument`; no field extension such as `@mask`'s policy, no permission class) is called as
Strawberry's wrapper would call it (`_direct`), without the wrapper; so is a field whose one
extension is `@mask`'s policy, its value then shown in clear (audited) or masked by
`PolicyExtension.reveal`, the extension's own step. An object's `loaded_field`s (masked ones too)
are filled from one load of its record (`_Walk._loaded`), not each by its own resolver and task.

What stays graphql-core's: the plan runs inside the request's own executor (`PolicedExecution`), in
place of its `execute_root_grouped_field_set`. Variable coercion, the root selection's checks, error
location and null propagation (`handle_field_error`), the errors list (`collected_errors`, which
drops an error under a position already nulled), concurrent siblings (`gather_with_cancel`'s
semantics, as `_together`, and `settle_in_background` for siblings left running when a non-null
field fails), the response, and per-event execution of subscriptions (the per-event executor is a
copy, so it finds the same plan).
The scope policy is the same table (`forbidden` on the executor), checked before a resolver runs.

What plans (anything else is run by graphql-core as before, `NotPlanned` says why): fields and
`__typename` (aliases allowed, each response key selected once), no fragments, no directives
(`@skip`/`@include` would be per request), no introspection fields, output types made of objects,
lists, non-nulls, scalars and enums (no interface or union), and an executor without field middleware
(a schema extension with a `resolve` hook). Every operation of the manifest is within this, and
`tests/gateway/test_compiled_differential.py` runs each one both ways on generated back-office data.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from asyncio import CancelledError, Future, ensure_future, gather, get_running_loop
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from types import CoroutineType, GeneratorType
from typing import Any, Final, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    default_field_resolver,
)
from graphql.execution.collect_fields import FieldDetails
from graphql.execution.executor import invalid_return_type_error
from graphql.execution.values import get_argument_values
from graphql.pyutils import AwaitableOrValue, Path, Undefined, is_awaitable, is_iterable
from strawberry import ID
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema_converter import CustomGraphQLEnumType
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.field import StrawberryField

from schema.from_record import converter, loaded_reader
from schema.policy import PolicyExtension, refusal

logger = logging.getLogger("tidegate.schema.compiled")

DEFINITION: Final = "strawberry-definition"  # Strawberry's back-reference on graphql-core fields

# Which executor served the operation running in this task: "compiled" or "graphql-core" (None:
# nothing executed yet). Set by `PolicedExecution`; the HTTP view logs and counts it.
served_by: ContextVar[str | None] = ContextVar("tidegate_served_by", default=None)


# Whether values of a type are awaitable, by type: graphql-core's `is_awaitable` asks each value
# (two `isinstance` and a `hasattr` that fails with an exception for every plain value: about 150
# values a screen pop). `await` itself only looks at the type, so the answer is the type's, read as
# `_AWAITABLE[type(value)]`: a dict look-up, no Python call (`__missing__` runs once per new type).
# A generator is the one type asked each time (a generator-based coroutine is one by its code's
# flags): the table says False for it, and the walk asks `is_awaitable` when the type is
# `GeneratorType`. Bounded: types past the limit are asked each time.
_AWAITABLE_TYPES_MAX: Final = 4096


class _AwaitableTypes(dict[type, bool]):
    def __missing__(self, kind: type) -> bool:
        known = kind is not GeneratorType and hasattr(kind, "__await__")
        if len(self) < _AWAITABLE_TYPES_MAX:
            self[kind] = known
        return known


_AWAITABLE: Final = _AwaitableTypes()


class NotPlanned(Exception):
    """Why an operation stays with graphql-core's generic walk (logged at debug level)."""


class FieldPlan:
    """One selected field, decided at start-up."""

    __slots__ = (
        "attribute",
        "constant_arguments",
        "coordinate",
        "definition",
        "details",
        "direct",
        "key",
        "loaded",
        "node",
        "nodes",
        "parent",
        "plain",
        "resolve",
        "return_type",
        "selections",
    )

    def __init__(
        self,
        key: str,
        node: FieldNode,
        parent: GraphQLObjectType,
        definition: GraphQLField | None,
        attribute: str | None,
        selections: tuple[FieldPlan, ...],
        loaded: Loaded | None = None,
        direct: Direct | None = None,
    ) -> None:
        self.key = key
        self.node = node
        self.nodes = [node]
        self.details = [FieldDetails(node, None)]
        self.parent = parent
        self.coordinate = (parent.name, node.name.value)
        self.definition = definition
        self.return_type: GraphQLOutputType = definition.type if definition is not None else parent
        self.resolve = definition.resolve if definition is not None else None
        # Its coerced arguments when no request can change them (`_constant_arguments`; none to
        # coerce: an empty dict); None: each request coerces them from its variables.
        has_arguments = definition is not None and bool(definition.args or node.arguments)
        self.constant_arguments = _constant_arguments(definition, node) if has_arguments else _NO_ARGUMENTS
        self.attribute = attribute  # the Python attribute a basic Strawberry field reads
        self.selections = selections
        self.loaded = loaded  # a `loaded_field`, filled by its object's group
        self.direct = direct  # the Python resolver called as Strawberry would, without its wrapper
        # The Python types a value of this field's leaf type completes to unchanged (`_plain`).
        self.plain = _plain(self.return_type)


class OperationPlan:
    """An operation's root fields, planned; `run` executes them inside a graphql-core executor."""

    def __init__(
        self, schema: GraphQLSchema, operation: OperationDefinitionNode, fields: tuple[FieldPlan, ...]
    ) -> None:
        self.schema = schema  # the plan's field definitions are this schema's
        self.operation = operation
        self.fields = fields

    def run(self, executor: Any, root_value: Any, serially: bool) -> AwaitableOrValue[dict[str, Any]]:
        """The root fields' data, or an awaitable of it (what `execute_root_grouped_field_set`
        returns); errors go to the executor as graphql-core's own walk sends them."""
        walk = _Walk(executor)
        if serially:
            return walk.fields_serially(self.fields, root_value)
        return walk.fields(self.fields, root_value, None)


# Plans by the identity of their schema and operation node: graphql-core's AST nodes hash by walking
# the whole tree, and a plan keeps both alive, so the ids stay their own. Filled at start-up (the
# manifest), one entry per operation and app: bounded by the manifest's size.
_PLANS: dict[tuple[int, int], OperationPlan] = {}


def plan_for(schema: GraphQLSchema, operation: OperationDefinitionNode) -> OperationPlan | None:
    """The plan registered for this very operation node on this very schema, if any (a document
    shared by two apps' schemas runs each's own plan, or the generic walk)."""
    plan = _PLANS.get((id(schema), id(operation)))
    if plan is None or plan.operation is not operation or plan.schema is not schema:
        return None
    return plan


def register(plan: OperationPlan) -> None:
    _PLANS[(id(plan.schema), id(plan.operation))] = plan


class _Walk:
    """One execution's walk over a plan: graphql-core's `execute_fields`/`complete_value`, with the
    generic decisions already made."""

    __slots__ = ("context", "executor", "field_resolver", "forbidden", "handle_error", "variables")

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.context = executor.context_value
        self.forbidden = executor.forbidden
        self.variables = executor.variable_values
        self.field_resolver = executor.field_resolver or default_field_resolver
        self.handle_error: Callable[..., None] = executor.handle_field_error

    def fields(
        self, plans: Sequence[FieldPlan], source: Any, path: Path | None
    ) -> AwaitableOrValue[dict[str, Any]]:
        results: dict[str, Any] = {}
        awaiting: list[str] = []
        loaded: list[FieldPlan] = []
        forbidden = self.forbidden
        try:
            for plan in plans:
                key = plan.key
                if (
                    plan.plain
                    and plan.attribute is not None
                    and not (forbidden and plan.coordinate in forbidden)
                    and type(value := _read(source, plan.attribute)) in plan.plain
                    and (type(value) is not int or _INT_MIN <= value <= _INT_MAX)
                ):
                    # A plain attribute (a `str` for a String...) is its own completion: nothing to
                    # await, no path to build (anything else, a failed read too, takes `field`).
                    results[key] = value
                    continue
                if plan.loaded is not None:
                    results[key] = None  # refused, or filled in place by the group's one load
                    if not (forbidden and plan.coordinate in forbidden and self._refused(plan, path)):
                        loaded.append(plan)
                    continue
                result = self.field(plan, source, _new_path((path, key, plan.parent.name)))
                results[key] = result
                if _AWAITABLE[type(result)] or (type(result) is GeneratorType and is_awaitable(result)):
                    awaiting.append(key)
        except Exception:
            if awaiting:
                self.executor.settle_in_background([results[key] for key in awaiting])
            raise
        group = self._loaded(loaded, source, path, results) if loaded else None
        if not awaiting and group is None:
            return results
        return self._gathered(results, awaiting, group)

    @staticmethod
    async def _gathered(results: Any, awaiting: list[Any], group: Awaitable[None] | None = None) -> Any:
        """`results` (an object's dict or a list) with the awaitables at `awaiting` replaced by their
        values, awaited together as graphql-core awaits them (one alone needs no gathering); `group`,
        an object's loaded fields, fills its places itself."""
        pending = [results[key] for key in awaiting]
        if group is not None:
            pending.append(group)
        if len(pending) == 1:
            value = await pending[0]
            if awaiting:
                results[awaiting[0]] = value
        else:
            values = await _together(pending)
            for key, value in zip(awaiting, values, strict=False):  # the group's None comes last
                results[key] = value
        return results

    def _refused(self, plan: FieldPlan, parent: Path | None) -> bool:
        """Whether the caller's scopes do not reach the field under `parent` (its error recorded at
        its own path, as `field` does)."""
        if self.forbidden and (needs := self.forbidden.get(plan.coordinate)) is not None:
            path = _new_path((parent, plan.key, plan.parent.name))
            self.handle_error(refusal(self.context, needs, path), plan.return_type, plan.details, path)
            return True
        return False

    async def _loaded(
        self, plans: list[FieldPlan], source: Any, path: Path | None, results: dict[str, Any]
    ) -> None:
        """An object's `loaded_field`s: its record loaded once (the field resolvers each awaited the same
        loader future), each field copied from it; a failed load is each field's error at its own path,
        as when every field awaited it. Only nullable fields are grouped (`_selections`)."""
        first = plans[0]
        assert first.definition is not None
        info = self.executor.build_resolve_info(
            first.definition, first.nodes, first.parent, _new_path((path, first.key, first.parent.name))
        )
        try:
            record = await source.load_record(info)
        except Exception as error:
            for plan in plans:
                self.handle_error(
                    error, plan.return_type, plan.details, _new_path((path, plan.key, plan.parent.name))
                )
            return
        for plan in plans:
            loaded = plan.loaded
            assert loaded is not None
            field_path = None  # built only when completing needs it, or to locate an error
            try:
                value = loaded.read(record)
                if loaded.into is not None and value is not None:
                    value = loaded.into(value)
                if loaded.policy is not None:
                    field_path = _new_path((path, plan.key, plan.parent.name))
                    value = self._revealed(plan, loaded, source, field_path, value)
                    if _AWAITABLE[type(value)] or (type(value) is GeneratorType and is_awaitable(value)):
                        value = await value
                if type(value) in plan.plain and (type(value) is not int or _INT_MIN <= value <= _INT_MAX):
                    results[plan.key] = value
                    continue
                field_path = _new_path((path, plan.key, plan.parent.name))
                completed = self.complete(plan, plan.return_type, None, field_path, value)
                if _AWAITABLE[type(completed)] or (
                    type(completed) is GeneratorType and is_awaitable(completed)
                ):
                    completed = await completed
            except Exception as error:
                if field_path is None:
                    field_path = _new_path((path, plan.key, plan.parent.name))
                self.handle_error(error, plan.return_type, plan.details, field_path)
                completed = None
            results[plan.key] = completed

    def _revealed(self, plan: FieldPlan, loaded: Loaded, source: Any, path: Path, value: Any) -> Any:
        """A masked loaded field's value as `@mask`'s policy shows it to this caller (`reveal`, what its
        extension does after the resolver), with the field's own `Info`: an awaitable only when the
        owner must be loaded first."""
        assert plan.definition is not None and loaded.policy is not None and loaded.info_class is not None
        raw = self.executor.build_resolve_info(plan.definition, plan.nodes, plan.parent, path)
        info = loaded.info_class(_raw_info=raw, _field=loaded.field)
        return loaded.policy.reveal(self.context, source, info, value)

    async def fields_serially(self, plans: Sequence[FieldPlan], source: Any) -> dict[str, Any]:
        results: dict[str, Any] = {}
        for plan in plans:
            result = self.field(plan, source, _new_path((None, plan.key, plan.parent.name)))
            if _AWAITABLE[type(result)] or (type(result) is GeneratorType and is_awaitable(result)):
                result = await result
            results[plan.key] = result
        return results

    def field(self, plan: FieldPlan, source: Any, path: Path) -> Any:
        definition = plan.definition
        if definition is None:
            return plan.parent.name  # `__typename`
        if self.forbidden and (needs := self.forbidden.get(plan.coordinate)) is not None:
            self.handle_error(refusal(self.context, needs, path), plan.return_type, plan.details, path)
            return None
        info: GraphQLResolveInfo[Any] | None = None
        try:
            if plan.attribute is not None:
                result = getattr(source, plan.attribute)
            else:
                info = self.executor.build_resolve_info(definition, plan.nodes, plan.parent, path)
                if plan.direct is not None:
                    arguments = plan.constant_arguments
                    if arguments is None:
                        arguments = get_argument_values(
                            definition, plan.node, self.variables, None, self.executor.hide_suggestions
                        )
                    result = plan.direct(source, info, arguments)
                    if type(result) in plan.plain and (
                        type(result) is not int or _INT_MIN <= result <= _INT_MAX
                    ):
                        return result
                    if _AWAITABLE[type(result)] or (type(result) is GeneratorType and is_awaitable(result)):
                        return self._awaited(plan, plan.return_type, info, path, result)
                    completed = self.complete(plan, plan.return_type, info, path, result)
                    if _AWAITABLE[type(completed)] or (
                        type(completed) is GeneratorType and is_awaitable(completed)
                    ):
                        return self._completed(plan, plan.return_type, path, completed)
                    return completed
                args = plan.constant_arguments
                if args is None:
                    args = get_argument_values(
                        definition, plan.node, self.variables, None, self.executor.hide_suggestions
                    )
                result = (plan.resolve or self.field_resolver)(source, info, **args)
            if _AWAITABLE[type(result)] or (type(result) is GeneratorType and is_awaitable(result)):
                return self._awaited(plan, plan.return_type, info, path, result)
            completed = self.complete(plan, plan.return_type, info, path, result)
            if _AWAITABLE[type(completed)] or (type(completed) is GeneratorType and is_awaitable(completed)):
                return self._completed(plan, plan.return_type, path, completed)
        except Exception as error:
            self.handle_error(error, plan.return_type, plan.details, path)
            return None
        return completed

    async def _awaited(
        self,
        plan: FieldPlan,
        return_type: GraphQLOutputType,
        info: GraphQLResolveInfo[Any] | None,
        path: Path,
        result: Awaitable[Any],
    ) -> Any:
        """A field's (or list item's) awaited value, completed; an error is located at `path`."""
        try:
            value = await result
            if (
                return_type is plan.return_type
                and type(value) in plan.plain
                and (type(value) is not int or _INT_MIN <= value <= _INT_MAX)
            ):
                return value
            completed = self.complete(plan, return_type, info, path, value)
            if _AWAITABLE[type(completed)] or (type(completed) is GeneratorType and is_awaitable(completed)):
                completed = await completed
        except Exception as error:
            self.handle_error(error, return_type, plan.details, path)
            return None
        return completed

    async def _completed(
        self, plan: FieldPlan, return_type: GraphQLOutputType, path: Path, completed: Awaitable[Any]
    ) -> Any:
        """A completion that awaits (an object's sub-fields), its error located at `path`."""
        try:
            return await completed
        except Exception as error:
            self.handle_error(error, return_type, plan.details, path)
            return None

    def complete(
        self,
        plan: FieldPlan,
        return_type: GraphQLOutputType,
        info: GraphQLResolveInfo[Any] | None,
        path: Path,
        result: Any,
    ) -> Any:
        if isinstance(result, Exception):
            raise result
        kind = _KINDS.get(return_type.__class__) or _kind(return_type)
        typed: Any = return_type  # its kind says which it is
        if kind is _NON_NULL:
            completed = self.complete(plan, typed.of_type, info, path, result)
            if completed is None:
                raise TypeError(
                    f"Cannot return null for non-nullable field {plan.parent}.{plan.node.name.value}."
                )
            return completed
        if result is None or result is Undefined:
            return None
        if kind is _ENUM and isinstance(result, typed.wrapped_cls):
            names = _ENUM_NAMES.get(typed)
            if names is None:
                names = _enum_names(typed)
            try:
                name = names.get(result._value_)
            except TypeError:  # an unhashable value: the enum's own comparisons, below
                name = None
            if name is not None:
                return name
        if kind is _LEAF or kind is _ENUM:
            coerced = typed.coerce_output_value(result)
            if coerced is Undefined or coerced is None:
                self.executor.complete_leaf_value(return_type, result)  # raises graphql-core's message
            return coerced
        if kind is _LIST:
            return self.complete_list(plan, typed.of_type, info, path, result)
        assert isinstance(return_type, GraphQLObjectType)  # `plan_operation` allows nothing else
        if return_type.is_type_of is not None:
            if info is None:
                assert plan.definition is not None
                info = self.executor.build_resolve_info(plan.definition, plan.nodes, plan.parent, path)
            if not return_type.is_type_of(result, info):  # Strawberry's is synchronous
                raise invalid_return_type_error(return_type, result, plan.details)
        return self.fields(plan.selections, result, path)

    def complete_list(
        self,
        plan: FieldPlan,
        item_type: GraphQLOutputType,
        info: GraphQLResolveInfo[Any] | None,
        path: Path,
        items: Any,
    ) -> Any:
        # A list (nearly every value here) is iterable without asking graphql-core's `is_iterable`,
        # whose `isinstance` against the `Iterable` ABC is two Python calls per list.
        if type(items) is not list and not is_iterable(items):
            raise GraphQLError(
                "Expected Iterable, but did not find one for field"
                f" '{plan.parent.name}.{plan.node.name.value}'."
            )
        completed: list[Any] = []
        awaiting: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = _new_path((path, index, None))
                if _AWAITABLE[type(item)] or (type(item) is GeneratorType and is_awaitable(item)):
                    completed.append(self._awaited(plan, item_type, info, item_path, item))
                    awaiting.append(index)
                    continue
                try:
                    value = self.complete(plan, item_type, info, item_path, item)
                except Exception as error:
                    self.handle_error(error, item_type, plan.details, item_path)
                    value = None
                if _AWAITABLE[type(value)] or (type(value) is GeneratorType and is_awaitable(value)):
                    value = self._completed(plan, item_type, item_path, value)
                    awaiting.append(index)
                completed.append(value)
        except Exception:
            if awaiting:
                self.executor.settle_in_background([completed[index] for index in awaiting])
            raise
        if not awaiting:
            return completed
        return self._gathered(completed, awaiting)


def plan_operation(schema: GraphQLSchema, document: DocumentNode) -> OperationPlan | None:
    """The document's single operation planned, or None when it is outside what plans (module doc)."""
    try:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or len(document.definitions) != 1:
            raise NotPlanned("not exactly one operation, or fragments")
        operation = operations[0]
        if operation.directives:
            raise NotPlanned("operation directives")
        root = schema.get_root_type(operation.operation)
        if root is None:
            raise NotPlanned(f"no {operation.operation.value} type")
        fields = _selections(root, operation.selection_set, _strawberry(schema))
    except NotPlanned as why:
        logger.debug("operation not planned: %s", why)
        return None
    return OperationPlan(schema, operation, fields)


def _selections(
    parent: GraphQLObjectType, selection_set: SelectionSetNode, strawberry: _Strawberry | None
) -> tuple[FieldPlan, ...]:
    planned: list[FieldPlan] = []
    keys: set[str] = set()
    for node in selection_set.selections:
        if not isinstance(node, FieldNode):
            raise NotPlanned("fragments")
        if node.directives:
            raise NotPlanned("field directives")
        key = node.alias.value if node.alias else node.name.value
        if key in keys:
            raise NotPlanned(f"{key} selected twice (merged by the executor)")
        keys.add(key)
        name = node.name.value
        if name == "__typename":
            planned.append(FieldPlan(key, node, parent, None, None, ()))
            continue
        if name.startswith("__"):
            raise NotPlanned("introspection")
        definition = parent.fields.get(name)
        if definition is None:
            raise NotPlanned(f"{parent.name}.{name} is not a field")
        named = _named(definition.type)
        if isinstance(named, GraphQLObjectType):
            if node.selection_set is None:
                raise NotPlanned("an object without a selection")
            selections = _selections(named, node.selection_set, strawberry)
        elif isinstance(named, GraphQLScalarType | GraphQLEnumType):
            selections = ()
        else:
            raise NotPlanned(f"{named} is abstract")
        planned.append(
            FieldPlan(
                key,
                node,
                parent,
                definition,
                _attribute(definition, node),
                selections,
                _loaded(definition, strawberry),
                _direct(definition, node, strawberry),
            )
        )
    return tuple(planned)


class Loaded(NamedTuple):
    """A `loaded_field` its object's group fills from the one load of the record."""

    read: Callable[[Any], Any]  # the value from the record: its attribute, or the field's `compute`
    into: Callable[[Any], Any] | None  # converted through the declared type (None: as it is)
    policy: PolicyExtension | None  # `@mask`: the value shown or masked by it, as its wrapper would
    field: StrawberryField
    info_class: type | None  # the Strawberry `Info` the policy is handed (with a policy)


def _loaded(definition: GraphQLField, strawberry: _Strawberry | None) -> Loaded | None:
    """A `loaded_field` the object's group may read: nullable, no argument or permission class, and
    no extension but `@mask`'s policy (whose `reveal` the group then calls, as `_masked` does); None:
    the field runs its own resolver."""
    if isinstance(definition.type, GraphQLNonNull) or definition.args:
        return None
    field = definition.extensions.get(DEFINITION)
    if not isinstance(field, StrawberryField) or field.permission_classes:
        return None
    policy = None
    if field.extensions:
        policy = _policy_only(field)
        if policy is None or strawberry is None:
            return None
    read = loaded_reader(field)
    if read is None:
        return None
    info_class = strawberry.info_class if strawberry is not None else None
    return Loaded(read, converter(field.type), policy, field, info_class)


def _policy_only(field: StrawberryField) -> PolicyExtension | None:
    """`@mask`'s policy when it is the field's one extension and has no scopes to check (the executor
    refused by scope already; only a subscription's root field, never planned, checks them in the
    extension): the value can be read without Strawberry's wrapper and handed to `reveal`."""
    if len(field.extensions) != 1 or type(field.extensions[0]) is not PolicyExtension:
        return None
    policy = field.extensions[0]
    return None if policy.requirements else policy


class _Strawberry(NamedTuple):
    """What calling resolvers as Strawberry does needs from its schema."""

    info_class: type  # the `Info` a resolver is handed
    names: NameConverter  # an argument's GraphQL name, from its Python one
    convert: Callable[[Any, Any], Any]  # (value, argument type): Strawberry's `convert_argument`


def _strawberry(schema: GraphQLSchema) -> _Strawberry | None:
    """Strawberry's `Info` class and name converter for this schema, or None when resolvers must
    keep Strawberry's wrapper: a schema that is not Strawberry's, or one with exception handlers (they
    turn a resolver's error into a result, inside the wrapper). Read through Strawberry's
    back-reference; anything missing means "keep the wrapper"."""
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    converter = getattr(strawberry_schema, "schema_converter", None)
    if converter is None or getattr(converter, "_exception_handler_specs", True):
        return None
    config = getattr(strawberry_schema, "config", None)
    info_class = getattr(config, "info_class", None)
    names = getattr(config, "name_converter", None)
    scalars = getattr(converter, "scalar_registry", None)
    if not isinstance(info_class, type) or not isinstance(names, NameConverter) or scalars is None:
        return None

    def convert(value: Any, type_: Any) -> Any:
        return convert_argument(value, type_, scalars, config)  # type: ignore[arg-type]

    return _Strawberry(info_class, names, convert)


Direct = Callable[[Any, GraphQLResolveInfo[Any], dict[str, Any]], Any]  # source, info, arguments


def _direct(definition: GraphQLField, node: FieldNode, strawberry: _Strawberry | None) -> Direct | None:
    """A resolver field called as Strawberry's wrapper calls it, without the wrapper: for a field with
    a Python resolver and nothing between it and the call (no argument Strawberry builds an object
    for, no field extension such as `@mask`'s policy, no permission class). Strawberry passes `self`
    as the first argument, the arguments and `root`/`parent`/`info` by name when the resolver
    declares them (`get_arguments`); so does this, with graphql-core's coerced arguments, converted
    as Strawberry converts them (`_direct_arguments`). A
    field whose one extension is `@mask`'s policy is called the same way, its value then shown or
    masked by the policy itself (`_masked`)."""
    if strawberry is None:
        return None
    field = definition.extensions.get(DEFINITION)
    if not isinstance(field, StrawberryField) or field.permission_classes or field.is_subscription:
        return None
    if field.extensions:
        return None if definition.args or node.arguments else _masked(field, strawberry.info_class)
    names = _direct_arguments(field, definition, strawberry)
    return None if names is None else _resolver_call(field, names, strawberry.info_class)


# Argument types Strawberry hands the resolver exactly as graphql-core coerced them
# (`convert_argument` returns a leaf scalar's value unchanged, and None as None).
_PLAIN_ARGUMENT_TYPES: Final = (str, int, float, bool, ID)

Argument = tuple[str, str, Callable[[Any], Any] | None]  # GraphQL name, Python name, conversion


def _direct_arguments(
    field: StrawberryField, definition: GraphQLField, strawberry: _Strawberry
) -> tuple[Argument, ...] | None:
    """(GraphQL name, Python name, conversion) of each argument, when every one is a plain scalar
    (passed on as graphql-core coerced it: no conversion), an enum or a list of plain scalars or
    enums, optional or not (converted by Strawberry's own `convert_argument`, as its wrapper does,
    only when the request gave a value). None when any other (an input object, `Maybe`, a custom
    scalar: Strawberry's wrapper converts those, with the `Info` and path they may ask for)."""
    arguments = []
    for argument in field.arguments:
        if argument.python_name is None:
            return None
        kind = _unwrap_optional(argument.type)
        if _is_plain(kind):
            conversion = None
        elif _is_enum(kind) or (
            type(kind) is StrawberryList
            and (_is_plain(item := _unwrap_optional(kind.of_type)) or _is_enum(item))
        ):
            conversion = functools.partial(_convert, strawberry.convert, argument.type)
        else:
            return None
        arguments.append((strawberry.names.from_argument(argument), argument.python_name, conversion))
    if {graphql_name for graphql_name, _, _ in arguments} != set(definition.args):
        return None  # not the arguments the schema says: leave it to the wrapper
    return tuple(arguments)


def _unwrap_optional(kind: Any) -> Any:
    return kind.of_type if type(kind) is StrawberryOptional else kind


def _is_plain(kind: Any) -> bool:
    return any(kind is plain for plain in _PLAIN_ARGUMENT_TYPES)


def _is_enum(kind: Any) -> bool:
    """An enum class, or its definition (what a list of enums holds)."""
    return isinstance(kind, StrawberryEnumDefinition) or has_enum_definition(kind)


def _convert(convert: Callable[[Any, Any], Any], type_: Any, value: Any) -> Any:
    return convert(value, type_)


def _resolver_call(
    field: StrawberryField, names: tuple[Argument, ...], info_class: type
) -> Callable[..., Any] | None:
    """`call(source, raw_info, arguments, info=None)`: the field's Python resolver called as Strawberry
    calls it: `self` first when it takes one, the arguments (`names`: GraphQL name, Python name and
    the conversion Strawberry would apply, if any) and `parent`/`root`/`info` by name when it
    declares them, a Strawberry `Info` made only when it asks for one (or the one given). None when
    there is no resolver to call this way (a basic field, or a staticmethod or classmethod object,
    whose call Strawberry's own wrapper makes, and fails)."""
    resolver = field.base_resolver
    if resolver is None or not callable(resolver.wrapped_func):
        return None
    function = resolver.wrapped_func
    by_name = tuple(
        parameter.name
        for parameter in (resolver.parent_parameter, resolver.root_parameter)
        if parameter is not None
    )
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    with_self = resolver.self_parameter is not None

    def call(
        source: Any, raw_info: GraphQLResolveInfo[Any], arguments: dict[str, Any], info: Any = None
    ) -> Any:
        kwargs = dict.fromkeys(by_name, source)
        for graphql_name, python_name, conversion in names:
            if graphql_name in arguments:
                value = arguments[graphql_name]
                kwargs[python_name] = value if conversion is None else conversion(value)
        if info_name is not None:
            kwargs[info_name] = info if info is not None else info_class(_raw_info=raw_info, _field=field)
        return function(source, **kwargs) if with_self else function(**kwargs)

    return call


def _masked(field: StrawberryField, info_class: type) -> Direct | None:
    """A `@mask` field without Strawberry's wrapper: its value read (the attribute, or the resolver
    called as `_direct` calls it), then `PolicyExtension.reveal`, as the extension's own
    `resolve_async` does after the wrapper's call. Only when the policy is the field's one extension
    and has no scopes to check (the executor refused by scope already; only a subscription's root
    field, never planned, checks them in the extension)."""
    policy = _policy_only(field)
    if policy is None:
        return None
    name = field.python_name
    resolve = None  # a basic field: its attribute is read, as Strawberry's default resolver does
    if field.base_resolver is not None:
        resolve = _resolver_call(field, (), info_class)
        if resolve is None:
            return None
    elif field.default_resolver is not getattr:
        return None

    def call(source: Any, raw_info: GraphQLResolveInfo[Any], _arguments: dict[str, Any]) -> Any:
        info = info_class(_raw_info=raw_info, _field=field)
        value = getattr(source, name) if resolve is None else resolve(source, raw_info, _NO_ARGUMENTS, info)
        if _AWAITABLE[type(value)] or (type(value) is GeneratorType and is_awaitable(value)):
            return _reveal_later(policy, source, info, value)
        return policy.reveal(info.context, source, info, value)

    return call


async def _reveal_later(policy: PolicyExtension, source: Any, info: Any, value: Awaitable[Any]) -> Any:
    revealed = policy.reveal(info.context, source, info, await value)
    return (
        (await revealed)
        if _AWAITABLE[type(revealed)] or (type(revealed) is GeneratorType and is_awaitable(revealed))
        else revealed
    )


def _attribute(definition: GraphQLField, node: FieldNode) -> str | None:
    """The attribute a basic Strawberry field reads (no resolver, extension, permission class or
    argument: all its resolver does is `getattr`); None: the field's `resolve` runs."""
    if definition.args or node.arguments:
        return None
    field = definition.extensions.get(DEFINITION)
    if not isinstance(field, StrawberryField) or not field.is_basic_field or field.permission_classes:
        return None
    if field.default_resolver is not getattr:
        return None
    return field.python_name


async def _together(awaitables: list[Awaitable[Any]]) -> list[Any]:
    """graphql-core's `gather_with_cancel`: awaited concurrently, the first error propagated at once
    and the rest cancelled and settled; cancelled itself, the children are cancelled too.

    Why not `asyncio.gather`: it is Python code that, per child, asks whether it is a future, then a
    coroutine, wraps it, and on completion reads it in a second Python callback; this walk gathers
    every object's siblings (about 13 children per screen pop). Here each coroutine becomes a task
    directly and one plain callback per child counts it down (the exception read each time, so none
    goes unretrieved), resolving one future."""
    loop = get_running_loop()
    futures = [
        loop.create_task(each) if type(each) is CoroutineType else ensure_future(each) for each in awaitables
    ]
    done: Future[list[Any]] = loop.create_future()
    left = len(futures)

    def settled(future: Future[Any]) -> None:
        nonlocal left
        error = CancelledError() if future.cancelled() else future.exception()
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
            return
        left -= 1
        if not left:
            done.set_result([each.result() for each in futures])

    for future in futures:
        future.add_done_callback(settled)
    try:
        return await done
    except (Exception, CancelledError):
        if done.cancelled():  # this walk itself was cancelled: so are its children, as gather does
            for future in futures:
                future.cancel()
            raise
        for future in futures:  # a child failed (or was cancelled): the rest cancelled and settled
            if not future.done():
                future.cancel()
        await gather(*futures, return_exceptions=True)
        raise


_NO_ARGUMENTS: Final[dict[str, Any]] = {}  # read, never changed

# Argument values a resolver cannot change in place, so one coerced dict can serve every request.
_IMMUTABLE_ARGUMENTS: Final[frozenset[type]] = frozenset({str, int, float, bool, type(None)})


def _constant_arguments(definition: GraphQLField | None, node: FieldNode) -> dict[str, Any] | None:
    """A field's coerced arguments when every request gets the same ones: literals and defaults only
    (no variable anywhere in them), each a plain immutable value (a list or an input object could be
    changed by the resolver it is handed to), coerced once at start-up as graphql-core coerces them
    per request. None otherwise: `field` coerces them per request (the screen pop's `phone`), and
    `interactions(last: 5)` or `tickets(first: 5, openOnly: true)` cost nothing per request."""
    if definition is None or any(_has_variable(argument.value) for argument in node.arguments or ()):
        return None
    try:
        values = get_argument_values(definition, node)
    except GraphQLError:  # validation lets no such literal through; if one came, each request says so
        return None
    if any(type(value) not in _IMMUTABLE_ARGUMENTS for value in values.values()):
        return None
    return values


def _has_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_has_variable(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_has_variable(item.value) for item in value.fields)
    return False


# `Path(prev, key, typename)` without a Python call: graphql-core's `Path` is a named tuple, whose
# constructor is a Python function; this is what it does (a tuple of the three, of class `Path`),
# called as `_new_path((prev, key, typename))`.
_new_path: Final = functools.partial(tuple.__new__, Path)


def _read(source: Any, attribute: str) -> Any:
    """`getattr`, or None when it raises: `field` then reads again and reports the error there."""
    try:
        return getattr(source, attribute)
    except Exception:
        return None


# Leaf types whose completion returns a value of these exact types unchanged: graphql-core's
# `serialize_string` and `serialize_id` return a `str` as it is, `serialize_boolean` a `bool`, and
# `serialize_int` an `int` within GraphQL's 32 bits, which the walk checks beside the type
# (`_INT_MIN <= value <= _INT_MAX`; any other int completes, and fails there). Float checks its
# finiteness, custom scalars and enums convert: those complete.
_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1
_PLAIN_OUTPUTS: Final[dict[GraphQLScalarType, frozenset[type]]] = {
    GraphQLString: frozenset({str}),
    GraphQLID: frozenset({str}),
    GraphQLBoolean: frozenset({bool}),
    GraphQLInt: frozenset({int}),
}
_NOTHING_PLAIN: Final[frozenset[type]] = frozenset()


def _plain(return_type: GraphQLOutputType) -> frozenset[type]:
    """The exact Python types a value of `return_type` completes to unchanged (a non-null field's
    too: such a value is not null); empty for anything else (lists, objects, other leaves)."""
    if isinstance(return_type, GraphQLNonNull):
        return_type = return_type.of_type
    if isinstance(return_type, GraphQLScalarType):
        return _PLAIN_OUTPUTS.get(return_type, _NOTHING_PLAIN)
    return _NOTHING_PLAIN


# How `complete` treats a type, by its class: one dict lookup in place of a chain of isinstance tests
# per value (Strawberry's enums are a subclass of graphql-core's; `_kind` files any class it meets).
_NON_NULL, _LIST, _LEAF, _ENUM, _OBJECT = "non-null", "list", "leaf", "enum", "object"
_KINDS: dict[type, str] = {}

# A Strawberry enum's GraphQL names by its members' values, per enum type: what its
# `coerce_output_value` finds by comparing the member's `.value` with each value's in turn (two
# Python calls per comparison, on 3.11's enum property), read from the member's own `_value_`.
_ENUM_NAMES: dict[GraphQLEnumType, dict[Any, str]] = {}


def _enum_names(enum_type: Any) -> dict[Any, str]:
    names: dict[Any, str] = {}
    for name, value in enum_type.values.items():
        with contextlib.suppress(TypeError):  # an unhashable value is left to the enum's loop
            names.setdefault(value.value, name)  # the first name with a value wins, as in the loop
    _ENUM_NAMES[enum_type] = names
    return names


def _kind(return_type: GraphQLOutputType) -> str:
    if isinstance(return_type, GraphQLNonNull):
        kind = _NON_NULL
    elif isinstance(return_type, GraphQLList):
        kind = _LIST
    elif isinstance(return_type, CustomGraphQLEnumType):
        kind = _ENUM
    elif isinstance(return_type, GraphQLScalarType | GraphQLEnumType):
        kind = _LEAF
    else:
        kind = _OBJECT
    _KINDS[return_type.__class__] = kind
    return kind


def _named(type_: GraphQLOutputType) -> GraphQLOutputType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_
