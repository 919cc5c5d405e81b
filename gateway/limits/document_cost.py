"""What a parsed document would cost to run, measured in one pass over its text (`measure`).

Strawberry's `QueryDepthLimiter` and `MaxAliasesLimiter` walk a fragment again at every spread of it:
n fragments that each spread the previous one twice cost them 2^n steps (issue 15: a 1.4 kB
document held the event loop for minutes). Here each fragment is measured once, in an order where
every fragment it spreads has been measured before it, and a spread adds the fragment's figures:
the work is proportional to the document's size, whatever the figures come to.

Per operation, the figures are those of the operation as it would run, every spread expanded:

- depth: nested selections, counted as Strawberry's `QueryDepthLimiter` counts them (a field with a
  selection set is one level; introspection fields `__*` count nothing), so `max_query_depth` keeps
  its meaning;
- aliases: aliased fields (the document's total is what `MaxAliasesLimiter` compared);
- fields: field selections, and spreads: fragment spreads (the fan-out);
- cost: a static estimate of the fields resolved, each field 1 plus, for a list, its size times
  the cost of its selection. A list's size is its `first`/`last` argument (a literal, at most the
  page cap; a variable counts as the cap; absent, the argument's default), or `list_size` for a list
  without one.

Spreads of fragments among which there is a cycle are not followed: the cycle is reported
(`DocumentCost.cycles`) and the caller refuses the document. Spreads of unknown fragments count
nothing (graphql-core's `KnownFragmentNames` names them). Figures are capped at `SATURATED`, so the
integers stay machine-sized whatever a hostile document multiplies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef

SATURATED = 1 << 62
PAGE_ARGUMENTS = ("first", "last")


@dataclass(frozen=True, slots=True)
class Figures:
    """The expanded figures of one selection set (an operation's or a fragment's)."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0
    spreads: int = 0
    cost: int = 0


ZERO = Figures()


@dataclass(frozen=True, slots=True)
class OperationCost:
    name: str  # "anonymous" when the operation has none (Strawberry's word)
    node: OperationDefinitionNode
    figures: Figures


@dataclass(frozen=True, slots=True)
class DocumentCost:
    """The measure of a whole document: its fragments, cycles among them, and each operation."""

    fragments: int
    cycles: tuple[tuple[str, FragmentSpreadNode], ...]  # (fragment, the spread closing the cycle)
    operations: tuple[OperationCost, ...]

    @property
    def aliases(self) -> int:
        return min(sum(op.figures.aliases for op in self.operations), SATURATED)

    @property
    def fields(self) -> int:
        return max((op.figures.fields for op in self.operations), default=0)


@dataclass(frozen=True, slots=True)
class ListSizes:
    """How long a list is assumed to be: `page_cap` for a paged list (the services' cap on
    `first`/`last`), `list_size` for one without a page argument."""

    page_cap: int = 50
    list_size: int = 10


def fragment_definitions(document_definitions: Iterable[object]) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document_definitions if isinstance(d, FragmentDefinitionNode)}


def measure(document_definitions: Iterable[object], schema: GraphQLSchema, sizes: ListSizes) -> DocumentCost:
    """One pass: fragments in dependency order, each once, then the operations."""
    definitions = list(document_definitions)
    fragments = fragment_definitions(definitions)
    order, cycles = _dependency_order(fragments)
    walker = _Walker(schema, sizes, fragments)
    for name in order:
        fragment = fragments[name]
        walker.memo[name] = walker.selection_set(fragment.selection_set, _named(schema, fragment))
    if cycles:
        return DocumentCost(len(fragments), tuple(cycles), ())
    operations = tuple(
        OperationCost(
            op.name.value if op.name else "anonymous",
            op,
            walker.selection_set(op.selection_set, schema.get_root_type(op.operation)),
        )
        for op in definitions
        if isinstance(op, OperationDefinitionNode)
    )
    return DocumentCost(len(fragments), (), operations)


def _named(schema: GraphQLSchema, fragment: FragmentDefinitionNode) -> GraphQLNamedType | None:
    return schema.get_type(fragment.type_condition.name.value)


def _spreads(selection_set: SelectionSetNode) -> list[FragmentSpreadNode]:
    """Every spread in a selection set, nested ones included (a plain walk: no spread is followed)."""
    found: list[FragmentSpreadNode] = []
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                found.append(selection)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)
    return found


