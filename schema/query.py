"""The root Query: the entry points the workbench and the softphone use."""

from __future__ import annotations

import strawberry

from domain.enums import TicketStatus
from schema import refs
from schema.accounts.account import Account
from schema.board.board import BOARD_DATA, SupervisorBoard
from schema.customers.caller_match import CallerMatch
from schema.customers.customer import Customer
from schema.customers.identification import IdentificationCandidate
from schema.directives import CUSTOMER_DATA, NETWORK_DATA, OUTAGE_DECLARES, TICKET_DATA
from schema.info import Info
from schema.network.isolation_plan import IsolationPlan
from schema.network.outage import Outage
from schema.network.outage_declaration import OutageNotices
from schema.network.outage_impact import CallerOutageStatus
from schema.network.pipe_segment import PipeSegment
from schema.tickets.ticket import Ticket
from services import (
    accounts,
    board,
    caller_match,
    customers,
    identify,
    isolation,
    network,
    outage_impact,
    outages,
    tickets,
)


@strawberry.type
class Query:
    @strawberry.field(
        description="Customers reachable on this number. "
        "Accepts +86, 0086, 86, a leading 0, spaces and dashes.",
        directives=[CUSTOMER_DATA],
    )
    async def customer_by_phone(self, info: Info, phone: str) -> list[Customer | None] | None:
        found = await customers.by_phone(info.context, phone)
        return refs.readable_customers(info, [r.customer_no for r in found])

    @strawberry.field(
        description="Whether Tidegate knows who is calling on your current call (null: on no call). "
        "NO_MATCH and WITHHELD are normal answers: identify the caller (`identificationCandidates`, "
        "`verifyCaller`, `bindCaller`).",
        directives=[CUSTOMER_DATA],
    )
    async def caller_match(self, info: Info) -> CallerMatch | None:
        found = caller_match.current(info.context)
        return CallerMatch.of(found) if found is not None else None

    @strawberry.field(
        description="Who the caller on your current call may be, by 户号 alone, or by part of the "
        "holder's name and/or address (2-40 characters): at most `first` (1-10), masked. Only while on "
        "a call whose caller is not identified yet.",
        directives=[CUSTOMER_DATA],
    )
    async def identification_candidates(
        self,
        info: Info,
        account_no: str | None = None,
        address: str | None = None,
        name: str | None = None,
        first: int = 5,
    ) -> list[IdentificationCandidate] | None:
        found = await identify.candidates(info.context, account_no, address, name, first)
        return [IdentificationCandidate.of(c) for c in found]

    @strawberry.field(
        description="A customer by the utility's customer number, e.g. KH00000001.",
        directives=[CUSTOMER_DATA],
    )
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        ref = customers.customer_ref(str(id))
        await customers.profile(info.context, ref)  # FORBIDDEN or NOT_FOUND here, not on every field
        return refs.readable_customer(info, ref.customer_no)

    @strawberry.field(
        description="A billing account by 户号 (leading zeros optional).", directives=[CUSTOMER_DATA]
    )
    async def account(self, info: Info, account_no: str) -> Account | None:
        number = accounts.normalize_account_no(account_no)
        await accounts.record(info.context, number)  # FORBIDDEN or NOT_FOUND here, not on every field
        return refs.readable_account(info, number)

    @strawberry.field(description="A repair ticket by its work-order number.", directives=[TICKET_DATA])
    async def ticket(self, info: Info, id: strawberry.ID) -> Ticket | None:
        return Ticket.of(await tickets.ticket(info.context, str(id)))

    @strawberry.field(
        description="Tickets across the district, newest first; open ones unless `status` says.",
        directives=[TICKET_DATA],
    )
    async def tickets(
        self, info: Info, status: list[TicketStatus] | None = None, first: int = 20
    ) -> list[Ticket] | None:
        return [Ticket.of(t) for t in await tickets.tickets(info.context, status, first)]

    @strawberry.field(description="A water main by asset number, e.g. GS-000205.", directives=[NETWORK_DATA])
    async def pipe_segment(self, info: Info, id: strawberry.ID) -> PipeSegment | None:
        return PipeSegment.of(await network.segment(info.context, str(id), info.path))

    @strawberry.field(
        description="Mains within `radiusM` metres (1-2000) of a point, nearest first (at most 50).",
        directives=[NETWORK_DATA],
    )
    async def pipe_segments_near(
        self, info: Info, lat: float, lon: float, radius_m: int = 100
    ) -> list[PipeSegment] | None:
        return [PipeSegment.of(s) for s in await network.segments_near(info.context, lat, lon, radius_m)]

    @strawberry.field(
        description="Outages; `active: true` for those cutting water now, omit for all.",
        directives=[NETWORK_DATA],
    )
    async def outages(self, info: Info, active: bool | None = None) -> list[Outage] | None:
        return [Outage.of(o) for o in await network.outages(info.context, active, info.path)]

    @strawberry.field(
        description="The supervisor's board: queue, agents, screen-pop times, back offices, outages.",
        directives=[BOARD_DATA],
    )
    async def supervisor_board(self, info: Info) -> SupervisorBoard | None:
        return SupervisorBoard.of(await board.supervisor_board(info.context))

    @strawberry.field(
        description="The valve-isolation trace for a main (asset number, e.g. GS-000205): valves to close, "
        "mains and customers left without water.",
        directives=[NETWORK_DATA],
    )
    async def isolation_plan(self, info: Info, main_id: strawberry.ID) -> IsolationPlan | None:
        return IsolationPlan.of(await isolation.isolation_plan(info.context, str(main_id)))

    @strawberry.field(
        description="For the IVR: is this caller's number without water because of an active outage, "
        "why, and when it is back. From memory only (no back office is asked); an unknown or withheld "
        "number is not affected.",
        directives=[NETWORK_DATA],
    )
    async def caller_outage_status(self, info: Info, phone: str) -> CallerOutageStatus | None:
        return CallerOutageStatus.of(await outage_impact.caller_status(info.context, phone))

    @strawberry.field(
        description="How many outage texts the CRM's outbox holds for a declared outage (supervisors): "
        "how far a background notice run has got.",
        directives=[OUTAGE_DECLARES],
    )
    async def outage_notices(self, info: Info, outage_id: strawberry.ID) -> OutageNotices | None:
        return OutageNotices.of(await outages.notice_counts(info.context, str(outage_id)))
