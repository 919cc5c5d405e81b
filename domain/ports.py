"""What Tidegate asks each back office: one `Protocol` per system, in the domain's own types.

Each port lists exactly the methods its callers use (the loaders, the cached reads, the services'
reads and writes, the screen-pop bench), no more: a method nobody calls is the adapter's business, not
the port's. `backends/` holds the adapters that talk to the real systems; `tests/fakes/` holds the
in-memory fakes. mypy checks both against these protocols, and one contract suite per port
(`tests/contracts/`) runs against the adapter over its simulator and against the fake alike.

Failures are the adapters' error tree (`infra.errors`): an unknown key a method names on its own
(`bills`, `meter`, `ticket`, ...) raises `NotFound`; batch lookups leave unknown keys out instead.
The tree is not named here because the model imports nothing first-party.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.drafts import (
    FeeAdjustmentDraft,
    FeeAdjustmentRequest,
    NoteDraft,
    OutageDraft,
    SmsDraft,
    SmsReceipt,
    TicketDraft,
)
from domain.enums import OutageStatus, TicketStatus
from domain.geo import GeoPoint
from domain.network import NetworkMain, Page, SensitiveCustomer, Valve, WaterSource
from domain.records import (
    Account,
    Bill,
    Customer,
    DirectDebit,
    FieldWorker,
    Grid,
    Interaction,
    Meter,
    Outage,
    Payment,
    PipeSegment,
    ServiceConnection,
    Ticket,
    TicketStatusChange,
)


class BillingPort(Protocol):
    """营收: accounts, what they owe, bills, payments, meters, 代扣 mandates; fee adjustments queued."""

    MAX_BATCH: int  # most account numbers one `accounts` call takes (the loader's batch size)

    async def accounts_by_phone(self, phone: str) -> list[Account]:
        """Every account of every customer on this number (national digits); [] when none."""
        ...

    async def search_accounts(self, name: str | None, address: str | None, limit: int) -> list[Account]:
        """Accounts whose holder's name and/or address contain these parts, at most `limit` (≤ 20):
        how an agent finds a caller the phone number did not."""
        ...

    async def accounts(self, account_nos: Sequence[str]) -> dict[str, Account]:
        """Up to MAX_BATCH accounts in one call; unknown or malformed numbers are simply absent."""
        ...

    async def bills(self, account_no: str, last: int) -> list[Bill]:
        """The latest `last` bills, newest first; NotFound for an unknown account."""
        ...

    async def payments(self, account_no: str, last: int) -> list[Payment]:
        """The latest `last` payments, newest first."""
        ...

    async def meter(self, account_no: str, reads: int) -> Meter:
        """The account's meter with its latest `reads` reads (newest first; 0 for none)."""
        ...

    async def direct_debit(self, account_no: str) -> DirectDebit | None:
        """The 代扣 agreement, signed or cancelled, or None when the account never had one."""
        ...

    async def submit_fee_adjustment(self, draft: FeeAdjustmentDraft) -> FeeAdjustmentRequest:
        """Queue an adjustment for a clerk's approval: each call queues one more request."""
        ...


class CrmPort(Protocol):
    """The contact master: who a number belongs to, their history, and notes added to it."""

    MAX_BATCH: int  # most keys one `contacts_by_customer_no` or `interactions` call takes

    async def contacts_by_phone(self, phone: str) -> list[Customer]:
        """Every customer on record with this number (national digits)."""
        ...

    async def contacts_by_customer_no(self, customer_nos: Sequence[str]) -> dict[str, Customer]:
        """Up to MAX_BATCH customers in one call; unknown ones are simply absent."""
        ...

    async def interactions(self, crm_ids: Sequence[str], last: int) -> dict[str, list[Interaction]]:
        """The latest `last` interactions of each contact, newest first; every asked id is a key."""
        ...

    async def add_note(self, draft: NoteDraft) -> Interaction:
        """Add a note to a contact's history: each call adds one more."""
        ...

    async def note_by_reference(self, contact_id: str, client_ref: str) -> Interaction | None:
        """The note added with `client_ref` among the contact's latest interactions, or None."""
        ...

    async def sensitive_customers(self) -> list[SensitiveCustomer]:
        """The whole register of customers who need warning first (hospitals, dialysis patients,
        schools, 孤老, 低保), in register order: a few hundred entries, read in pages inside."""
        ...

    async def send_sms(self, messages: Sequence[SmsDraft]) -> SmsReceipt:
        """Queue up to MAX_BATCH text messages in the CRM's SMS outbox. One message per `client_ref`:
        one sent before (by this call or any earlier one) is counted as a duplicate and not sent."""
        ...

    async def sms_sent(self, ref_prefix: str) -> int:
        """How many messages the outbox holds under references starting with `ref_prefix`."""
        ...


