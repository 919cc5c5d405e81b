"""Another slice's entity, built without importing its module.

The entities point at each other (an account's customer, a customer's accounts and tickets, a
ticket's main, a main's tickets): their annotations name each other through `strawberry.lazy`, and
what must *build* one gets the constructor from here. Each entity's own module registers it when it
runs, and the roots (`schema.query`, `schema.federation`) import every entity module before any
resolver runs, so no slice imports another's entity module and none hides an import in a function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from domain import records
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
