"""The compiled walk's `GraphQLResolveInfo`s (`schema.compiled._Infos`) are the executor's own: the
same class and the same fifteen items for every field, the first made by the executor and the rest
from its execution-wide items; an executor that builds its infos its own way keeps doing so."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo, parse
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.compiled import _Infos


@strawberry.type
class Leaf:
    name: str


@strawberry.type
class Query:
    @strawberry.field
    def leaf(self, name: str) -> Leaf:
        return Leaf(name=name)

    @strawberry.field
    def leaves(self) -> list[Leaf]:
        return []


SCHEMA = strawberry.Schema(query=Query)
DOCUMENT = parse("query Q($n: String!) { leaf(name: $n) { name } leaves { name } }")


def _executor(cls: type[StrawberryGraphQLCoreExecutionContext]) -> Any:
    executor = cls.build(SCHEMA._schema, DOCUMENT, "root", {"who": "context"}, {"n": "x"})
    assert not isinstance(executor, list), executor
    return executor


def _fields() -> list[tuple[Any, Any, GraphQLObjectType, Path]]:
    query = SCHEMA._schema.query_type
    leaf_type = SCHEMA._schema.get_type("Leaf")
    assert isinstance(query, GraphQLObjectType) and isinstance(leaf_type, GraphQLObjectType)
    operation = DOCUMENT.definitions[0]
    leaf_node, leaves_node = operation.selection_set.selections  # type: ignore[attr-defined]
    name_node = leaf_node.selection_set.selections[0]
    root = Path(None, "leaf", "Query")
    return [
        (query.fields["leaf"], [leaf_node], query, root),
        (leaf_type.fields["name"], [name_node], leaf_type, root.add_key("name", "Leaf")),
        (query.fields["leaves"], [leaves_node], query, Path(None, "leaves", "Query")),
        (leaf_type.fields["name"], [name_node], leaf_type, Path(None, "leaves", "Query").add_key(0)),
    ]


def test_every_info_is_the_one_the_executor_would_build() -> None:
    executor = _executor(StrawberryGraphQLCoreExecutionContext)
    infos = _Infos(executor)
    for definition, nodes, parent, path in _fields():
        made = infos(definition, nodes, parent, path)
        expected = executor.build_resolve_info(definition, nodes, parent, path)
        assert type(made) is type(expected)
        assert tuple(made) == tuple(expected)
        assert made.path is path and made.field_nodes is nodes and made.context == {"who": "context"}
    assert infos._cls is not None  # the later ones were made from the kept items


class _OwnInfos(StrawberryGraphQLCoreExecutionContext):
    built = 0

    def build_resolve_info(self, *args: Any) -> GraphQLResolveInfo[Any]:
        type(self).built += 1
        return super().build_resolve_info(*args)


def test_an_executor_with_its_own_builder_builds_every_info() -> None:
    infos = _Infos(_executor(_OwnInfos))
    fields = _fields()
    for field in fields:
        infos(*field)
    assert _OwnInfos.built == len(fields)
    assert infos._cls is None
