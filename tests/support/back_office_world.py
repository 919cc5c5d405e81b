"""A back-office world drawn by Hypothesis, built as fresh in-memory fakes (`tests/fakes/`) with faults.

For tests that run one operation twice on the same data and compare the answers
(`tests/gateway/test_compiled_differential.py`): `worlds()` draws the records (every optional field
null or set, lists empty or several long), who is asking (supervisor, agent on or off the caller's
call, the softphone, the IVR, nobody), the agent's call, and faults per port method: the back-office
errors the services map to coded GraphQL errors, an unexpected exception, and a call slower than the
request's deadline (the answer is partial; `tests.support.faulty_ports`). `build(world)` makes a new
set of fakes, stores and registries each time, so a mutation run on one build is never seen by the
next.

The network is `tests.support.tiny_network` (five mains, three valves), so outages have a reach
to trace; the graph and the IVR's outage index are built (or not: the polygon fallback, an index not
built yet) before the faults are armed, as the app builds them at start-up.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any, cast

import orjson
from hypothesis import strategies as st

from domain import enums
from domain.geo import GeoPoint
from domain.money import Money
from domain.ports import Backends, BillingPort, CrmPort, GisPort, WorkOrdersPort
from domain.records import (
    Account,
    Bill,
    Customer,
    DirectDebit,
    FieldWorker,
    Grid,
    Interaction,
    Meter,
    MeterRead,
    Outage,
    PipeSegment,
    Ticket,
    TicketEvent,
    TierLine,
)
from domain.timestamps import SHANGHAI
from gateway.auth.roles import load_roles
from infra.cache.store import MemoryStore
from infra.idempotency_store import MemoryIdempotencyStore
from infra.pubsub import MemoryBus
from infra.sealed import Sealer
from services.access import NETWORK_READ, Access, Principal
from services.board import BoardSources
from services.cached_reads import CachedReads
from services.calls import CallRegistry
from services.context import RequestContext, build_context
from services.idempotency import Idempotency
from services.identify_store import Identifications
from services.isolation import graph_of
from services.live import Live
from services.outage_impact import ImpactIndexer, indexer_of
from services.pop_store import PopStore
from tests.fakes.billing import InMemoryBilling
from tests.fakes.crm import InMemoryCrm
from tests.fakes.gis import InMemoryGis
from tests.fakes.workorders import InMemoryWorkOrders
from tests.support import tiny_network as net
from tests.support.faulty_ports import DEADLINE_S, SLOW, Faulty

EPOCH = 1_795_000_000.0  # the frozen `time.time()` of a run (2026-11-18)
AGENT_ID, CALL_ID = "A1001", "CALL-0001"
PHONES = ("13800138001", "13800138002", "057187650003")
CUSTOMER_NOS = ("KH00000001", "KH00000002", "KH00000003")
ACCOUNT_NOS = (*sorted(net.CONNECTIONS), "0010000009")  # the last taps no main
# Agents three times over: most operations answer an agent only on the right call.
WHO = ("supervisor", "agent", "agent", "agent", "agent_elsewhere", "softphone", "ivr", "nobody")
SEAL_KEY = bytes(range(32))
TIMES = (datetime(2026, 11, 26, 9, 30, tzinfo=SHANGHAI), datetime(2026, 10, 1, 0, 0, tzinfo=UTC))
TEXTS = ("表前阀漏水", "call me on 13800138001", "")
ADDRESSES = ("江城市临江区新华路12号", "江滨大道8号3单元")

PORT_METHODS = {
    name: sorted(m for m, v in vars(port).items() if inspect.iscoroutinefunction(v))
    for name, port in (
        ("billing", BillingPort),
        ("crm", CrmPort),
        ("gis", GisPort),
        ("workorders", WorkOrdersPort),
    )
}


@dataclass(frozen=True)
class CallSpec:
    """The agent's call: who is calling, what it has matched, and the identification so far."""

    caller: str | None
    answered: bool
    customers: tuple[str, ...]
    accounts: tuple[str, ...]
    tickets: tuple[str, ...]
    identified: str | None
    attempts: int
    verified: str | None
    searches: int


