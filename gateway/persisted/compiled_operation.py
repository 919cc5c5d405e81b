"""`CompiledOperation`: a persisted query run without graphql-core's executor (graphql-jit's idea).

Why: the IVR's `callerOutageStatus` answers from a dictionary in memory, yet graphql-core spent
about 0.5 ms of CPU on its 17 fields (execution context, field collection, one `Info` and one
extension context per field, awaitable checks at every level): more than half of the request, and
the reason one process held ~1,100 look-ups a second instead of 2,000 (docs/benchmarks.md). A
persisted operation's document is known at start-up, so its walk can be planned once, as
graphql-jit compiles a query into a specialised function: each field's resolver, argument need,
output type and sub-selection decided ahead, nothing looked up per request.

What compiles (anything else runs through Strawberry and graphql-core as before):

- a query with one root field and no directives (no `@skip`/`@include`), whose selections are
  fields (aliases allowed) and `__typename`, no fragments, each field selected once per selection;
- below the root, fields that never await (no async resolver, every field extension synchronous):
  graphql-core awaits sibling fields together, which a plan that awaited them in turn would lose.
  The root field may await: alone, it loses nothing. So the screen pop, whose masked fields and
  loaders await side by side, stays with the executor; the IVR look-up compiles;
- output types made of objects, lists, non-nulls, scalars and enums (no interface or union);
- a schema whose extensions implement no `resolve` hook (those run as graphql-core middleware).

How it runs, as graphql-core would:

- variables coerced by graphql-core's own `get_variable_values`; a variable that does not coerce
  returns None, and the request goes the usual way (its coded `BAD_USER_INPUT` comes from there);
- a field the caller's scopes do not reach is refused first, as the executor does
  (`schema.execution.forbidden_for`: FORBIDDEN at its path, audited, its resolver never run);
- a field with a resolver, arguments, field extensions (`schema.policy.PolicyExtension`: the mask)
  or permission classes runs through the graphql-core field's own `resolve` (Strawberry's
  wrapper: arguments converted, extensions and permissions applied) with a `GraphQLResolveInfo`
  built as graphql-core builds it; a plain Strawberry attribute is read with `getattr`, which is
  all Strawberry's default resolver does for it;
- values completed per the spec (null checks, lists, scalars' and enums' `serialize`, `is_type_of`);
  an error is located at its path and nulls the nearest nullable field, and `schema.process_errors`
  sees the errors, as after a normal execution.

`tests/gateway/test_compiled_operation.py` runs compiled operations and the executor on the same
inputs, errors included, and compares the answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    default_field_resolver,
    located_error,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Path, Undefined, is_awaitable, is_iterable
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.extensions import SchemaExtension
from strawberry.schema import Schema
from strawberry.types import ExecutionResult
from strawberry.types.field import StrawberryField

from schema.execution import forbidden_for
from schema.policy import refusal

logger = logging.getLogger("tidegate.persisted.compiled")


@dataclass(frozen=True, slots=True)
class _Field:
    """One selected field, decided at start-up."""

    key: str  # the response key: alias or name
    node: FieldNode
    parent: GraphQLObjectType
    definition: GraphQLField | None  # None: `__typename`
    attribute: StrawberryField | None  # a basic Strawberry field: its default resolver reads it
    arguments: bool  # the field takes arguments (coerced per request)
    selections: tuple[_Field, ...]  # of the named object type under lists and non-nulls


class _NullBubble(Exception):
    """A non-null field failed: its parent becomes null (the error is already recorded)."""


class CompiledOperation:
    """One query planned at start-up: `execute` answers it, or None to go the usual way."""

    def __init__(
        self,
        schema: Schema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        fields: tuple[_Field, ...],
    ) -> None:
        self.schema = schema
        self.document = document
        self.operation = operation
        self.fields = fields
        self.name = operation.name.value if operation.name else None

    async def execute(self, context: Any, variables: dict[str, Any] | None) -> ExecutionResult | None:
        """The operation's result; None when its variables do not coerce (the executor answers)."""
        graphql_schema: GraphQLSchema = self.schema._schema
        coerced = get_variable_values(
            graphql_schema, self.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return None
        run = _Run(graphql_schema, self.operation, coerced, context)
        data: dict[str, Any] | None = {}
        for field in self.fields:
            try:
                value = await run.field(field, None, Path(None, field.key, field.parent.name))
            except _NullBubble:
                data = None
                break
            assert data is not None
            data[field.key] = value
        if run.errors:
            self.schema.process_errors(run.errors)
        return ExecutionResult(data=data, errors=run.errors or None)


class _Run:
    """One execution's state: the coerced variables, the context, the errors so far."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        variables: VariableValues,
        context: Any,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.variables = variables
        self.context = context
        self.errors: list[GraphQLError] = []
        self.helpers = GraphQLResolveInfoHelpers(gather=_gather, track=_track)
        self.forbidden = forbidden_for(schema, context)  # scopes: decided once per scope set

    def info(self, field: _Field, return_type: GraphQLOutputType, path: Path) -> GraphQLResolveInfo[Any]:
        return GraphQLResolveInfo(
            field.node.name.value,
            [field.node],
            return_type,
            field.parent,
            path,
            self.schema,
            {},
            None,
            self.operation,
            self.variables,
            self.context,
            is_awaitable,
            None,
            self.helpers,
        )

    async def field(self, field: _Field, source: Any, path: Path) -> Any:
        definition = field.definition
        if definition is None:
            return field.parent.name
        try:
            if self.forbidden and (needs := self.forbidden.get((field.parent.name, field.node.name.value))):
                raise refusal(self.context, needs, path)
            basic = field.attribute
            if basic is not None:  # what Strawberry's resolver for a basic field does
                value = basic.default_resolver(source, basic.python_name)
            else:
                info = self.info(field, definition.type, path)
                args = get_argument_values(definition, field.node, self.variables) if field.arguments else {}
                value = (definition.resolve or default_field_resolver)(source, info, **args)
                if isawaitable(value):
                    value = await value
            return await self.complete(field, definition.type, value, path)
        except _NullBubble:
            if isinstance(definition.type, GraphQLNonNull):
                raise
            return None
        except Exception as exc:  # what graphql-core's `handle_field_error` does
            error = located_error(exc, [field.node], path.as_list())
            self.errors.append(error)
            if isinstance(definition.type, GraphQLNonNull):
                raise _NullBubble from None
            return None

    async def complete(self, field: _Field, return_type: GraphQLOutputType, value: Any, path: Path) -> Any:
        if isinstance(value, Exception):
            raise value
        if isinstance(return_type, GraphQLNonNull):
            completed = await self.complete(field, return_type.of_type, value, path)
            if completed is None:
                raise TypeError(
                    f"Cannot return null for non-nullable field {field.parent.name}.{field.node.name.value}."
                )
            return completed
        if value is None or value is Undefined:
            return None
        if isinstance(return_type, GraphQLList):
            return await self.complete_list(field, return_type, value, path)
        if isinstance(return_type, GraphQLScalarType | GraphQLEnumType):
            serialized = return_type.serialize(value)
            if serialized is Undefined or serialized is None:
                raise TypeError(
                    f"Expected `{return_type.name}.serialize({value!r})` to return non-nullish value, "
                    f"returned: {serialized!r}"
                )
            return serialized
        assert isinstance(return_type, GraphQLObjectType)  # `compile_operation` allowed nothing else
        if return_type.is_type_of is not None and not return_type.is_type_of(
            value, self.info(field, return_type, path)
        ):
            raise GraphQLError(f"Expected value of type '{return_type.name}' but got: {value!r}.")
        result: dict[str, Any] = {}
        for sub in field.selections:
            result[sub.key] = await self.field(sub, value, path.add_key(sub.key, return_type.name))
        return result

    async def complete_list(
        self, field: _Field, return_type: GraphQLList[Any], value: Any, path: Path
    ) -> Any:
        if not is_iterable(value):
            raise GraphQLError(
                "Expected Iterable, but did not find one for field"
                f" '{field.parent.name}.{field.node.name.value}'."
            )
        item_type = return_type.of_type
        items = []
        for index, item in enumerate(value):
            item_path = path.add_key(index, None)
            try:
                items.append(await self.complete(field, item_type, item, item_path))
            except _NullBubble:
                if isinstance(item_type, GraphQLNonNull):
                    raise
                items.append(None)
            except Exception as exc:
                self.errors.append(located_error(exc, [field.node], item_path.as_list()))
                if isinstance(item_type, GraphQLNonNull):
                    raise _NullBubble from None
                items.append(None)
        return items


async def _gather(values: Sequence[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*values))


_tracked: set[asyncio.Future[Any]] = set()  # work a resolver asked to settle after the answer


def _track(values: Sequence[Any]) -> None:
    for value in values:
        if isawaitable(value):
            future = asyncio.ensure_future(value)
            _tracked.add(future)
            future.add_done_callback(_tracked.discard)


def _named(type_: GraphQLOutputType) -> GraphQLOutputType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _implements_resolve(schema: Schema) -> bool:
    """Whether a schema extension has a `resolve` hook (graphql-core middleware): not compiled."""
    for extension in getattr(schema, "extensions", ()):
        try:
            instance = extension() if callable(extension) else extension
        except TypeError:
            return True  # an extension we cannot inspect: assume the worst
        if type(instance).resolve is not SchemaExtension.resolve:
            return True
    return False


class NotCompilable(Exception):
    """Why an operation stays with the executor (logged at debug level, never an error)."""


def compile_operation(schema: Schema, document: DocumentNode) -> CompiledOperation | None:
    """The operation planned, or None when it is outside what compiles (module doc)."""
    try:
        if _implements_resolve(schema):
            raise NotCompilable("a schema extension implements resolve")
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or len(document.definitions) != 1:
            raise NotCompilable("not exactly one operation, or fragments")
        operation = operations[0]
        if operation.operation is not OperationType.QUERY:
            raise NotCompilable("not a query")
        if operation.directives:
            raise NotCompilable("operation directives")
        root = schema._schema.query_type
        assert root is not None
        if len(operation.selection_set.selections) != 1:
            raise NotCompilable("more than one root field (the executor awaits them together)")
        fields = _selections(schema, root, operation.selection_set, nested=False)
    except NotCompilable as why:
        logger.debug("persisted operation not compiled: %s", why)
        return None
    return CompiledOperation(schema, document, operation, fields)


def _selections(
    schema: Schema, parent: GraphQLObjectType, selection_set: SelectionSetNode, *, nested: bool = True
) -> tuple[_Field, ...]:
    planned: list[_Field] = []
    keys: set[str] = set()
    for node in selection_set.selections:
        if not isinstance(node, FieldNode):
            raise NotCompilable("fragments")
        if node.directives:
            raise NotCompilable("field directives")
        key = node.alias.value if node.alias else node.name.value
        if key in keys:
            raise NotCompilable(f"{key} selected twice (merged by the executor)")
        keys.add(key)
        name = node.name.value
        if name == "__typename":
            planned.append(_Field(key, node, parent, None, None, False, ()))
            continue
        if name.startswith("__"):
            raise NotCompilable("introspection")
        definition = parent.fields.get(name)
        if definition is None:
            raise NotCompilable(f"{parent.name}.{name} is not a field")
        if nested and not _synchronous(schema, parent, name):
            raise NotCompilable(f"{parent.name}.{name} awaits (the executor runs siblings together)")
        named = _named(definition.type)
        if isinstance(named, GraphQLObjectType):
            if node.selection_set is None:
                raise NotCompilable("an object without a selection")
            selections = _selections(schema, named, node.selection_set)
        elif isinstance(named, GraphQLScalarType | GraphQLEnumType):
            selections = ()
        else:
            raise NotCompilable(f"{named} is abstract")
        arguments = bool(definition.args or node.arguments)
        planned.append(
            _Field(
                key,
                node,
                parent,
                definition,
                _plain_attribute(schema, parent, name, arguments),
                arguments,
                selections,
            )
        )
    return tuple(planned)


def _plain_attribute(
    schema: Schema, parent: GraphQLObjectType, name: str, arguments: bool
) -> StrawberryField | None:
    """The Strawberry field, when it only reads an attribute (Strawberry's "basic" field: no resolver,
    no extension; and here no permission class or argument either); None: the field's `resolve` runs."""
    if arguments:
        return None
    field = schema.get_field_for_type(name, parent.name)
    if not isinstance(field, StrawberryField) or not field.is_basic_field or field.permission_classes:
        return None
    return field


def _synchronous(schema: Schema, parent: GraphQLObjectType, name: str) -> bool:
    """Whether a field resolves without awaiting: no async resolver, and every field extension
    resolves synchronously (a masked field awaits its owner). Only the root field may await: one
    awaited field loses nothing by running alone, siblings awaited in turn would add up."""
    field = schema.get_field_for_type(name, parent.name)
    if not isinstance(field, StrawberryField) or field.is_async:
        return False
    return all(extension.supports_sync for extension in field.extensions)
