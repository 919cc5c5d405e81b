"""The in-memory back offices (`tests/fakes/`) holding one customer from the seeded world: enough for
the policy tests. Every call is logged, so a test can show that a refused field never reached a backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain import enums, records
from domain.money import Money
from domain.ports import Backends
from infra.tracing import BackendTracing
from tests.fakes.billing import InMemoryBilling
from tests.fakes.calls import CallLog
from tests.fakes.crm import InMemoryCrm
from tests.fakes.gis import InMemoryGis
from tests.fakes.workorders import InMemoryWorkOrders
from tests.support.world import seeded_world

WORLD_CUSTOMER = next(
    c
    for c in seeded_world().customers
    if c.kind == "person" and c.landline and c.mobile and c.id_card and len(c.name) == 3
)
WORLD_ACCOUNT = seeded_world().accounts_of[WORLD_CUSTOMER.customer_no][0]

CUSTOMER_NO = f"KH{WORLD_CUSTOMER.customer_no:08d}"
ACCOUNT_NO = WORLD_ACCOUNT.account_no
TICKET_ID = "GD2026112600001"
NAME = WORLD_CUSTOMER.name
ID_CARD = str(WORLD_CUSTOMER.id_card)
MOBILE = str(WORLD_CUSTOMER.mobile)
LANDLINE = str(WORLD_CUSTOMER.landline).replace("-", "")  # the BFF's national digits
ADDRESS = WORLD_ACCOUNT.premises.address
BANK_ACCOUNT = "6222021234567890123"
NOW = datetime(2026, 11, 26, 10, 15, tzinfo=UTC)

CUSTOMER = records.Customer(
    customer_no=CUSTOMER_NO,
    crm_id="C1",
    name=NAME,
    kind=enums.CustomerKind.INDIVIDUAL,
    mobiles=(MOBILE,),
    landlines=(LANDLINE,),
    account_nos=(ACCOUNT_NO,),
    vip=False,
    tags=(),
    since=None,
)
ACCOUNT = records.Account(
    account_no=ACCOUNT_NO,
    customer_no=CUSTOMER_NO,
    holder_name=NAME,
    address=ADDRESS,
    status=enums.AccountStatus.ACTIVE,
    use_type=enums.WaterUseType.RESIDENTIAL,
    pay_method=enums.PaymentMethod.DIRECT_DEBIT,
    mobile=MOBILE,
    landline=LANDLINE,
    id_card=ID_CARD,
    balance=Money(0),
    arrears=Money(0),
    late_fee=Money(0),
    current_tier=1,
    year_to_date_m3=10,
    opened_on=None,
    meter_no=None,
    direct_debit=True,
)
MANDATE = records.DirectDebit(
    bank_code="102",
    bank_name="工商银行",
    bank_account=BANK_ACCOUNT,
    holder=NAME,
    status=enums.DirectDebitStatus.ACTIVE,
    signed_on=None,
)
TICKET = records.Ticket(
    ticket_id=TICKET_ID,
    customer_no=CUSTOMER_NO,
    account_no=ACCOUNT_NO,
    category=enums.TicketCategory.LEAK,
    priority=enums.TicketPriority.NORMAL,
    status=enums.TicketStatus.ACCEPTED,
    description="表前阀漏水",
    address=ADDRESS,
    location=None,
    grid_code=None,
    assignee=None,
    client_ref=None,
    created_at=NOW,
    updated_at=NOW,
    history=(),
)


@dataclass
class FakeBackends:
    """The four in-memory back offices holding the one customer, sharing one call log."""

    calls: CallLog = field(default_factory=CallLog)

    @property
    def log(self) -> list[str]:
        """Every backend call so far, by method name."""
        return self.calls.names

    def backends(self) -> Backends:
        return Backends(
            billing=InMemoryBilling(
                accounts_by_no={ACCOUNT_NO: ACCOUNT}, mandates={ACCOUNT_NO: MANDATE}, log=self.calls
            ),
            crm=InMemoryCrm(customers={CUSTOMER_NO: CUSTOMER}, log=self.calls),
            workorders=InMemoryWorkOrders(filed=[TICKET], log=self.calls),
            gis=InMemoryGis(log=self.calls),
            tracing=BackendTracing(),  # off
        )