@dataclass(frozen=True)
class World:
    customers: tuple[Customer, ...]
    accounts: tuple[Account, ...]
    bills: dict[str, list[Bill]]
    meters: dict[str, Meter]
    mandates: dict[str, DirectDebit]
    histories: dict[str, list[Interaction]]
    tickets: tuple[Ticket, ...]
    workers: dict[str, FieldWorker]
    outages: tuple[Outage, ...]
    segments: tuple[PipeSegment, ...]
    who: str
    call: CallSpec | None
    faults: dict[str, str]  # "billing.accounts" -> a FAULTS key or SLOW
    graph_built: bool
    index_built: bool
    redact_at_write: bool

    @property
    def deadline_s(self) -> float | None:
        return DEADLINE_S if SLOW in self.faults.values() else None


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


_money = st.sampled_from((0, 1250, -500, 123_456)).map(Money)
_when = st.sampled_from(TIMES)
_day = st.sampled_from((date(2026, 11, 1), date(2025, 1, 31)))
_text = st.sampled_from(TEXTS)


@st.composite
def _customer(draw: st.DrawFn, customer_no: str) -> Customer:
    return Customer(
        customer_no=customer_no,
        crm_id=draw(st.sampled_from((f"C{customer_no[-1]}", ""))),  # "": pieced together from billing
        name=draw(st.sampled_from(("张三丰", "李四"))),
        kind=draw(st.sampled_from(enums.CustomerKind)),
        mobiles=tuple(draw(st.lists(st.sampled_from(PHONES[:2]), max_size=2, unique=True))),
        landlines=tuple(draw(st.lists(st.sampled_from(PHONES[2:]), max_size=1))),
        account_nos=tuple(draw(st.lists(st.sampled_from(ACCOUNT_NOS), max_size=3, unique=True))),
        vip=draw(st.booleans()),
        tags=tuple(draw(st.lists(st.sampled_from(("孤老", "VIP", "低保")), max_size=2, unique=True))),
        since=draw(_opt(_when)),
    )


@st.composite
def _account(draw: st.DrawFn, account_no: str, customer_no: str) -> Account:
    return Account(
        account_no=account_no,
        customer_no=customer_no,
        holder_name=draw(st.sampled_from(("张三丰", "王五"))),
        address=draw(_opt(st.sampled_from(ADDRESSES))),
        status=draw(st.sampled_from(enums.AccountStatus)),
        use_type=draw(st.sampled_from(enums.WaterUseType)),
        pay_method=draw(st.sampled_from(enums.PaymentMethod)),
        mobile=draw(_opt(st.sampled_from(PHONES[:2]))),
        landline=draw(_opt(st.just(PHONES[2]))),
        id_card=draw(_opt(st.sampled_from(("33010219800101123X", "330102198001011234")))),
        balance=draw(_money),
        arrears=draw(_money),
        late_fee=draw(_money),
        current_tier=draw(_opt(st.integers(1, 3))),
        year_to_date_m3=draw(_opt(st.integers(0, 400))),
        opened_on=draw(_opt(_day)),
        meter_no=draw(_opt(st.just("M0001"))),
        direct_debit=draw(st.booleans()),
    )


@st.composite
def _bill(draw: st.DrawFn, n: int) -> Bill:
    tier = st.builds(TierLine, st.integers(1, 3), st.integers(0, 30), _money, _money)
    return Bill(
        bill_no=f"B{n:06d}",
        period=draw(st.sampled_from(("2026-10", "2026-09"))),
        read_at=draw(_opt(_when)),
        usage_m3=draw(st.integers(0, 40)),
        water=draw(_money),
        sewage=draw(_money),
        resource=draw(_money),
        total=draw(_money),
        paid=draw(_money),
        outstanding=draw(_money),
        status=draw(st.sampled_from(enums.BillStatus)),
        issued_on=draw(_opt(_day)),
        due_on=draw(_opt(_day)),
        paid_at=draw(_opt(_when)),
        tiers=tuple(draw(st.lists(tier, max_size=2))),
    )


_read = st.builds(
    MeterRead,
    _opt(_when),
    _opt(st.integers(0, 999)),
    st.integers(0, 999),
    st.integers(0, 40),
    st.sampled_from(enums.MeterReadStatus),
    _opt(st.just("抄表员甲")),
)
_meter = st.builds(
    Meter, st.just("M0001"), _opt(st.just(20)), _opt(_day), st.lists(_read, max_size=3).map(tuple)
)
_mandate = st.builds(
    DirectDebit,
    st.just("102"),
    st.just("工商银行"),
    st.just("6222021234567890123"),
    st.just("张三丰"),
    st.sampled_from(enums.DirectDebitStatus),
    _opt(_day),
)
_worker = st.builds(
    FieldWorker,
    st.sampled_from(("W1", "W2")),
    st.just("赵师傅"),
    _opt(st.just("13900000001")),
    _opt(st.just("WG-01")),
)