class GisPort(Protocol):
    """The network: service connections, mains, outage notices and the dispatch grids."""

    MAX_BATCH: int  # most keys one batch lookup takes

    async def service_connections(self, account_nos: Sequence[str]) -> dict[str, ServiceConnection]:
        """Keyed by account number; accounts the GIS does not know are simply absent."""
        ...

    async def segments_by_object_id(self, object_ids: Sequence[int]) -> dict[int, PipeSegment]:
        """Mains by the GIS's object id; unknown ids are simply absent."""
        ...

    async def segments(self, segment_ids: Sequence[str]) -> dict[str, PipeSegment]:
        """Mains by asset number (e.g. "GS-000205"); unknown ones are simply absent."""
        ...

    async def segments_near(self, point: GeoPoint, radius_m: int) -> list[PipeSegment]:
        """Mains within `radius_m` of the point, nearest first."""
        ...

    async def outages(self, active: bool | None = None) -> list[Outage]:
        """True: in progress now; False: every other notice; None: all of them."""
        ...

    async def grid_at(self, point: GeoPoint) -> Grid | None:
        """The grid the point lies in, or None outside the district."""
        ...

    async def outage(self, outage_id: str) -> Outage | None:
        """One notice by its id, whatever its status; None when there is none."""
        ...

    async def publish_outage(self, draft: OutageDraft) -> Outage:
        """Draw a notice on the outage layer; one per `outage_id`: a second publish under it answers
        with the notice already drawn."""
        ...

    async def set_outage_status(self, outage_id: str, status: OutageStatus) -> Outage:
        """Change a notice's status (RESTORED closes it); NotFound for an unknown id."""
        ...

    # The network layers the isolation trace is built from, read whole in pages of at most
    # `domain.network.PAGE_MAX` (object-id order; ValueError for a bad offset or limit).

    async def network_mains(self, offset: int, limit: int) -> Page[NetworkMain]:
        """Mains with their FROM/TO nodes, status and kind."""
        ...

    async def valves(self, offset: int, limit: int) -> Page[Valve]:
        """Valves with their main, protected node, position and operability."""
        ...

    async def service_connection_page(self, offset: int, limit: int) -> Page[ServiceConnection]:
        """Every service connection with the main it taps."""
        ...

    async def water_sources(self) -> list[WaterSource]:
        """Every source (water works, reservoir, tank, pump station) and the node it feeds."""
        ...


class WorkOrdersPort(Protocol):
    """Repair tickets: who has which, what is open, filing one, and who works each grid."""

    MAX_BATCH: int  # most customer numbers one `tickets_by_customers` call takes

    async def tickets_by_customers(self, customer_nos: Sequence[str]) -> dict[str, list[Ticket]]:
        """Every ticket of each customer, newest first; every asked customer is a key."""
        ...

    async def open_tickets(self) -> list[Ticket]:
        """Every ticket still owed to a customer, across the district."""
        ...

    async def tickets(self, statuses: frozenset[TicketStatus], limit: int) -> list[Ticket]:
        """At most `limit` tickets in any of `statuses`, across the district."""
        ...

    async def ticket(self, ticket_id: str) -> Ticket:
        """One ticket; NotFound for an unknown id."""
        ...

    async def create_ticket(self, draft: TicketDraft) -> Ticket:
        """File a ticket; one per `client_ref`: a second create under it answers with the first."""
        ...

    async def ticket_by_client_ref(self, client_ref: str) -> Ticket | None:
        """The ticket filed under this reference, or None."""
        ...

    async def grid_workers(self) -> dict[str, FieldWorker]:
        """Grid code -> the field worker the system dispatches that grid's tickets to."""
        ...

    async def children(self, ticket_id: str) -> list[Ticket]:
        """The child tasks filed under a master order (`TicketDraft.parent_id`), oldest first; [] for
        an order with none or an unknown one."""
        ...

    async def complete_ticket(self, ticket_id: str, remark: str) -> Ticket:
        """Move the ticket on to COMPLETED (an order already done or cancelled is answered as it is);
        NotFound for an unknown id."""
        ...

    def status_change(self, event: Mapping[str, Any], event_id: str) -> TicketStatusChange | None:
        """A pushed event (the system's webhook body) in our vocabulary; None for kinds we do not
        consume. ValueError when a status change lacks what we need."""
        ...


class BatchTracing(Protocol):
    """Around one loader batch (a span when tracing is on): the one observability seam the ports
    carry, so the loaders need not know OpenTelemetry (`infra.tracing.BackendTracing` implements it)."""

    def batch(self, source: str, size: int) -> AbstractAsyncContextManager[object]: ...


class Untraced:
    """Tracing off: every batch runs inside a do-nothing context."""

    def batch(self, source: str, size: int) -> AbstractAsyncContextManager[object]:
        return nullcontext()


@dataclass
class Backends:
    """The four back offices of one process, as their ports: what services and loaders are handed.

    `backends.registry.open_backends` fills it with the real adapters (where mypy checks that each
    satisfies its port); a test hands in-memory fakes (`tests/fakes/`). `closers` are what `aclose`
    shuts (a fake needs none)."""

    billing: BillingPort
    crm: CrmPort
    gis: GisPort
    workorders: WorkOrdersPort
    tracing: BatchTracing = field(default_factory=Untraced)
    closers: tuple[Callable[[], Awaitable[None]], ...] = ()

    async def aclose(self) -> None:
        for close in self.closers:
            await close()
