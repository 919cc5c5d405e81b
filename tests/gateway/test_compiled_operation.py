"""Compiled persisted operations answer exactly as graphql-core's executor does, errors included.

A narrow unit test: a small Strawberry schema of its own (no back office), each document run both
ways on the same input and the answers compared: data, and each error's message, path and
extensions. The IVR look-up on the real schema is compared the same way in
tests/services/test_outage_impact.py.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult as GraphQLResult
from graphql import GraphQLError, OperationDefinitionNode, parse
from graphql.execution.values import get_argument_values
from strawberry.extensions import FieldExtension

from gateway.persisted.compiled_operation import compile_operation
from schema import compiled as compiled_module
from schema.compiled import plan_for, served_by
from schema.execution import PolicedExecution

CALLS: list[str] = []


class Counted(FieldExtension):
    """A synchronous field extension: it must run on the compiled path too."""

    def resolve(self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        CALLS.append(".".join(str(k) for k in info.path.as_list()))
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        return await next_(source, info, **kwargs)


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.input
class Box:
    size: int


@strawberry.type
class Leaf:
    name: str
    colour: Colour
    at: datetime | None
    tags: list[str]
    maybe: list[str | None]
    bad_items: list[str]
    counted: int = strawberry.field(extensions=[Counted()])

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError("nope")

    @strawberry.field
    def broken_required(self) -> str:
        raise GraphQLError("refused", extensions={"code": "FORBIDDEN"})

    @strawberry.field
    def where(self, info: strawberry.Info) -> str:
        return ".".join(str(key) for key in info.path.as_list())

    rooted: int = strawberry.field(resolver=lambda root: len(root.name))

    @strawberry.field
    def padded(self, width: int = 6) -> str:
        return self.name.ljust(width, ".")

    @strawberry.field
    def trimmed(self, width: int | None = None) -> str:
        return self.name if width is None else self.name[:width]

    @strawberry.field
    def painted(self, colour: Colour) -> str:  # an enum: converted by Strawberry's own function
        return f"{self.name}:{type(colour).__name__}.{colour.value}"

    @strawberry.field
    def palette(self, colours: list[Colour] | None = None, names: list[str | None] | None = None) -> str:
        """Lists of enums and of plain scalars: what the resolver is handed, types included."""
        if colours is None:
            return f"none {names!r}"
        painted = ",".join(f"{type(c).__name__}.{c.value}" for c in colours)
        return f"{painted} {type(colours).__name__} {names!r}"

    @strawberry.field
    def grows(self, seen: list[str] = ["a"]) -> int:  # noqa: B006  # the schema's default list
        seen.append("x")  # a resolver that changes its argument must not change the next request's
        return len(seen)

    @strawberry.field
    def boxed(self, box: Box) -> int:  # an input object: Strawberry's wrapper builds it
        return box.size

    @strawberry.field
    def edges(self) -> list[int]:  # GraphQL's Int bounds: passed as they are
        return [-(2**31), 2**31 - 1, 0]

    @strawberry.field
    def too_big(self) -> int | None:  # one past them: the executor's error
        return 2**31

    @strawberry.field
    def counted_up(self) -> list[int]:  # a plain generator: iterated as a list, never awaited
        return _up_to(3)  # type: ignore[return-value]

    @strawberry.field
    def legacy(self) -> int:  # a generator-based coroutine: awaited, as graphql-core awaits it
        return _legacy_seven()  # type: ignore[return-value]

    @strawberry.field
    def wrong_colour(self) -> Colour:
        return "green"  # type: ignore[return-value]  # what enum serialization refuses


def _up_to(n: int) -> Iterator[int]:
    yield from range(n)


@types.coroutine
def _legacy_seven() -> Generator[None, None, int]:
    yield  # one turn of the loop, as `asyncio.sleep(0)`
    return 7


def _leaf(name: str, bad: bool = False) -> Leaf:
    return Leaf(
        name=name,
        colour=Colour.BLUE if len(name) % 2 else Colour.RED,
        at=datetime(2026, 12, 5, 8, 30, tzinfo=UTC) if name != "none" else None,
        tags=[name, "x"],
        maybe=[name, None],
        bad_items=["ok", None] if bad else ["ok"],  # type: ignore[list-item]
        counted=len(name),
    )


@strawberry.type
class Pair:
    """Two fields that can only finish together (and one that fails after waiting)."""

    started: strawberry.Private[list[asyncio.Event]]

    @strawberry.field
    async def left(self) -> int:
        self.started[0].set()
        await self.started[1].wait()
        return 1

    @strawberry.field
    async def right(self) -> int:
        self.started[1].set()
        await self.started[0].wait()
        return 2

    @strawberry.field
    async def broken(self) -> int:
        await asyncio.sleep(0)
        raise GraphQLError("late", extensions={"code": "BACKEND_UNAVAILABLE"})


@strawberry.type
class Query:
    @strawberry.field
    def pair(self) -> Pair:
        return Pair(started=[asyncio.Event(), asyncio.Event()])

    @strawberry.field
    async def leaf(self, name: str) -> Leaf | None:
        return None if name == "missing" else _leaf(name)

    @strawberry.field
    async def leaves(self, count: int, bad: bool = False) -> list[Leaf]:
        return [_leaf(f"n{i}", bad and i == 1) for i in range(count)]

    @strawberry.field
    async def required(self) -> Leaf:
        raise GraphQLError("down", extensions={"code": "BACKEND_UNAVAILABLE"})

    @strawberry.field
    def other(self) -> int:
        return 1


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> int:
        return 1


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation)


def _errors(errors: list[GraphQLError] | None) -> list[tuple[str, Any, Any]]:
    return [(e.message, e.path, e.extensions) for e in errors or ()]


CASES = [
    (
        "query Q($n: String!) { leaf(name: $n) { __typename name colour at tags maybe shout alias: name } }",
        {"n": "abc"},
    ),
    ("query Q($n: String!) { leaf(name: $n) { name at } }", {"n": "none"}),
    ('{ leaf(name: "missing") { name } }', None),
    ('{ leaf(name: "x") { name broken } }', None),
    ('{ leaf(name: "xy") { shout where rooted } }', None),
    ('{ leaf(name: "x") { name brokenRequired } }', None),
    ('{ leaf(name: "x") { padded narrow: padded(width: 2) } }', None),
    ('{ leaf(name: "xyz") { trimmed none: trimmed(width: null) two: trimmed(width: 2) } }', None),
    ('query Q($w: Int) { leaf(name: "xyz") { trimmed(width: $w) } }', {"w": 1}),
    ('query Q($w: Int) { leaf(name: "xyz") { trimmed(width: $w) } }', {}),
    ('{ leaf(name: "x") { painted(colour: BLUE) } }', None),
    ('{ leaf(name: "x") { palette none: palette(colours: null) one: palette(colours: RED) } }', None),
    ('{ leaf(name: "x") { palette(colours: [BLUE, RED], names: ["a", null]) boxed(box: {size: 3}) } }', None),
    ('query Q($c: [Colour!]) { leaf(name: "x") { palette(colours: $c) } }', {"c": ["RED", "BLUE"]}),
    ('{ leaf(name: "x") { wrongColour } }', None),
    ('{ leaf(name: "x") { countedUp legacy } }', None),
    ('{ leaf(name: "x") { edges tooBig counted } }', None),
    ("{ leaves(count: 3) { name counted maybe } }", None),
    ("{ leaves(count: 3, bad: true) { name badItems } }", None),
    ("{ required { name } }", None),
    ("query Q($c: Int!) { leaves(count: $c) { name } }", {"c": 2}),
    ("mutation { touch }", None),
    ('{ leaf(name: "x") { name } other }', None),
    ("{ pair { left right } }", None),
    ("{ pair { left broken } }", None),
]


@pytest.mark.parametrize(("document", "variables"), CASES)
async def test_compiled_answers_as_the_executor_does(document: str, variables: dict[str, Any] | None) -> None:
    compiled = compile_operation(SCHEMA, parse(document))
    assert compiled is not None, document
    CALLS.clear()
    executed = await SCHEMA.execute(document, variable_values=variables)
    by_executor = list(CALLS)
    CALLS.clear()
    result = await compiled.execute(None, variables)
    assert result is not None
    assert result.data == executed.data
    assert _errors(result.errors) == _errors(executed.errors)
    assert by_executor == CALLS  # field extensions ran, at the same paths


async def test_the_cases_cover_errors_and_null_bubbling() -> None:
    """The comparison above would pass for two executors that never err: check that it saw errors
    at each level (a nullable field, a non-null one bubbling to its parent, to the root)."""
    answers = {}
    for document, variables in CASES:
        compiled = compile_operation(SCHEMA, parse(document))
        assert compiled is not None
        answers[document] = await compiled.execute(None, variables)
    broken = answers['{ leaf(name: "x") { name broken } }']
    assert broken is not None and broken.data == {"leaf": {"name": "x", "broken": None}}
    bubbled = answers['{ leaf(name: "x") { name brokenRequired } }']
    assert bubbled is not None and bubbled.data == {"leaf": None}
    assert _errors(bubbled.errors)[0][2] == {"code": "FORBIDDEN"}
    root = answers["{ required { name } }"]
    assert root is not None and root.data is None and root.errors
    listed = answers["{ leaves(count: 3, bad: true) { name badItems } }"]
    assert listed is not None and listed.data is None
    assert _errors(listed.errors)[0][1] == ["leaves", 1, "badItems", 1]


async def test_variables_that_do_not_coerce_go_the_usual_way() -> None:
    compiled = compile_operation(SCHEMA, parse("query Q($c: Int!) { leaves(count: $c) { name } }"))
    assert compiled is not None
    assert await compiled.execute(None, {"c": "many"}) is None
    assert await compiled.execute(None, {}) is None


@pytest.mark.parametrize(
    "document",
    [
        '{ leaf(name: "x") { ...F } } fragment F on Leaf { name }',
        '{ leaf(name: "x") { name @include(if: true) } }',
        '{ leaf(name: "x") { name name } }',
        "{ __schema { queryType { name } } }",
        '{ leaf(name: "x") { name } } query Other { other }',
    ],
)
def test_what_does_not_compile_stays_with_the_executor(document: str) -> None:
    assert compile_operation(SCHEMA, parse(document)) is None


async def test_siblings_that_await_run_together() -> None:
    """Each of `left` and `right` waits for the other to start: awaited in turn, they never end."""
    compiled = compile_operation(SCHEMA, parse("{ pair { left right } }"))
    assert compiled is not None
    result = await asyncio.wait_for(compiled.execute(None, None), timeout=5)
    assert result is not None and result.data == {"pair": {"left": 1, "right": 2}}


async def test_a_plan_runs_only_on_the_schema_it_was_made_for() -> None:
    """The same parsed document planned on one schema and executed on another (two apps sharing a
    manifest's nodes) never walks the other schema's plan: the field definitions would be wrong."""
    document = parse("{ other }")
    planned = strawberry.Schema(query=Query, execution_context_class=PolicedExecution)
    other = strawberry.Schema(query=Query, execution_context_class=PolicedExecution)
    assert compile_operation(planned, document) is not None
    served_by.set(None)
    executor = PolicedExecution.build(other._schema, document)
    assert not isinstance(executor, list)
    assert executor.execute_operation() == GraphQLResult({"other": 1}, None)
    assert served_by.get() == "graphql-core"
    executor = PolicedExecution.build(planned._schema, document)
    assert not isinstance(executor, list)
    assert executor.execute_operation() == GraphQLResult({"other": 1}, None)
    assert served_by.get() == "compiled"


async def test_a_default_list_argument_is_handed_over_as_a_copy() -> None:
    """graphql-core gives every request that omits a list argument the same default object;
    Strawberry's conversion copies it, and so does the direct call (`convert_argument`)."""
    compiled = compile_operation(SCHEMA, parse('{ leaf(name: "x") { grows } }'))
    assert compiled is not None
    for _ in range(3):
        result = await compiled.execute(None, None)
        assert result is not None and result.errors is None
        assert result.data == {"leaf": {"grows": 2}}


def test_resolvers_with_nothing_in_between_are_called_without_strawberrys_wrapper() -> None:
    """`self`, `info` and `root` resolvers are called directly, and so are resolvers whose arguments
    are plain scalars (Strawberry hands those over as graphql-core coerced them), enums or lists of
    either (converted by Strawberry's `convert_argument`); a field with an input object argument or a
    field extension keeps the wrapper; a basic field is read."""
    document = parse(
        '{ leaf(name: "x") { name shout where rooted broken padded trimmed counted painted(colour: RED) '
        "palette boxed(box: {size: 1}) } }"
    )
    assert compile_operation(SCHEMA, document) is not None
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    plan = plan_for(SCHEMA._schema, operation)
    assert plan is not None
    (leaf,) = plan.fields
    assert leaf.direct is not None  # `leaf(name: String!)`: a plain argument
    planned = {field.key: field for field in leaf.selections}
    assert {key for key, field in planned.items() if field.direct is not None} == {
        "shout",
        "where",
        "rooted",
        "broken",
        "padded",
        "trimmed",
        "painted",
        "palette",
    }
    assert planned["name"].attribute == "name" and planned["counted"].direct is None
    assert planned["boxed"].direct is None


async def test_literal_arguments_are_coerced_once_and_variables_per_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`leaf(name: "x")` cannot change between requests: its arguments are coerced when the plan is
    made; `trimmed(width: $w)` is coerced by every request from its own variables."""
    fixed = compile_operation(SCHEMA, parse('{ leaf(name: "xyz") { trimmed(width: 2) } }'))
    varying = compile_operation(
        SCHEMA, parse('query Q($w: Int) { leaf(name: "xyz") { trimmed(width: $w) } }')
    )
    assert fixed is not None and varying is not None
    coerced: list[str] = []
    real = get_argument_values

    def counting(definition: Any, node: Any, *rest: Any) -> dict[str, Any]:
        coerced.append(node.name.value)
        return real(definition, node, *rest)

    monkeypatch.setattr(compiled_module, "get_argument_values", counting)  # what the walk calls
    for width, expected in ((1, "x"), (3, "xyz")):
        assert (await fixed.execute(None, None)).data == {"leaf": {"trimmed": "xy"}}  # type: ignore[union-attr]
        answer = await varying.execute(None, {"w": width})
        assert answer is not None and answer.data == {"leaf": {"trimmed": expected}}
    assert coerced == ["trimmed", "trimmed"]  # the variable's field, once per request; nothing else