@st.composite
def _interaction(draw: st.DrawFn, n: int) -> Interaction:
    return Interaction(
        interaction_id=f"I{n:08d}",
        at=draw(_when),
        channel=draw(st.sampled_from(enums.InteractionChannel)),
        kind=draw(st.sampled_from(enums.InteractionType)),
        outcome=draw(st.sampled_from(enums.InteractionOutcome)),
        agent_id=draw(_opt(st.just("A1002"))),
        summary=draw(_text),
        duration_s=draw(st.integers(0, 600)),
        account_no=draw(_opt(st.sampled_from(ACCOUNT_NOS))),
    )


@st.composite
def _ticket(draw: st.DrawFn, n: int) -> Ticket:
    status = draw(st.sampled_from(enums.TicketStatus))
    created = draw(_when)
    return Ticket(
        ticket_id=f"GD2026112600{n:03d}",
        customer_no=draw(_opt(st.sampled_from(CUSTOMER_NOS))),
        account_no=draw(_opt(st.sampled_from(ACCOUNT_NOS))),
        category=draw(st.sampled_from(enums.TicketCategory)),
        priority=draw(st.sampled_from(enums.TicketPriority)),
        status=status,
        description=draw(_text),
        address=draw(_opt(st.sampled_from(ADDRESSES))),
        location=draw(_opt(st.just(GeoPoint(120.1, 30.27)))),
        grid_code=draw(_opt(st.just("WG-01"))),
        assignee=draw(_opt(_worker)),
        client_ref=draw(_opt(st.just("ref-1"))),
        created_at=created,
        updated_at=created,
        history=tuple(
            draw(
                st.lists(
                    st.builds(TicketEvent, st.just(status), _when, _opt(st.just("op")), _opt(_text)),
                    max_size=2,
                )
            )
        ),
    )


_ring = (GeoPoint(120.0, 30.2), GeoPoint(120.2, 30.2), GeoPoint(120.2, 30.3), GeoPoint(120.0, 30.2))
_far_ring = (GeoPoint(121.0, 31.0), GeoPoint(121.1, 31.0), GeoPoint(121.1, 31.1), GeoPoint(121.0, 31.0))


@st.composite
def _outage(draw: st.DrawFn, n: int) -> Outage:
    return Outage(
        outage_id=f"TS{n:04d}",
        kind=draw(st.sampled_from(enums.OutageKind)),
        status=draw(
            st.sampled_from(
                (enums.OutageStatus.ACTIVE, enums.OutageStatus.ACTIVE, enums.OutageStatus.RESTORED)
            )
        ),
        reason=draw(_opt(st.just("爆管抢修"))),
        starts_at=draw(_opt(_when)),
        estimated_restore_at=draw(_opt(_when)),
        main_object_ids=tuple(draw(st.lists(st.sampled_from((10, 20, 30, 40, 99)), max_size=2, unique=True))),
        area=(draw(st.sampled_from((_ring, _far_ring))),),
        affected_accounts=draw(_opt(st.integers(0, 40))),
        valve_object_ids=tuple(draw(st.lists(st.sampled_from((1, 2, 3, 9)), max_size=2, unique=True))),
    )


@st.composite
def _segment(draw: st.DrawFn, main: Any) -> PipeSegment:
    return PipeSegment(
        segment_id=main.segment_id,
        object_id=main.object_id,
        road_name=draw(_opt(st.just("江滨大道"))),
        material=draw(st.sampled_from(enums.PipeMaterial)),
        diameter_mm=draw(_opt(st.just(200))),
        installed_on=draw(_opt(_day)),
        pressure_zone=draw(_opt(st.just("PZ1"))),
        dma=draw(_opt(st.just("DMA-3"))),
        status=draw(st.sampled_from(enums.PipeStatus)),
        length_m=draw(_opt(st.just(120.5))),
        path=(GeoPoint(120.1, 30.27 + main.object_id / 100_000), GeoPoint(120.101, 30.27)),
    )