def _dependency_order(
    fragments: Mapping[str, FragmentDefinitionNode],
) -> tuple[list[str], list[tuple[str, FragmentSpreadNode]]]:
    """Fragments so that each comes after every fragment it spreads (depth-first, iterative), and the
    spreads that close a cycle. Each fragment and each spread is looked at once."""
    edges = {name: _spreads(f.selection_set) for name, f in fragments.items()}
    order: list[str] = []
    cycles: list[tuple[str, FragmentSpreadNode]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in fragments:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(edges[root]))]
        while stack:
            name, children = stack[-1]
            for spread in children:
                child = spread.name.value
                if child not in fragments:
                    continue
                if state.get(child) == 1:
                    cycles.append((child, spread))
                elif child not in state:
                    state[child] = 1
                    stack.append((child, iter(edges[child])))
                    break
            else:
                stack.pop()
                state[name] = 2
                order.append(name)
    return order, cycles


class _Walker:
    """Figures of selection sets, with every fragment's figures looked up, never walked again."""

    def __init__(
        self, schema: GraphQLSchema, sizes: ListSizes, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> None:
        self.schema = schema
        self.sizes = sizes
        self.fragments = fragments
        self.memo: dict[str, Figures] = {}

    def selection_set(self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None) -> Figures:
        depth = aliases = fields = spreads = cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                found = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                found = self.selection_set(selection.selection_set, inner)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                found = self.memo.get(selection.name.value, ZERO)  # unknown or in a cycle: nothing
                spreads += 1
            depth = max(depth, found.depth)
            aliases += found.aliases
            fields += found.fields
            spreads += found.spreads
            cost += found.cost
        return Figures(
            depth,
            min(aliases, SATURATED),
            min(fields, SATURATED),
            min(spreads, SATURATED),
            min(cost, SATURATED),
        )

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Figures:
        alias = 1 if node.alias else 0
        if node.selection_set is None:
            return Figures(0, alias, 1, 0, 1)
        definition = _field_definition(self.schema, parent, node.name.value)
        inner, size = self._type_and_size(node, definition)
        below = self.selection_set(node.selection_set, inner)
        depth = 0 if node.name.value.startswith("__") else 1 + below.depth
        return Figures(
            depth,
            min(alias + below.aliases, SATURATED),
            min(1 + below.fields, SATURATED),
            below.spreads,
            min(1 + size * below.cost, SATURATED),
        )

    def _type_and_size(
        self, node: FieldNode, definition: GraphQLField | None
    ) -> tuple[GraphQLNamedType | None, int]:
        """The field's named type, and how many of it one selection of the field resolves."""
        if definition is None:
            return None, 1  # unknown field: graphql-core reports it
        size, of_type = 1, definition.type
        while isinstance(of_type, GraphQLNonNull | GraphQLList):
            if isinstance(of_type, GraphQLList):
                size = min(size * self._list_size(node, definition), SATURATED)
            of_type = of_type.of_type
        return of_type, size

    def _list_size(self, node: FieldNode, definition: GraphQLField) -> int:
        cap = self.sizes.page_cap
        for name in PAGE_ARGUMENTS:
            if name not in definition.args:
                continue
            given = next((a.value for a in node.arguments or () if a.name.value == name), None)
            if isinstance(given, IntValueNode) and len(given.value) <= 9:  # longer: over any cap
                return max(0, min(int(given.value), cap))
            if isinstance(given, VariableNode) or given is not None:
                return cap
            default = _default_int(definition.args[name])
            return max(0, min(default, cap)) if default is not None else cap
        return self.sizes.list_size


def _default_int(argument: GraphQLArgument) -> int | None:
    """An argument's default, where the schema states one: as a value (a Strawberry schema) or as
    a literal (graphql-core 3.3's SDL-built schemas keep `default` instead)."""
    if isinstance(argument.default_value, int):
        return argument.default_value
    literal = getattr(argument.default, "literal", None) if argument.default is not None else None
    if isinstance(literal, IntValueNode) and len(literal.value) <= 9:
        return int(literal.value)
    return None


def _field_definition(
    schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str
) -> GraphQLField | None:
    if name == "__schema" and parent is schema.query_type:
        return SchemaMetaFieldDef
    if name == "__type" and parent is schema.query_type:
        return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None
