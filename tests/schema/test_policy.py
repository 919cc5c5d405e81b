"""@requiresScopes and @mask, enforced from the SDL: executed in-process against in-memory backends."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any, cast

import pytest
import strawberry
from graphql.pyutils import Path
from strawberry.types import ExecutionResult
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField

from schema import build_schema
from schema.accounts.account import Account
from schema.customers.customer import Customer
from schema.directives import Mask, MaskKind, RequiresScopes
from schema.execution import PolicedExecution, ScopePolicy
from schema.masking import (
    mask_address,
    mask_bank_account,
    mask_id_card,
    mask_landline,
    mask_mobile,
    mask_name,
)
from schema.policy import PolicyExtension, attach_policy
from schema.query import Query
from schema.sdl import printed_sdl
from services.access import CUSTOMER_READ_ANY, NETWORK_READ, PII_UNMASK, TICKET_READ, Access, Principal
from services.context import build_context
from tests.schema import fake_backends as fake

SCHEMA = build_schema()

CUSTOMER_DOC = """
query ($id: ID!) {
  customer(id: $id) {
    id name mobile landline phones idCard
    accounts { accountNo holderName address mobile landline directDebit { bankAccount holder bankName } }
  }
}
"""
TICKET_DOC = "query ($id: ID!) { ticket(id: $id) { id address status } }"


def principal(*scopes: str) -> Principal:
    return Principal(subject="u1", client_id="tests", role="test", scopes=frozenset(scopes))


SUPERVISOR = principal(CUSTOMER_READ_ANY, PII_UNMASK, TICKET_READ, NETWORK_READ)
AGENT_NO_UNMASK = principal(CUSTOMER_READ_ANY, TICKET_READ, NETWORK_READ)


class MayNotUnmask(Access):
    """Holds pii:unmask, but the access rules say no for this customer."""

    def may_unmask(self, customer_no: str | None) -> bool:
        return False


async def run(
    document: str, access: Access, unmasked: list[tuple[str, str]] | None = None, backends: Any = None
) -> ExecutionResult:
    ctx = build_context((backends or fake.FakeBackends()).backends(), access=access)
    if unmasked is not None:
        ctx.on_unmask = lambda customer_no, path: unmasked.append((customer_no, path))
    variables = {"id": fake.TICKET_ID if "ticket(" in document else fake.CUSTOMER_NO}
    result: ExecutionResult = await SCHEMA.execute(document, variable_values=variables, context_value=ctx)
    return result


def codes(result: ExecutionResult) -> set[str]:
    return {e.extensions["code"] for e in result.errors or [] if e.extensions}


def test_sdl_declares_and_uses_both_directives() -> None:
    sdl = printed_sdl()
    assert "directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT" in sdl
    assert "directive @mask(kind: MaskKind!) on FIELD_DEFINITION" in sdl
    assert (
        "enum MaskKind {\n  ID_CARD\n  MOBILE\n  LANDLINE\n  PHONE\n  BANK_ACCOUNT\n  NAME\n  ADDRESS\n"
        "  FREE_TEXT\n  STAFF_MOBILE\n}" in sdl
    )
    for line in (
        'type Customer @requiresScopes(scopes: [["customer:read"], ["customer:read:any"]])',
        'type Account @requiresScopes(scopes: [["customer:read"], ["customer:read:any"]])',
        'type DirectDebit @requiresScopes(scopes: [["customer:read"], ["customer:read:any"]])',
        'type Ticket @requiresScopes(scopes: [["ticket:read"]])',
        'type PipeSegment @requiresScopes(scopes: [["network:read"]])',
        'type Outage @requiresScopes(scopes: [["network:read"]])',
        "  name: String @mask(kind: NAME)",
        "  phones: [String!] @mask(kind: PHONE)",
        "  idCard: String @mask(kind: ID_CARD)",
        "  holderName: String @mask(kind: NAME)",
        "  address: String @mask(kind: ADDRESS)",
        "  bankAccount: String! @mask(kind: BANK_ACCOUNT)",
    ):
        assert line in sdl


def test_exactly_the_annotated_fields_are_policed_and_building_twice_stacks_nothing() -> None:
    policed = attach_policy(Query)
    assert {
        "Customer.name",
        "Account.bills",
        "DirectDebit.holder",
        "Ticket.address",
        "Ticket.description",
        "Interaction.summary",
        "FieldWorker.mobile",
        "Query.customer",
    } <= set(policed)
    assert not any(p.startswith(("Bill.", "Money.", "Meter.")) for p in policed)
    assert not any(p.startswith("Interaction.") for p in policed if p != "Interaction.summary")
    build_schema()
    masked = get_object_definition(Customer, strict=True).get_field("name")
    assert masked is not None
    assert sum(isinstance(e, PolicyExtension) for e in masked.extensions) == 1
    assert policed == attach_policy(Query)  # and the same fields, the second time


def test_only_masked_fields_and_subscription_roots_carry_an_extension() -> None:
    """Scopes are the executor's (one look-up per field): a field with no `@mask` has no wrapper."""
    wrapped: set[str] = set()
    for type_ in SCHEMA._schema.type_map.values():
        for name, field in getattr(type_, "fields", {}).items():
            definition = field.extensions.get("strawberry-definition")
            if isinstance(definition, StrawberryField) and definition.extensions:
                wrapped.add(f"{type_.name}.{name}")
    assert {"Customer.name", "Customer.idCard", "DirectDebit.bankAccount", "Ticket.address"} <= wrapped
    scoped_only = {"Query.customer", "Customer.id", "Customer.accounts", "Account.accountNo", "Ticket.id"}
    assert scoped_only & wrapped == set()
    assert {w for w in wrapped if w.startswith("Subscription.")} == {
        "Subscription.ticketUpdated",
        "Subscription.screenPop",
        "Subscription.callUpdated",
    }
    unmasked = [w for w in wrapped if not w.startswith("Subscription.") and _mask_of(w) is None]
    assert unmasked == []
    policy = ScopePolicy.of(SCHEMA._schema)
    assert ("Query", "customer") in policy.requirements and ("Customer", "id") in policy.requirements


