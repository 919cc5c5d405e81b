"""`PopSnapshot`: the records one screen pop loaded, so the same fields can be answered again without
asking a back office.

Taken from the loaders of the ring-time screen pop once it has run, and primed into the loaders of
the requests that follow it (the agent's `screenPop` event, their answered-call `ScreenPop` query).
It holds values only: who may see them is decided again by the request they are primed into, with
its own access and masking. Cached reads keep their age, so freshness marking stays honest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from aiodataloader import DataLoader

from domain.records import Account, Customer, Interaction, Outage, ServiceConnection, Ticket
from infra import codec
from infra.cache.cache import Cached
from services.loaders import Loaders

T = TypeVar("T")


@dataclass(frozen=True)
class PopSnapshot:
    taken_at: float  # epoch seconds
    customers: tuple[Customer, ...]
    accounts: Mapping[str, Cached[Account]]
    interactions: Mapping[tuple[str, int], list[Interaction]]  # (CRM contact id, how many)
    tickets: Mapping[str, list[Ticket]]  # by customer number
    connections: Mapping[str, Cached[ServiceConnection]]  # by account number
    outages: Cached[list[Outage]] | None  # the active ones

    @classmethod
    def capture(cls, loaders: Loaders, customer_nos: Iterable[str], now: float) -> PopSnapshot:
        """What the pop's loaders hold for these customers (the ones it bound to the call)."""
        wanted = set(customer_nos)
        customers = tuple(c for no, c in _settled(loaders.customer_by_no).items() if no in wanted)
        accounts = {a for c in customers for a in c.account_nos}
        contacts = {c.crm_id for c in customers}
        outages = _settled(loaders.outages).get(True)
        return cls(
            taken_at=now,
            customers=customers,
            accounts={k: v for k, v in _settled(loaders.account_by_no).items() if k in accounts},
            interactions={
                k: v for k, v in _settled(loaders.interactions_by_contact).items() if k[0] in contacts
            },
            tickets={k: v for k, v in _settled(loaders.tickets_by_customer).items() if k in wanted},
            connections={k: v for k, v in _settled(loaders.connection_by_account).items() if k in accounts},
            outages=outages,
        )

    @property
    def customer_nos(self) -> list[str]:
        return [c.customer_no for c in self.customers]

    @property
    def account_nos(self) -> list[str]:
        return [a for c in self.customers for a in c.account_nos]

    def prime(self, loaders: Loaders, now: float) -> None:
        """Fill fresh loaders with the snapshot; cached reads have aged by the time since it was taken."""
        aged = max(0.0, now - self.taken_at)
        for customer in self.customers:
            loaders.customer_by_no.prime(customer.customer_no, customer)
        for no, account in self.accounts.items():
            loaders.account_by_no.prime(no, _older(account, aged))
        for key, rows in self.interactions.items():
            loaders.interactions_by_contact.prime(key, rows)
        for no, found in self.tickets.items():
            loaders.tickets_by_customer.prime(no, found)
        for no, connection in self.connections.items():
            loaders.connection_by_account.prime(no, _older(connection, aged))
        if self.outages is not None:
            loaders.outages.prime(True, _older(self.outages, aged))

    def encode(self) -> dict[str, Any]:
        return {
            "takenAt": self.taken_at,
            "customers": codec.encode(list(self.customers)),
            "accounts": {k: _encode_cached(v) for k, v in self.accounts.items()},
            "interactions": [[k[0], k[1], codec.encode(v)] for k, v in self.interactions.items()],
            "tickets": {k: codec.encode(v) for k, v in self.tickets.items()},
            "connections": {k: _encode_cached(v) for k, v in self.connections.items()},
            "outages": _encode_cached(self.outages) if self.outages is not None else None,
        }

    @classmethod
    def decode(cls, data: Any) -> PopSnapshot:
        """ValueError when `data` is not a snapshot this code wrote (another version's, say)."""
        try:
            outages = data["outages"]
            return cls(
                taken_at=float(data["takenAt"]),
                customers=tuple(codec.decode(list[Customer], data["customers"])),
                accounts={k: _decode_cached(Account, v) for k, v in data["accounts"].items()},
                interactions={
                    (str(contact), int(last)): codec.decode(list[Interaction], rows)
                    for contact, last, rows in data["interactions"]
                },
                tickets={k: codec.decode(list[Ticket], v) for k, v in data["tickets"].items()},
                connections={k: _decode_cached(ServiceConnection, v) for k, v in data["connections"].items()},
                outages=_decode_cached(list[Outage], outages) if outages is not None else None,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a screen-pop snapshot: {exc}") from exc


def _settled(loader: DataLoader[Any, Any]) -> dict[Any, Any]:
    """The values a loader holds, by key: loaded, not failed, not absent. aiodataloader keeps a future
    per key in its cache map (`_cache`); reading it takes no backend call, as loading again would for
    a key whose load failed."""
    found: dict[Any, Any] = {}
    for key, future in getattr(loader, "_cache", {}).items():
        if future.done() and not future.cancelled() and future.exception() is None:
            value = future.result()
            if value is not None:
                found[key] = value
    return found


def _older(cached: Cached[T], by_s: float) -> Cached[T]:
    return Cached(cached.value, cached.age_s + by_s, cached.stale, cached.stored_at)


def _encode_cached(cached: Cached[Any]) -> dict[str, Any]:
    return {
        "value": codec.encode(cached.value),
        "ageS": cached.age_s,
        "stale": cached.stale,
        "storedAt": cached.stored_at,
    }


def _decode_cached(kind: Any, data: Any) -> Cached[Any]:
    return Cached(
        codec.decode(kind, data["value"]), float(data["ageS"]), bool(data["stale"]), float(data["storedAt"])
    )
