"""IsolationPlan: what closing the valves around a burst main takes, and who loses water.

Thin: every field is the trace's (`services.isolation`) or one service call; the customer-linked
lists pass the one authorization point there and come back as the usual `Account` / `Customer`
types, masked as everywhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import network as records
from domain.enums import SensitiveCategory, ValveBoundary
from schema import refs
from schema.directives import CUSTOMER_DATA, NETWORK_DATA
from schema.info import Info
from schema.scalars import GeoPoint
from services import isolation

if TYPE_CHECKING:
    from schema.accounts.account import Account
    from schema.customers.customer import Customer


@strawberry.type(description="A valve of the plan (阀门).", directives=[NETWORK_DATA])
class PlanValve:
    id: strawberry.ID = strawberry.field(description="Asset number, e.g. FM-000123.")
    object_id: int = strawberry.field(description="The GIS object id.")
    main_id: strawberry.ID = strawberry.field(description="The main it sits on (asset number).")
    protected_node: int = strawberry.field(description="The node closing it shuts the main off from.")
    operable: bool
    currently_open: bool
    normally_open: bool
    boundary: ValveBoundary
    location: GeoPoint | None

    @classmethod
    def of(cls, v: records.Valve, plan: isolation.IsolationPlan) -> PlanValve:
        return cls(
            id=strawberry.ID(v.asset_no),
            object_id=v.object_id,
            main_id=strawberry.ID(plan.mains[v.main_object_id].segment_id),
            protected_node=v.protected_node,
            operable=v.operable,
            currently_open=v.currently_open,
            normally_open=v.normally_open,
            boundary=v.boundary,
            location=None if v.location is None else GeoPoint.of(v.location),
        )


@strawberry.type(
    description="The isolated area grew here: `valve` stands open and cannot be closed, so the valve "
    "segment behind it is shut off too, from the valves beyond it.",
    directives=[NETWORK_DATA],
)
class SegmentGrowth:
    valve: PlanValve
    added_main_ids: list[strawberry.ID] = strawberry.field(
        description="The mains of the segment added (none: a junction valved on every side)."
    )


@strawberry.type(description="One page of the affected accounts.", directives=[CUSTOMER_DATA])
class AffectedAccountPage:
    total: int
    items: list[Annotated[Account, strawberry.lazy("schema.accounts.account")] | None]
    next_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(description="One page of the affected customers.", directives=[CUSTOMER_DATA])
class AffectedCustomerPage:
    total: int
    items: list[Annotated[Customer, strawberry.lazy("schema.customers.customer")] | None]
    next_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(
    description="An affected customer on the CRM's register of those to warn first (重点保障用户).",
    directives=[CUSTOMER_DATA],
)
class SensitiveCustomer:
    register_id: strawberry.ID
    category: SensitiveCategory
    note: str | None
    account: Annotated[Account, strawberry.lazy("schema.accounts.account")] | None
    customer: Annotated[Customer, strawberry.lazy("schema.customers.customer")] | None

    @classmethod
    def of(cls, entry: records.SensitiveCustomer, info: Info) -> SensitiveCustomer:
        """Both objects pass the authorization point; a refused one is null (the list is refused
        whole for a role that may not read any customer, so in practice neither is)."""
        (account,) = refs.readable_accounts(info, [entry.account_no])
        (customer,) = refs.readable_customers(info, [entry.customer_no])
        return cls(
            register_id=strawberry.ID(entry.register_id),
            category=entry.category,
            note=entry.note,
            account=account,
            customer=customer,
        )


@strawberry.type(
    description="The valve-isolation trace (关阀分析) for one main: the valve segment holding it, the "
    "valves to close, where inoperable valves enlarge the area, what loses water downstream, and who is "
    "affected.",
    directives=[NETWORK_DATA],
)
class IsolationPlan:
    plan: strawberry.Private[isolation.IsolationPlan]
    main_id: strawberry.ID = strawberry.field(description="The main asked about (asset number).")
    segment_main_ids: list[strawberry.ID] = strawberry.field(
        description="The valve segment holding the main: mains with no valve between them."
    )
    isolated_main_ids: list[strawberry.ID] = strawberry.field(
        description="The area the valves shut off: the segment plus what `growth` adds."
    )
    enlarged: bool = strawberry.field(
        description="True when an inoperable boundary valve made the area larger."
    )
    growth: list[SegmentGrowth] = strawberry.field(
        description="Each inoperable valve crossed and the segment it added, in order."
    )
    valves_to_close: list[PlanValve] = strawberry.field(
        description="Open, operable valves on the area's edge: the ones to close."
    )
    already_closed_valves: list[PlanValve] = strawberry.field(
        description="Valves on the area's edge that stand closed already."
    )
    sealed: bool = strawberry.field(
        description="False when a source feeds the area directly: closing valves cannot dry it."
    )
    cut_off_main_ids: list[strawberry.ID] = strawberry.field(
        description="Mains beyond the area that no source reaches once it is shut (the downstream effect)."
    )
    out_main_ids: list[strawberry.ID] = strawberry.field(
        description="Every main left without water: the area and what it cuts off."
    )
    service_connection_count: int = strawberry.field(
        description="Service connections on the mains left without water."
    )
    account_count: int = strawberry.field(
        description="Accounts (户) whose service connection taps a main left without water."
    )

    @classmethod
    def of(cls, plan: isolation.IsolationPlan) -> IsolationPlan:
        trace = plan.trace

        def ids(main_ids: tuple[int, ...]) -> list[strawberry.ID]:
            return [strawberry.ID(n) for n in plan.asset_nos(main_ids)]

        return cls(
            plan=plan,
            main_id=strawberry.ID(plan.main.segment_id),
            segment_main_ids=ids(trace.segment_main_ids),
            isolated_main_ids=ids(trace.isolated_main_ids),
            enlarged=trace.enlarged,
            growth=[
                SegmentGrowth(valve=PlanValve.of(g.valve, plan), added_main_ids=ids(g.added_main_ids))
                for g in trace.growth
            ],
            valves_to_close=[PlanValve.of(v, plan) for v in trace.valves_to_close],
            already_closed_valves=[PlanValve.of(v, plan) for v in trace.already_closed],
            sealed=trace.sealed,
            cut_off_main_ids=ids(trace.cut_off_main_ids),
            out_main_ids=ids(trace.out_main_ids),
            service_connection_count=len(plan.accounts),
            account_count=len(plan.accounts),
        )

    @strawberry.field(description="Distinct customers holding the affected accounts (from billing).")
    async def customer_count(self, info: Info) -> int | None:
        return await isolation.customer_count(info.context, self.plan)

    @strawberry.field(description="Estimated households: one per residential affected account.")
    async def estimated_households(self, info: Info) -> int | None:
        return await isolation.estimated_households(info.context, self.plan)

    @strawberry.field(
        description="How many affected accounts are on the register of customers to warn first."
    )
    async def sensitive_customer_count(self, info: Info) -> int | None:
        return await isolation.sensitive_count(info.context, self.plan)

    @strawberry.field(
        description="The affected accounts, a page at a time (`first` 1-200): for roles that may "
        "read any customer.",
        directives=[CUSTOMER_DATA],
    )
    def accounts(self, info: Info, first: int = 50, after: str | None = None) -> AffectedAccountPage | None:
        page, following = isolation.affected_accounts(info.context, self.plan, first, after)
        return AffectedAccountPage(
            total=len(self.plan.accounts), items=refs.readable_accounts(info, page), next_cursor=following
        )

    @strawberry.field(
        description="The affected customers, a page at a time (`first` 1-200): for roles that may "
        "read any customer.",
        directives=[CUSTOMER_DATA],
    )
    async def customers(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> AffectedCustomerPage | None:
        found = await isolation.affected_customers(info.context, self.plan, first, after)
        return AffectedCustomerPage(
            total=found.total,
            items=refs.readable_customers(info, found.customer_nos),
            next_cursor=found.next_cursor,
        )

    @strawberry.field(
        description="Affected customers on the CRM's register (hospitals, dialysis, schools, 孤老, 低保): "
        "roles that may read any customer.",
        directives=[CUSTOMER_DATA],
    )
    async def sensitive_customers(self, info: Info) -> list[SensitiveCustomer] | None:
        found = await isolation.sensitive_customers(info.context, self.plan)
        return [SensitiveCustomer.of(e, info) for e in found]
