"""Why a customer is without water (the outage, the main, shut or downstream, the closures), and the
IVR's answer for a caller's number."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import outage_impact as d
from domain.enums import OutageKind
from schema import refs
from schema.directives import NETWORK_DATA
from services.outage_impact import AccountOutage, CallerStatus

if TYPE_CHECKING:
    from schema.network.outage import Outage

strawberry.enum(  # registers the domain's enum with GraphQL (as schema/enums.py does the others)
    d.ImpactCause,
    description="SHUT: the outage's valves are closed around the customer's main; DOWNSTREAM: the main "
    "is fed through the shut section and loses its supply too; UNKNOWN: the network could not place "
    "the outage (it names no valve or main the GIS network holds) and its polygon decided.",
)


@strawberry.type(
    description="An active outage that leaves one of the customer's accounts without water, and why "
    "(from the valve-isolation trace; `byTrace` false: the network could not place the outage and its "
    "polygon decided).",
    directives=[NETWORK_DATA],
)
class OutageImpact:
    outage: Annotated[Outage, strawberry.lazy("schema.network.outage")]
    account_no: str = strawberry.field(description="The account whose service connection is dry.")
    by_trace: bool
    cause: d.ImpactCause
    main_id: str | None = strawberry.field(description="The main the account's connection taps (asset no).")
    road_name: str | None
    closed_valve_ids: list[str] = strawberry.field(description="The valves the outage closed (asset nos).")

    @classmethod
    def of(cls, found: AccountOutage) -> OutageImpact:
        n = found.notice
        return cls(
            outage=refs.outage(found.outage),
            account_no=found.account_no,
            by_trace=n is not None,
            cause=n.cause if n else d.ImpactCause.UNKNOWN,
            main_id=n.main_asset_no if n else None,
            road_name=n.road_name if n else None,
            closed_valve_ids=list(n.closed_valves) if n else [],
        )


@strawberry.type(description="One outage a caller's number is affected by, as the IVR tells it.")
class CallerOutageNotice:
    outage_id: strawberry.ID
    kind: OutageKind
    reason: str | None
    cause: d.ImpactCause
    main_id: str
    road_name: str | None
    closed_valve_ids: list[str]
    estimated_restore_at: datetime | None
    message: str = strawberry.field(description="A short sentence to play (Chinese, for text to speech).")

    @classmethod
    def of(cls, n: d.OutageNotice) -> CallerOutageNotice:
        return cls(
            outage_id=strawberry.ID(n.outage_id),
            kind=n.kind,
            reason=n.reason,
            cause=n.cause,
            main_id=n.main_asset_no,
            road_name=n.road_name,
            closed_valve_ids=list(n.closed_valves),
            estimated_restore_at=n.estimated_restore_at,
            message=n.message,
        )


NOT_AFFECTED = "未查询到您所在地址的停水信息。"


@strawberry.type(
    description="Is the caller's number on an account the active outages leave without water? "
    "Answered from the process's in-memory index, touching no back office.",
    directives=[NETWORK_DATA],
)
class CallerOutageStatus:
    affected: bool
    notices: list[CallerOutageNotice] = strawberry.field(description="Every outage, the first as below.")
    outage_id: strawberry.ID | None
    reason: str | None
    cause: d.ImpactCause | None
    estimated_restore_at: datetime | None
    message: str
    as_of: datetime | None = strawberry.field(
        description="When the index was built (null: not built yet, so every answer is not affected)."
    )

    @classmethod
    def of(cls, status: CallerStatus) -> CallerOutageStatus:
        notices = [CallerOutageNotice.of(n) for n in status.notices]
        first = notices[0] if notices else None
        return cls(
            affected=first is not None,
            notices=notices,
            outage_id=first.outage_id if first else None,
            reason=first.reason if first else None,
            cause=first.cause if first else None,
            estimated_restore_at=first.estimated_restore_at if first else None,
            message=first.message if first else NOT_AFFECTED,
            as_of=None if status.as_of is None else datetime.fromtimestamp(status.as_of, tz=UTC),
        )


refs.outage_impact.register(OutageImpact.of)
