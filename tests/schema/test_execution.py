"""`PolicedExecution`: scopes refused per field from a table decided once per scope set.

A small schema of its own for the shapes (fragments, aliases, interfaces, unions, non-null
bubbling), and the real one for `_entities`, subscriptions and the memoized decisions.
"""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Annotated

import pytest
import strawberry
from graphql import parse
from strawberry.types import ExecutionResult

from gateway.persisted.compiled_operation import compile_operation
from schema import build_schema
from schema.directives import RequiresScopes
from schema.execution import PolicedExecution, ScopePolicy
from schema.policy import attach_policy
from services.access import CUSTOMER_READ_ANY, NETWORK_READ, TICKET_READ, Access, Principal
from services.context import RequestContext, build_context
from tests.schema import fake_backends as fake

SCHEMA = build_schema()
RESOLVED: list[str] = []


def principal(*scopes: str) -> Principal:
    return Principal(subject="u1", client_id="tests", role="test", scopes=frozenset(scopes))


@strawberry.interface
class Thing:
    label: str


@strawberry.type(directives=[RequiresScopes(scopes=[["vault"]])])
class Vault(Thing):
    @strawberry.field
    def combination(self) -> str | None:
        RESOLVED.append("combination")
        return "1234"


@strawberry.type
class Shed(Thing):
    rake: str = "rake"
    padlock: str | None = strawberry.field(default="brass", directives=[RequiresScopes(scopes=[["vault"]])])
    must: str = strawberry.field(default="x", directives=[RequiresScopes(scopes=[["vault"]])])


Place = Annotated[Vault | Shed, strawberry.union("Place")]


@strawberry.type
class PlaceQuery:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [Vault(label="v"), Shed(label="s")]

    @strawberry.field
    def places(self) -> list[Place]:
        return [Vault(label="v"), Shed(label="s")]

    @strawberry.field
    def shed(self) -> Shed | None:
        return Shed(label="s")


attach_policy(PlaceQuery)
PLACES = strawberry.Schema(query=PlaceQuery, types=[Vault, Shed], execution_context_class=PolicedExecution)


def context(*scopes: str) -> RequestContext:
    return build_context(fake.FakeBackends().backends(), access=Access(principal(*scopes)))


async def places(document: str, ctx: RequestContext) -> ExecutionResult:
    RESOLVED.clear()
    result: ExecutionResult = await PLACES.execute(document, context_value=ctx)
    return result


def errors(result: ExecutionResult) -> list[tuple[list[str | int], str]]:
    return [(e.path or [], (e.extensions or {}).get("code", "")) for e in result.errors or []]


async def test_a_field_beyond_the_callers_scopes_is_forbidden_at_its_path_and_audited_per_occurrence() -> (
    None
):
    ctx = context("other")
    result = await places("{ shed { rake padlock lock: padlock label } }", ctx)
    assert result.data == {"shed": {"rake": "rake", "padlock": None, "lock": None, "label": "s"}}
    assert errors(result) == [(["shed", "padlock"], "FORBIDDEN"), (["shed", "lock"], "FORBIDDEN")]
    assert [(r["key"], r["reason"]) for r in ctx.audit._refusals] == [
        ("shed.padlock", "missing scope vault"),
        ("shed.lock", "missing scope vault"),
    ]
    allowed = await places("{ shed { padlock } }", context("vault"))
    assert allowed.errors is None and allowed.data == {"shed": {"padlock": "brass"}}


async def test_a_forbidden_non_null_field_nulls_its_parent_as_a_resolver_error_would() -> None:
    result = await places("{ shed { rake must } }", context())
    assert result.data == {"shed": None}
    assert errors(result) == [(["shed", "must"], "FORBIDDEN")]


@pytest.mark.parametrize(
    "document",
    [
        "{ things { ... on Vault { combination } ... on Shed { label } } }",  # inline, on an interface
        "{ places { ... on Vault { code: combination } ... on Shed { rake } } }",  # union, alias
        "{ things { ...V } } fragment V on Vault { combination }",  # named fragment
    ],
)
async def test_fragments_aliases_interfaces_and_unions_are_enforced(document: str) -> None:
    result = await places(document, context())
    assert {code for _, code in errors(result)} == {"FORBIDDEN"}
    assert all(path[1] == 0 for path, _ in errors(result))  # the Vault, never the Shed
    assert RESOLVED == []  # refused before its resolver
    assert result.data is not None and result.data[next(iter(result.data))][1] is not None  # the Shed
    allowed = await places(document, context("vault"))
    assert allowed.errors is None and RESOLVED == ["combination"]


