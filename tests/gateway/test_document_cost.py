"""`measure`: depth, aliases, fields, spreads and static cost through fragments, each fragment once.

Depth and aliases are checked against Strawberry's own counters (the rules they replace) on the same
documents, so `max_query_depth` and `max_aliases` keep their meaning."""

from __future__ import annotations

import pytest
from graphql import (
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    parse,
    validate,
)
from strawberry.extensions.max_aliases import count_fields_with_alias
from strawberry.extensions.query_depth_limiter import create_validator

from bench.documents import doubling
from gateway.limits.document_cost import SATURATED, Figures, ListSizes, measure

SDL = """
type Query { hello: String  customer(id: ID!): Customer  customers: [Customer!]  node: Node }
type Node { child: Node  name: String }
type Customer {
  id: ID!
  name: String
  tags: [String!]!
  accounts: [Account!]
  tickets(first: Int! = 10, openOnly: Boolean): [Ticket!]
  interactions(last: Int = 5): [Interaction!]!
}
type Account { no: ID!  area: [[Point!]!]! }
type Point { x: Float  y: Float }
type Ticket { id: ID!  customer: Customer }
type Interaction { id: ID! }
"""
SCHEMA: GraphQLSchema = build_schema(SDL)
SIZES = ListSizes(page_cap=50, list_size=10)


def figures(text: str) -> Figures:
    (op,) = measure(parse(text).definitions, SCHEMA, SIZES).operations
    return op.figures


def strawberry_depth(text: str) -> int:
    depths: dict[str, int] = {}
    rule = create_validator(100, None, depths.update)
    validate(SCHEMA, parse(text), [rule])
    (depth,) = depths.values()
    return depth


def strawberry_aliases(text: str) -> int:
    document = parse(text)
    definitions = document.definitions
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    return sum(count_fields_with_alias(op, fragments) for op in operations)


SAME_AS_STRAWBERRY = [
    "{ hello }",
    "{ node { child { child { name } } } }",
    "{ a: node { b: child { name } } c: hello }",
    "{ node { ...N } } fragment N on Node { child { ...M x: name } }"
    " fragment M on Node { child { y: name } }",
    "{ customer(id: 1) { ... on Customer { accounts { a: no } } ...C ...C } }"
    " fragment C on Customer { t: tickets { i: id } }",
    "{ __schema { types { name fields { name } } } node { name } }",
    "query Q { customers { ...C } } fragment C on Customer { tickets { customer { ...D } } }"
    " fragment D on Customer { n: name }",
]


@pytest.mark.parametrize("text", SAME_AS_STRAWBERRY)
def test_depth_and_aliases_are_strawberrys_through_fragments(text: str) -> None:
    found = figures(text)
    assert (found.depth, found.aliases) == (strawberry_depth(text), strawberry_aliases(text))


def test_fields_spreads_and_cost_count_every_expanded_selection() -> None:
    text = """
    query Q { customer(id: 1) { ...C ...C } }
    fragment C on Customer { id tickets(first: 3) { id } ...T }
    fragment T on Customer { interactions { id } }
    """
    # C: id (1) + tickets (1 + 3 * 1) + [T: interactions (1 + 5 default * 1)] = 11, spread twice
    assert figures(text) == Figures(depth=2, aliases=0, fields=2 * 5 + 1, spreads=4, cost=1 + 2 * 11)


@pytest.mark.parametrize(
    ("selection", "cost"),
    [
        ("customers { id }", 1 + 10 * 1),  # a list without a page argument: list_size
        ("customers { tickets { id } }", 1 + 10 * (1 + 10 * 1)),  # `first`'s default
        ("customers { tickets(first: 2) { id } }", 1 + 10 * (1 + 2)),
        ("customers { tickets(first: 1000000) { id } }", 1 + 10 * (1 + 50)),  # at most the page cap
        ("customers { tickets(first: 99999999999999999999) { id } }", 1 + 10 * (1 + 50)),
        ("customers { tickets(first: -4) { id } }", 1 + 10 * 1),
        ("customer(id: 1) { accounts { area { x y } } }", 1 + 1 + 10 * (1 + 100 * 2)),  # a list of lists
        ("customer(id: 1) { tags }", 2),  # a list of scalars is one field
        ("customer(id: 1) { nope { id } }", 3),  # unknown: one of each (graphql-core names it)
    ],
)
def test_static_cost_multiplies_by_list_sizes(selection: str, cost: int) -> None:
    assert figures("{ " + selection + " }").cost == cost


def test_a_page_argument_from_a_variable_counts_as_the_page_cap() -> None:
    found = figures("query Q($n: Int!) { customers { tickets(first: $n) { id } } }")
    assert found.cost == 1 + 10 * (1 + 50)


@pytest.mark.parametrize(
    "text",
    [
        "{ ...A } fragment A on Query { ...A }",
        "{ ...A } fragment A on Query { hello ...B } fragment B on Query { node { name } ...A }",
        "{ hello } fragment A on Query { ... on Query { ...A } }",  # unused, still a cycle
    ],
)
def test_cycles_are_reported_not_followed(text: str) -> None:
    cost = measure(parse(text).definitions, SCHEMA, SIZES)
    assert cost.cycles and cost.operations == ()
    assert {name for name, _ in cost.cycles} <= {"A", "B"}


def test_unknown_fragments_count_nothing() -> None:
    assert figures("{ hello ...Missing }") == Figures(depth=0, aliases=0, fields=1, spreads=1, cost=1)


def test_aliases_add_up_over_every_operation_of_the_document() -> None:
    text = "query A { x: hello } query B { y: hello z: hello ...F } fragment F on Query { w: hello }"
    assert measure(parse(text).definitions, SCHEMA, SIZES).aliases == 4 == strawberry_aliases(text)


@pytest.mark.parametrize("n", [20, 30, 200])
def test_a_doubling_document_is_measured_once_per_fragment(n: int) -> None:
    found = figures(doubling(n))
    assert found.fields == min(2**n, SATURATED) and found.cost == min(2**n, SATURATED)
    assert found.spreads == min(2 ** (n + 1) - 1, SATURATED)
