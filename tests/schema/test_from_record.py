"""Record-backed types: every field copied by name names a real record attribute, no hand-written
getter comes back, and every entity a slice builds through `schema.refs` is registered."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from strawberry.types.base import get_object_definition

from domain import drafts, records
from domain.money import Money as DomainMoney
from schema import build_schema, refs
from schema.accounts.account import Account
from schema.accounts.adjustment import FeeAdjustment
from schema.accounts.billing import Bill, DirectDebit, Meter, MeterRead, Payment, TierLine
from schema.customers.customer import Customer
from schema.customers.interaction import Interaction
from schema.customers.screen_pop import ScreenPop
from schema.from_record import SOURCE, from_record, loaded_field, loaded_reader
from schema.network.outage import Outage
from schema.network.pipe_segment import PipeSegment
from schema.scalars import Money
from schema.tickets.parts import FieldWorker, TicketEvent, TicketLiveStatus
from schema.tickets.redacted import RedactedTicket
from schema.tickets.ticket import Ticket
from services import authorize, subscriptions
from tests.schema import fake_backends

SCHEMA = Path(__file__).parents[2] / "schema"

COPIED = [
    (Interaction, records.Interaction),
    (Bill, records.Bill),
    (TierLine, records.TierLine),
    (Payment, records.Payment),
    (Meter, records.Meter),
    (MeterRead, records.MeterRead),
    (DirectDebit, records.DirectDebit),
    (FeeAdjustment, drafts.FeeAdjustmentRequest),
    (Outage, records.Outage),
    (PipeSegment, records.PipeSegment),
    (Ticket, records.Ticket),
    (TicketEvent, records.TicketEvent),
    (FieldWorker, records.FieldWorker),
    (TicketLiveStatus, records.TicketStatusChange),
    (RedactedTicket, authorize.RedactedTicket),
    (ScreenPop, subscriptions.PopEvent),
]
LOADED = [(Account, records.Account), (Customer, records.Customer)]


def _attributes(record_type: type) -> set[str]:
    return {f.name for f in dataclasses.fields(record_type)} | {
        name for name, value in vars(record_type).items() if isinstance(value, property)
    }


@pytest.mark.parametrize(("cls", "record_type"), COPIED + LOADED, ids=lambda c: getattr(c, "__name__", ""))
def test_every_copied_field_names_a_record_attribute(cls: type, record_type: type) -> None:
    definition = get_object_definition(cls, strict=True)
    copied = {
        f.python_name: f.metadata.get(SOURCE) or f.python_name
        for f in definition.fields
        if (f.base_resolver is None and f.init) or SOURCE in f.metadata
    }
    missing = {name: source for name, source in copied.items() if source not in _attributes(record_type)}
    # Given by the type's `of` (the record itself, an owner, a converted time), or the record kept
    # once loaded (`_record`, private), not copied.
    given = {"record", "_record", "ref", "customer_no", "owner", "event", "ringing_at"}
    assert {name for name in missing if name not in given} == set()


def test_a_loaded_field_is_read_by_its_attribute_or_its_compute() -> None:
    """What the compiled walk's group reads per field (`loaded_reader`): the record's attribute, or
    the field's `compute`; fields that are not loaded have no reader."""
    fields = {f.python_name: f for f in get_object_definition(Account, strict=True).fields}
    account = dataclasses.replace(
        fake_backends.ACCOUNT,
        balance=DomainMoney(500),
        arrears=DomainMoney(1200),
        late_fee=DomainMoney(30),
        year_to_date_m3=7,
    )
    assert loaded_reader(fields["balance"])(account) == DomainMoney(500)  # type: ignore[misc]
    assert loaded_reader(fields["year_to_date_usage_m3"])(account) == 7  # type: ignore[misc]
    assert loaded_reader(fields["amount_due"])(account) == DomainMoney(730)  # type: ignore[misc]
    assert loaded_reader(fields["account_no"]) is None and loaded_reader(fields["meter"]) is None
    with pytest.raises(TypeError, match="not both"):
        loaded_field(source="balance", compute=lambda record: record.balance)


def test_money_and_nested_types_convert_through_the_declared_type() -> None:
    assert from_record(Money, DomainMoney(-5)) == Money(fen=-5, yuan="-0.05")


# `self.record.x`, `(await self.load_record(info)).x`, either wrapped in one call (`Money.of(...)`).
GETTER = re.compile(r"^(\w+(\.\w+)*\()?\(?(await )?self\.\w+(\(info\))?\)?\.\w+\)?$")


def test_no_hand_written_getter() -> None:
    """A field whose body only returns an attribute of the type's record (maybe wrapped in one call)
    belongs in the declared fields, copied by `schema.from_record`."""
    getters = []
    for path in sorted(SCHEMA.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not any("strawberry.field" in ast.unparse(d) for d in node.decorator_list):
                continue
            body = [
                s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            ]
            returned = body[0].value if len(body) == 1 and isinstance(body[0], ast.Return) else None
            if returned is not None and GETTER.match(ast.unparse(returned)):
                getters.append(f"{path.relative_to(SCHEMA)}:{node.name}")
    assert getters == []


def test_every_entity_factory_is_registered_once_the_schema_is_built() -> None:
    build_schema()
    factories: list[refs.Factory[Any, Any]] = [
        refs.customer,
        refs.account,
        refs.ticket,
        refs.pipe_segment,
        refs.outage,
    ]
    assert all(f.registered for f in factories)