async def test_decisions_are_made_once_per_scope_set(monkeypatch: pytest.MonkeyPatch) -> None:
    decided: list[frozenset[str] | None] = []
    decide = ScopePolicy.decide

    def counted(self: ScopePolicy, who: Principal | None) -> dict[tuple[str, str], str]:
        decided.append(who.scopes if who is not None else None)
        return decide(self, who)

    monkeypatch.setattr(ScopePolicy, "decide", counted)
    document = "{ shed { rake padlock } }"
    first = await places(document, context("memo-a"))
    second = await places(document, context("memo-a"))
    assert first.data == second.data and errors(first) == errors(second) == [
        (["shed", "padlock"], "FORBIDDEN")
    ]
    assert decided == [frozenset({"memo-a"})]
    await places(document, context("memo-a", "vault"))
    assert decided == [frozenset({"memo-a"}), frozenset({"memo-a", "vault"})]


def test_the_memo_is_bounded() -> None:
    policy = ScopePolicy({("T", "f"): [[["s"]]]})
    for i in range(ScopePolicy.MAX_SCOPE_SETS + 5):
        assert policy.forbidden(principal(f"set-{i}")) == {("T", "f"): "s"}
    assert len(policy._decided) == ScopePolicy.MAX_SCOPE_SETS


async def test_entities_fields_are_enforced_below_the_type_check() -> None:
    document = """query ($reps: [_Any!]!) {
      _entities(representations: $reps) { ... on Customer { id activeOutages { id } } }
    }"""

    async def run(ctx: RequestContext) -> ExecutionResult:
        reps = [{"__typename": "Customer", "id": fake.CUSTOMER_NO}]  # fresh: Strawberry pops a key
        result: ExecutionResult = await SCHEMA.execute(
            document, variable_values={"reps": reps}, context_value=ctx
        )
        return result

    ctx = context(CUSTOMER_READ_ANY)  # may read the customer, not the network
    result = await run(ctx)
    assert result.data == {"_entities": [{"id": fake.CUSTOMER_NO, "activeOutages": None}]}
    assert errors(result) == [(["_entities", 0, "activeOutages"], "FORBIDDEN")]
    assert [r["key"] for r in ctx.audit._refusals] == ["_entities.0.activeOutages"]
    refused = await run(context(NETWORK_READ))
    assert errors(refused) == [(["_entities", 0], "FORBIDDEN")]  # the type's own check, as before


async def test_a_subscription_without_its_scopes_opens_no_stream() -> None:
    ctx = context(NETWORK_READ)
    stream = await SCHEMA.subscribe('subscription { screenPop(agentId: "A1") { callId } }', context_value=ctx)
    assert hasattr(stream, "__aiter__")
    results = [result async for result in stream]
    assert [(r.data, errors(r)) for r in results] == [(None, [(["screenPop"], "FORBIDDEN")])]
    assert [r["key"] for r in ctx.audit._refusals] == ["screenPop"]


async def test_a_compiled_persisted_operation_refuses_as_the_executor_does() -> None:
    """`gateway.persisted.compiled_operation` skips the executor: it looks the same decisions up."""
    document = "{ shed { rake padlock } }"
    compiled = compile_operation(PLACES, parse(document))
    assert compiled is not None
    ctx = context()
    result = await compiled.execute(ctx, None)
    assert result is not None
    executed = await places(document, context())
    assert (result.data, errors(result)) == (executed.data, errors(executed))
    assert errors(result) == [(["shed", "padlock"], "FORBIDDEN")]
    assert [r["key"] for r in ctx.audit._refusals] == ["shed.padlock"]


async def test_an_execution_is_freed_by_reference_counting_alone() -> None:
    """graphql-core's executor hands resolvers its own bound methods (`async_helpers`): kept strong,
    that cycle left every request's context, loaders and HTTP objects to the cyclic collector."""
    ctx = context("vault")
    watched = weakref.ref(ctx)
    gc.disable()
    try:
        result = await places("{ shed { rake padlock } things { label } }", ctx)
        assert result.errors is None
        del result, ctx
        assert watched() is None
    finally:
        gc.enable()


async def test_a_planned_screen_pop_is_freed_by_reference_counting_alone() -> None:
    """The manifest's hot path end to end (plan, services, loaders, masks, audit): no cycle either."""
    document = (Path(__file__).parents[2] / "gql" / "screen_pop.graphql").read_text()
    compiled = compile_operation(SCHEMA, parse(document))
    assert compiled is not None
    ctx = context(CUSTOMER_READ_ANY, TICKET_READ, NETWORK_READ)
    watched = weakref.ref(ctx)
    gc.disable()
    try:
        result = await compiled.execute(ctx, {"phone": fake.MOBILE})
        assert result is not None and result.errors is None
        assert result.data is not None and result.data["customerByPhone"][0]["accounts"]
        del result, ctx
        assert watched() is None
    finally:
        gc.enable()