async def test_unauthenticated_sees_nothing_and_no_backend_is_called() -> None:
    backends = fake.FakeBackends()
    result = await run(CUSTOMER_DOC, Access(principal=None), backends=backends)
    assert result.data == {"customer": None}
    assert codes(result) == {"FORBIDDEN"}
    assert backends.log == []


async def test_missing_scope_is_forbidden_at_that_path_only() -> None:
    doc = "query ($id: ID!) { customer(id: $id) { id tickets { id } activeOutages { id } } }"
    result = await run(doc, Access(principal(CUSTOMER_READ_ANY, NETWORK_READ)))
    assert result.data == {"customer": {"id": fake.CUSTOMER_NO, "tickets": None, "activeOutages": []}}
    assert [(e.path, e.extensions) for e in result.errors or []] == [
        (["customer", "tickets"], {"code": "FORBIDDEN"})
    ]


async def test_type_level_scope_guards_every_field_of_the_type() -> None:
    result = await run(TICKET_DOC, Access(principal(CUSTOMER_READ_ANY)))  # no ticket:read
    assert result.data == {"ticket": None} and codes(result) == {"FORBIDDEN"}


async def test_masked_without_pii_unmask() -> None:
    unmasked: list[tuple[str, str]] = []
    result = await run(CUSTOMER_DOC, Access(AGENT_NO_UNMASK), unmasked)
    assert result.errors is None
    assert unmasked == []
    assert result.data == masked_customer()


async def test_masked_when_access_rules_refuse_unmasking() -> None:
    unmasked: list[tuple[str, str]] = []
    result = await run(CUSTOMER_DOC, MayNotUnmask(SUPERVISOR), unmasked)
    assert result.errors is None and unmasked == []
    assert result.data == masked_customer()
    ticket = await run(TICKET_DOC, MayNotUnmask(SUPERVISOR))
    assert ticket.data == {
        "ticket": {"id": fake.TICKET_ID, "address": mask_address(fake.ADDRESS), "status": "ACCEPTED"}
    }


async def test_supervisor_sees_clear_values_and_each_is_audited_without_the_value() -> None:
    unmasked: list[tuple[str, str]] = []
    result = await run(CUSTOMER_DOC, Access(SUPERVISOR), unmasked)
    assert result.errors is None
    customer = result.data["customer"] if result.data else {}
    assert (customer["name"], customer["idCard"], customer["phones"]) == (
        fake.NAME,
        fake.ID_CARD,
        [fake.MOBILE, fake.LANDLINE],
    )
    assert customer["accounts"][0]["directDebit"]["bankAccount"] == fake.BANK_ACCOUNT
    account = "customer.accounts.0"
    assert sorted(unmasked) == sorted(
        (fake.CUSTOMER_NO, path)
        for path in [
            *(f"customer.{f}" for f in ("name", "mobile", "landline", "phones", "idCard")),
            *(f"{account}.{f}" for f in ("holderName", "address", "mobile", "landline")),
            *(f"{account}.directDebit.{f}" for f in ("bankAccount", "holder")),
        ]
    )
    secrets = {fake.NAME, fake.ID_CARD, fake.MOBILE, fake.LANDLINE, fake.ADDRESS, fake.BANK_ACCOUNT}
    assert not secrets & {part for pair in unmasked for part in pair}


