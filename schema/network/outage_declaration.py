"""What declaring and restoring an outage answer: the notice, the master order and its closure
tasks, and the SMS run (counts only: the messages' numbers are the CRM's business)."""

from __future__ import annotations

import strawberry

from schema.from_record import from_record
from schema.network.outage import Outage
from schema.tickets.ticket import Ticket
from services import outages


@strawberry.type(description="One run of outage texts through the CRM's SMS gateway.")
class NoticeRun:
    customers: int = strawberry.field(description="Affected customers the run is for.")
    sent: int = strawberry.field(description="Texts this run queued at the CRM (0 while `background`).")
    duplicates: int = strawberry.field(
        description="Texts the CRM had already sent under the same outage and customer: not sent again."
    )
    without_mobile: int = strawberry.field(description="Customers with no mobile on record: not texted.")
    background: bool = strawberry.field(
        description="True: more than a request's worth; the run goes on after this answer. "
        "`outageNotices` counts what the outbox holds."
    )


@strawberry.type(
    description="A declared outage: the GIS notice, one master repair order, one task per closure."
)
class OutageDeclaration:
    outage: Outage
    master_ticket: Ticket = strawberry.field(
        description="The repair, filed once: tickets from affected customers attach to it."
    )
    closure_tasks: list[Ticket] = strawberry.field(
        description="One child task per valve to close, in plan order."
    )
    notices: NoticeRun

    @classmethod
    def of(cls, found: outages.Declaration) -> OutageDeclaration:
        return cls(
            outage=Outage.of(found.outage),
            master_ticket=Ticket.of(found.master),
            closure_tasks=[Ticket.of(t) for t in found.tasks],
            notices=from_record(NoticeRun, found.notices),
        )


@strawberry.type(
    description="A restored outage: the notice closed, the master order completed, the all-clear."
)
class OutageRestoration:
    outage: Outage
    master_ticket: Ticket
    notices: NoticeRun

    @classmethod
    def of(cls, found: outages.Restoration) -> OutageRestoration:
        return cls(
            outage=Outage.of(found.outage),
            master_ticket=Ticket.of(found.master),
            notices=from_record(NoticeRun, found.notices),
        )


@strawberry.type(description="What the CRM's SMS outbox holds for one outage.")
class OutageNotices:
    outage_id: strawberry.ID
    declared: int = strawberry.field(description="Outage notices sent, one per customer at most.")
    all_clear: int = strawberry.field(description="All-clear texts sent after the restore.")

    @classmethod
    def of(cls, found: outages.NoticeCounts) -> OutageNotices:
        return from_record(cls, found)