def _indexed(make: Callable[[int], st.SearchStrategy[Any]], max_size: int) -> st.SearchStrategy[list[Any]]:
    return st.integers(0, max_size).flatmap(lambda k: st.tuples(*(make(i + 1) for i in range(k))).map(list))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    customers = draw(st.lists(st.sampled_from(CUSTOMER_NOS), min_size=0, max_size=3, unique=True))
    drawn = tuple(draw(_customer(no)) for no in customers)
    owners = {a: c.customer_no for c in drawn for a in c.account_nos}
    owners.update(
        {
            a: draw(st.sampled_from(CUSTOMER_NOS))
            for a in draw(st.lists(st.sampled_from(ACCOUNT_NOS), max_size=1))
        }
    )
    accounts = tuple(
        draw(_account(no, owner)) for no, owner in sorted(owners.items()) if draw(st.integers(0, 5)) > 0
    )
    known = [a.account_no for a in accounts]
    histories = {c.crm_id: draw(_indexed(_interaction, 3)) for c in drawn if c.crm_id}
    call = None
    if draw(st.integers(0, 3)) > 0:  # mostly on a call that matched some of this world's customers
        matched = st.lists(st.sampled_from(CUSTOMER_NOS), max_size=2, unique=True).map(tuple)
        if drawn:
            matched = st.sampled_from([(c.customer_no,) for c in drawn]) | matched
        bound = draw(matched)
        accounts_bound = [a for c in drawn if c.customer_no in bound for a in c.account_nos]
        phones_bound = [p for c in drawn if c.customer_no in bound for p in (*c.mobiles, *c.landlines)]
        call = CallSpec(
            caller=draw(st.sampled_from(phones_bound) if phones_bound else _opt(st.sampled_from(PHONES))),
            answered=draw(st.booleans()),
            customers=bound,
            accounts=tuple(
                dict.fromkeys(accounts_bound + draw(st.lists(st.sampled_from(ACCOUNT_NOS), max_size=1)))
            ),
            tickets=tuple(
                draw(st.lists(st.sampled_from(("GD2026112600001", "GD2026112600002")), max_size=1))
            ),
            identified=draw(st.sampled_from((None, None, None, CUSTOMER_NOS[0]))),
            attempts=draw(st.sampled_from((0, 0, 1, 3))),
            verified=draw(_opt(st.sampled_from(known or ACCOUNT_NOS))),
            searches=draw(st.sampled_from((0, 0, 0, 10))),
        )
    return World(
        customers=drawn,
        accounts=accounts,
        bills={no: draw(_indexed(_bill, 2)) for no in known},
        meters={no: draw(_meter) for no in known if draw(st.booleans())},
        mandates={no: draw(_mandate) for no in known if draw(st.booleans())},
        histories=histories,
        tickets=tuple(draw(_indexed(_ticket, 3))),
        workers={"WG-01": draw(_worker)} if draw(st.booleans()) else {},
        outages=tuple(draw(_indexed(_outage, 2))),
        segments=tuple(draw(_segment(m)) for m in net.MAINS if draw(st.booleans())),
        who=draw(st.sampled_from(WHO)),
        call=call,
        faults={},
        graph_built=draw(st.booleans()),
        index_built=draw(st.booleans()),
        redact_at_write=draw(st.booleans()),
    )


class DeterministicSealer(Sealer):
    """The same sealed text for the same input (a nonce from its hash): two builds seal alike."""

    def seal(self, cache_key: str, payload: object) -> str:
        nonce = hashlib.sha256(cache_key.encode() + orjson.dumps(payload)).digest()[:12]
        sealed = self._aead.encrypt(nonce, orjson.dumps(payload), cache_key.encode())
        return "v1:" + base64.b64encode(nonce + sealed).decode("ascii")


SEALER = DeterministicSealer(SEAL_KEY)


def principal(who: str) -> Principal | None:
    roles = load_roles()
    if who == "nobody":
        return None
    if who == "ivr":
        return Principal("ivr-1", "ivr", "ivr", frozenset({NETWORK_READ}))
    role = roles["supervisor" if who == "supervisor" else "softphone" if who == "softphone" else "agent"]
    agent = None if who == "supervisor" else ("A2002" if who == "agent_elsewhere" else AGENT_ID)
    return Principal(f"sub-{who}", "workbench", role.name, frozenset(role.scopes), agent_id=agent)


