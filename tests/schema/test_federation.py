"""The subgraph side, in process: `_service { sdl }`, and `_entities` under the same policy as Query.

A router's `_entities` is one more entry point. These run it against the in-memory backends, which
log every call, so a refusal can be shown to have cost no backend call.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLUnionType
from strawberry.types import ExecutionResult

from schema import build_schema
from schema.directives import POLICY_SPEC
from schema.execution import ScopePolicy
from schema.federation import ENTITIES, FEDERATION_VERSION, MAX_REPRESENTATIONS
from schema.masking import mask_id_card, mask_name
from schema.sdl import printed_sdl
from services.access import (
    CUSTOMER_READ,
    CUSTOMER_READ_ANY,
    NETWORK_READ,
    PII_UNMASK,
    TICKET_READ,
    Access,
    Principal,
)
from services.context import build_context
from tests.schema import fake_backends as fake

SCHEMA = build_schema()

ENTITIES_DOC = """
query ($reps: [_Any!]!) {
  _entities(representations: $reps) {
    __typename
    ... on Customer { id name idCard }
    ... on Account { accountNo holderName }
    ... on Ticket { id status }
  }
}
"""


def principal(*scopes: str) -> Principal:
    return Principal(subject="u1", client_id="router", role="test", scopes=frozenset(scopes))


SUPERVISOR = Access(principal(CUSTOMER_READ_ANY, PII_UNMASK, TICKET_READ, NETWORK_READ))


async def entities(
    reps: list[dict[str, Any]], access: Access, backends: fake.FakeBackends | None = None
) -> ExecutionResult:
    ctx = build_context((backends or fake.FakeBackends()).backends(), access=access)
    result: ExecutionResult = await SCHEMA.execute(
        ENTITIES_DOC, variable_values={"reps": reps}, context_value=ctx
    )
    return result


def refusals(result: ExecutionResult) -> list[tuple[list[str | int], str]]:
    return [(e.path or [], (e.extensions or {}).get("code", "")) for e in result.errors or []]


def customer(cid: str = fake.CUSTOMER_NO) -> dict[str, str]:
    return {"__typename": "Customer", "id": cid}


def test_service_sdl_is_the_committed_sdl_with_keys_links_and_composed_directives() -> None:
    sdl = printed_sdl()
    assert "_entities(representations: [_Any!]!): [_Entity]!" in sdl
    assert "union _Entity = Account | Customer | PipeSegment | Ticket" in sdl
    for line in (
        f'@link(url: "{POLICY_SPEC}", import: ["@mask", "@requiresScopes"])',
        f'@link(url: "https://specs.apollo.dev/federation/v{FEDERATION_VERSION}", '
        'import: ["@composeDirective", "@key"])',
        '@composeDirective(name: "@requiresScopes") @composeDirective(name: "@mask")',
        '@requiresScopes(scopes: [["customer:read"], ["customer:read:any"]]) @key(fields: "id"',
        '@requiresScopes(scopes: [["customer:read"], ["customer:read:any"]]) @key(fields: "accountNo"',
        '@requiresScopes(scopes: [["ticket:read"]]) @key(fields: "id"',
        '@requiresScopes(scopes: [["network:read"]]) @key(fields: "id"',
    ):
        assert line in sdl


async def test_the_sdl_a_router_reads_is_the_printed_one() -> None:
    ctx = build_context(fake.FakeBackends().backends(), access=SUPERVISOR)
    result = await SCHEMA.execute("{ _service { sdl } }", context_value=ctx)
    assert result.errors is None and result.data is not None
    assert result.data["_service"]["sdl"] + "\n" == printed_sdl()


def test_every_field_of_every_entity_is_policed_in_the_built_schema() -> None:
    """Every field of every type `_entities` can return has a scope requirement in the table the
    executor refuses from (the type's `@requiresScopes`)."""
    policy = ScopePolicy.of(SCHEMA._schema)
    union = SCHEMA._schema.type_map["_Entity"]
    assert isinstance(union, GraphQLUnionType)
    assert {t.name for t in union.types} == {cls.__name__ for cls in ENTITIES}
    for member in union.types:
        unpoliced = [
            name for name, field in member.fields.items() if not policy.requirements.get((member.name, name))
        ]
        assert unpoliced == [], member.name


async def test_entities_are_masked_unless_the_caller_may_unmask() -> None:
    masked = await entities([customer()], Access(principal(CUSTOMER_READ_ANY)))
    assert masked.errors is None
    assert masked.data == {
        "_entities": [
            {
                "__typename": "Customer",
                "id": fake.CUSTOMER_NO,
                "name": mask_name(fake.NAME),
                "idCard": mask_id_card(fake.ID_CARD),
            }
        ]
    }
    clear = await entities([customer()], SUPERVISOR)
    assert clear.errors is None
    assert clear.data == {
        "_entities": [
            {"__typename": "Customer", "id": fake.CUSTOMER_NO, "name": fake.NAME, "idCard": fake.ID_CARD}
        ]
    }


async def test_a_type_the_caller_has_no_scope_for_is_refused_before_any_backend_call() -> None:
    backends = fake.FakeBackends()
    ticket = {"__typename": "Ticket", "id": fake.TICKET_ID}
    result = await entities([ticket, customer()], Access(principal(CUSTOMER_READ_ANY)), backends)
    assert result.data is not None
    assert result.data["_entities"][0] is None
    assert result.data["_entities"][1]["id"] == fake.CUSTOMER_NO
    assert refusals(result) == [(["_entities", 0], "FORBIDDEN")]
    assert "ticket" not in backends.log


async def test_least_privilege_holds_per_representation() -> None:
    """customer:read without a call matches nobody: FORBIDDEN, real or invented, like customer(id)."""
    result = await entities([customer(), customer("KH99999999")], Access(principal(CUSTOMER_READ)))
    assert result.data == {"_entities": [None, None]}
    assert refusals(result) == [(["_entities", 0], "FORBIDDEN"), (["_entities", 1], "FORBIDDEN")]
    assert len({e.message for e in result.errors or []}) == 1


async def test_representations_batch_through_the_loaders() -> None:
    backends = fake.FakeBackends()
    account = {"__typename": "Account", "accountNo": fake.ACCOUNT_NO.lstrip("0")}
    result = await entities([customer(), customer("KH99999999"), account, customer()], SUPERVISOR, backends)
    assert result.data is not None
    assert [e and e["__typename"] for e in result.data["_entities"]] == [
        "Customer",
        None,
        "Account",
        "Customer",
    ]
    assert (
        result.data["_entities"][2]["accountNo"] == fake.ACCOUNT_NO
    )  # leading zeros optional, as in account()
    assert refusals(result) == [(["_entities", 1], "NOT_FOUND")]
    assert backends.log.count("contacts_by_customer_no") == 1
    assert backends.log.count("accounts") == 1


async def test_unknown_types_and_too_many_representations_are_bad_input() -> None:
    result = await entities([{"__typename": "Query"}, customer()], SUPERVISOR)
    assert result.data is not None and result.data["_entities"][1] is not None
    assert refusals(result) == [(["_entities", 0], "BAD_USER_INPUT")]

    backends = fake.FakeBackends()
    result = await entities([customer()] * (MAX_REPRESENTATIONS + 1), SUPERVISOR, backends)
    assert result.data is None
    assert refusals(result) == [(["_entities"], "BAD_USER_INPUT")]
    assert backends.log == []
