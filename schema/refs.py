"""Another slice's entity, built without importing its module.

The entities point at each other (an account's customer, a customer's accounts and tickets, a
ticket's main, a main's tickets): their annotations name each other through `strawberry.lazy`, and
what must *build* one gets the constructor from here. Each entity's own module registers it when it
runs, and the roots (`schema.query`, `schema.federation`) import every entity module before any
resolver runs, so no slice imports another's entity module and none hides an import in a function.

Customers and accounts are made through `readable_customer(s)` / `readable_account(s)`: the entity
is where access control refuses (`services.authorize`, the one decision). A refused object is null
at its own path with its FORBIDDEN, so its siblings (the other customers of a list, the fields
beside it) survive; every position holding a Customer or an Account is nullable for that reason
(docs/federation.md#nullability). A list gets its refusals in place: graphql-core completes an
exception found in a list as that item's error, at that item's path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from domain import records
from schema.info import Info
from services.authorize import account_refusal, customer_refusal
from services.customers import CustomerRef
from services.outage_impact import AccountOutage

if TYPE_CHECKING:
    from schema.accounts.account import Account
    from schema.customers.customer import Customer
    from schema.network.outage import Outage
    from schema.network.outage_impact import OutageImpact
    from schema.network.pipe_segment import PipeSegment
    from schema.tickets.ticket import Ticket

S = TypeVar("S")
T = TypeVar("T")


class Factory(Generic[S, T]):
    """One entity's constructor from the value that identifies it, registered by its module."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._make: Callable[[S], T] | None = None

    def register(self, make: Callable[[S], T]) -> None:
        self._make = make

    @property
    def registered(self) -> bool:
        return self._make is not None

    def __call__(self, source: S) -> T:
        if self._make is None:
            raise LookupError(f"{self.name} is not registered: its module was never imported")
        return self._make(source)


customer: Factory[CustomerRef, Customer] = Factory("Customer")
account: Factory[str, Account] = Factory("Account")
ticket: Factory[records.Ticket, Ticket] = Factory("Ticket")
pipe_segment: Factory[records.PipeSegment, PipeSegment] = Factory("PipeSegment")
outage: Factory[records.Outage, Outage] = Factory("Outage")
outage_impact: Factory[AccountOutage, OutageImpact] = Factory("OutageImpact")


def readable_customer(info: Info, customer_no: str) -> Customer:
    """The customer, or its refusal raised here: a single position (`Ticket.customer`) is nullable."""
    refused = customer_refusal(info.context, customer_no)
    if refused is not None:
        raise refused
    return customer(CustomerRef(customer_no))


def readable_customers(info: Info, customer_nos: Iterable[str]) -> list[Customer | None]:
    """Each customer, or its refusal in its place (that item null, its error at its path)."""
    ctx = info.context
    made: list[Any] = [customer_refusal(ctx, no) or customer(CustomerRef(no)) for no in customer_nos]
    return cast("list[Customer | None]", made)


def readable_account(info: Info, account_no: str) -> Account:
    refused = account_refusal(info.context, account_no)
    if refused is not None:
        raise refused
    return account(account_no)


def readable_accounts(info: Info, account_nos: Iterable[str]) -> list[Account | None]:
    ctx = info.context
    made: list[Any] = [account_refusal(ctx, no) or account(no) for no in account_nos]
    return cast("list[Account | None]", made)