def _mask_of(coordinate: str) -> object:
    type_name, name = coordinate.split(".")
    field = SCHEMA._schema.type_map[type_name].fields[name]  # type: ignore[attr-defined]
    definition = field.extensions["strawberry-definition"]
    return next((d for d in definition.directives if isinstance(d, Mask)), None)


def masked_customer() -> dict[str, Any]:
    return {
        "customer": {
            "id": fake.CUSTOMER_NO,
            "name": mask_name(fake.NAME),
            "mobile": mask_mobile(fake.MOBILE),
            "landline": mask_landline(fake.LANDLINE),
            "phones": [mask_mobile(fake.MOBILE), mask_landline(fake.LANDLINE)],
            "idCard": mask_id_card(fake.ID_CARD),
            "accounts": [
                {
                    "accountNo": fake.ACCOUNT_NO,
                    "holderName": mask_name(fake.NAME),
                    "address": mask_address(fake.ADDRESS),
                    "mobile": mask_mobile(fake.MOBILE),
                    "landline": mask_landline(fake.LANDLINE),
                    "directDebit": {
                        "bankAccount": mask_bank_account(fake.BANK_ACCOUNT),
                        "holder": mask_name(fake.NAME),
                        "bankName": "工商银行",
                    },
                }
            ],
        }
    }


# --- Apollo's semantics, on a schema of its own ---------------------------------------------


@strawberry.type(directives=[RequiresScopes(scopes=[["a", "b"], ["c"]])])
class Gadget:
    serial: str = "S-1"

    secret: str | None = strawberry.field(default="s", directives=[RequiresScopes(scopes=[["d"]])])


@strawberry.type
class GadgetQuery:
    @strawberry.field
    def gadget(self) -> Gadget | None:
        return Gadget()


@pytest.mark.parametrize(
    ("scopes", "serial", "secret"),
    [
        ({"a", "b"}, True, False),  # inner list: AND
        ({"c"}, True, False),  # outer list: OR
        ({"a"}, False, False),
        ({"c", "d"}, True, True),  # type- and field-level both hold
        ({"d"}, False, False),
    ],
)
async def test_outer_list_is_or_inner_list_is_and(scopes: set[str], serial: bool, secret: bool) -> None:
    attach_policy(GadgetQuery)
    schema = strawberry.Schema(query=GadgetQuery, execution_context_class=PolicedExecution)
    ctx = build_context(fake.FakeBackends().backends(), access=Access(principal(*scopes)))
    result = await schema.execute("{ gadget { secret serial } }", context_value=ctx)
    gadget = (result.data or {}).get("gadget")
    assert (gadget is not None) == serial
    assert bool(gadget and gadget["secret"]) == secret
    assert codes(result) <= {"FORBIDDEN"}


@strawberry.type
class Orphan:
    name: str = strawberry.field(directives=[Mask(kind=MaskKind.NAME)])


@strawberry.type
class OrphanQuery:
    orphan: Orphan | None = None


def test_a_masked_field_on_a_type_that_cannot_name_its_owner_fails_the_build() -> None:
    with pytest.raises(TypeError, match="owner_customer_no"):
        attach_policy(OrphanQuery)


async def test_a_known_owner_reveals_at_once_and_an_unloaded_account_loads_it_first() -> None:
    """No coroutine per masked field when the object names its owner without I/O (nearly every
    object: it was made from its owner's record); an `Account` asked before its record is in loads
    it first. Both answer and audit the same."""
    ctx = build_context(fake.FakeBackends().backends(), access=Access(SUPERVISOR))
    shown: list[tuple[str, str]] = []
    ctx.on_unmask = lambda customer_no, path: shown.append((customer_no, path))
    info = cast(
        Any, SimpleNamespace(context=ctx, path=Path(Path(None, "account", "Query"), "mobile", "Account"))
    )
    policy = PolicyExtension([], MaskKind.MOBILE)
    account = Account(account_no=fake.ACCOUNT_NO)

    asked = policy.reveal(ctx, account, info, fake.MOBILE)
    assert inspect.isawaitable(asked)
    assert await asked == fake.MOBILE
    at_once = policy.reveal(ctx, account, info, fake.MOBILE)  # its record is in now
    assert at_once == fake.MOBILE
    assert shown == [(fake.CUSTOMER_NO, "account.mobile")] * 2

    refused = PolicyExtension([], MaskKind.MOBILE).reveal(
        build_context(fake.FakeBackends().backends(), access=MayNotUnmask(SUPERVISOR)),
        account,
        info,
        fake.MOBILE,
    )
    assert refused == mask_mobile(fake.MOBILE)  # at once, and masked
