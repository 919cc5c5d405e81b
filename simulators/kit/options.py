"""How a simulator process was started: which service, where, which world, which faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from simulators.kit.faults import FaultConfig
from simulators.world import DEFAULT_CUSTOMERS, DEFAULT_SEED
from simulators.world.network import DEFAULT_INOPERABLE_SHARE

SERVICES = ("billing", "crm", "gis", "workorders")
DEFAULT_PORTS = {"billing": 8101, "crm": 8102, "gis": 8103, "workorders": 8104}


@dataclass
class SimOptions:
    service: str
    host: str = "127.0.0.1"
    port: int = 0
    seed: int = DEFAULT_SEED
    customers: int = DEFAULT_CUSTOMERS
    as_of: date | None = None
    # The share of valves that cannot be turned (the world's network; field surveys find ~10%).
    inoperable_share: float = DEFAULT_INOPERABLE_SHARE
    faults: FaultConfig = field(default_factory=FaultConfig)
    # Billing: late fees accrue daily from the due date on the unpaid amount, capped per bill.
    late_fee_daily_rate: float = 0.003
    late_fee_cap_ratio: float = 1.0
    # Work orders: where status changes are POSTed (Standard Webhooks, signed with these `whsec_`
    # secrets), and how often the field crew moves an open order on (0 = never). `/_sim/webhooks` and
    # `/_sim/crew` change them at run time.
    webhook_url: str | None = None
    webhook_secrets: tuple[str, ...] = ()
    crew_interval_ms: int = 0