@dataclass
class Built:
    """One fresh set of back offices, stores and registries for a world."""

    world: World
    backends: Backends
    ports: list[Faulty]
    calls: CallRegistry
    live: Live
    idempotency: Idempotency
    indexer: ImpactIndexer
    board: BoardSources = field(init=False)

    def __post_init__(self) -> None:
        self.board = BoardSources(self.calls)

    def context(self) -> RequestContext:
        """As `GraphQLView.get_context` builds it: the principal, their current call, the app's state."""
        who = principal(self.world.who)
        call = self.calls.current(who.agent_id) if who is not None else None
        state = SimpleNamespace(
            idempotency=self.idempotency,
            redact_free_text_at_write=self.world.redact_at_write,
            board=self.board,
            ticket_states=None,
        )
        reads = CachedReads(self.backends, cache=None, clock=lambda: EPOCH)
        return build_context(
            self.backends, SimpleNamespace(state=state), None, Access(who, call), reads=reads, live=self.live
        )

    @property
    def called(self) -> list[str]:
        """The port methods this build's armed ports were asked, in order."""
        return [name for port in self.ports for name in port.called]

    def arm(self) -> None:
        for port in self.ports:
            port.armed = True

    async def aclose(self) -> None:
        await self.indexer.aclose()


async def build(world: World) -> Built:
    """Fresh fakes holding the world; the graph and the outage index built first if the world says so."""
    faults = world.faults
    billing = InMemoryBilling(
        accounts_by_no={a.account_no: a for a in world.accounts},
        bills_by_account={k: list(v) for k, v in world.bills.items()},
        meters=dict(world.meters),
        mandates=dict(world.mandates),
    )
    crm = InMemoryCrm(
        customers={c.customer_no: c for c in world.customers},
        histories={k: list(v) for k, v in world.histories.items()},
    )
    grid = Grid("WG-01", "江滨网格", world.workers.get("WG-01"))
    gis = InMemoryGis(
        connections=dict(net.CONNECTIONS),
        mains=list(world.segments),
        notices=list(world.outages),
        grid_areas=[(grid, (_ring,))],
        network=list(net.MAINS),
        valve_list=list(net.VALVES),
        sources=list(net.SOURCES),
    )
    workorders = InMemoryWorkOrders(filed=list(world.tickets), workers=dict(world.workers))
    ports = [
        Faulty(n, p, faults)
        for n, p in (("billing", billing), ("crm", crm), ("gis", gis), ("workorders", workorders))
    ]
    backends = Backends(
        billing=cast(BillingPort, ports[0]),
        crm=cast(CrmPort, ports[1]),
        gis=cast(GisPort, ports[2]),
        workorders=cast(WorkOrdersPort, ports[3]),
    )
    calls = CallRegistry(clock=lambda: 1_000.0)
    identifications = Identifications(MemoryStore(), 3, clock=lambda: EPOCH)
    live = Live(
        MemoryBus(),
        calls,
        PopStore(MemoryStore(), SEALER, 60.0, clock=lambda: EPOCH),
        sealer=SEALER,
        identifications=identifications,
    )
    if (spec := world.call) is not None:
        call = calls.ringing(AGENT_ID, CALL_ID, spec.caller)
        if spec.answered:
            call = calls.answered(AGENT_ID, CALL_ID, spec.caller)
        call.customers.update(spec.customers)
        call.accounts.update(spec.accounts)
        call.tickets.update(spec.tickets)
        call.identified = spec.identified
        state = {"attempts": spec.attempts, "verified": spec.verified, "searches": spec.searches}
        await identifications.save(CALL_ID, state)
    indexer = indexer_of(backends)
    indexer.interval_s = 3_600.0
    if world.graph_built:
        await graph_of(backends.gis)
    if world.index_built:
        await indexer.refresh()
    idempotency = Idempotency(MemoryIdempotencyStore(clock=lambda: EPOCH))
    built = Built(world, backends, ports, calls, live, idempotency, indexer)
    built.arm()
    return built


def sealed_candidate(account_no: str) -> str:
    """A candidate id as `identificationCandidates` issues it on the agent's call."""
    return SEALER.seal(f"identify:{CALL_ID}", account_no)
