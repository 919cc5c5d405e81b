"""The surge benchmark's call mix: what a contact centre sends, who calls, and when.

Four kinds of request, each with its GraphQL document and the billing (SOAP) calls it costs on
its own (`bench/surge.py` measures them again at each mode's start: `billing_calls_per_request`):

| kind | operation | class | billing calls |
|---|---|---|---|
| `screen_pop` | `ScreenPop` (gql/screen_pop.graphql) | critical | 1 `GetAccounts` (per 50 accounts) |
| `history` | `CustomerHistory`: interactions + payments | sheddable | 1 `GetPayments` per account (~1.1) |
| `bills` | `AccountBills`: one account's bills | sheddable | `GetAccounts` + `GetBills` = 2 |
| `ticket` | `CreateTicket` (gql/create_ticket.graphql): LEAK by 户号, BURST_MAIN at a point | critical | 0 |

At the default normal rates (3 pops, 1.5 histories, 1.5 bills, 0.3 tickets a second) that is about
8 billing calls a second, two of billing's 20 connections busy; ten times that (~80/s) is well past
the ~56 calls a second billing completes with its pool full (`bench/sim_pool.py`).

Arrivals are open-loop: each kind is a Poisson process at its phase's rate, so a surge keeps
arriving however slowly the BFF answers (closed loops would throttle themselves). The schedule
is drawn from a seeded RNG before a mode starts, so both modes see the very same calls.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulators.world import World

ROOT = Path(__file__).resolve().parents[1]
SCREEN_POP = (ROOT / "gql" / "screen_pop.graphql").read_text(encoding="utf-8")
HISTORY = """query CustomerHistory($id: ID!) {
  customer(id: $id) {
    id
    interactions(last: 20) { id at channel type outcome summary agentId }
    accounts { accountNo payments(last: 12) { serial paidAt amount { fen yuan } method billNo } }
  }
}"""
BILLS = """query AccountBills($accountNo: String!) {
  account(accountNo: $accountNo) {
    accountNo
    arrears { fen yuan }
    bills(last: 12) {
      billNo period usageM3 status dueOn total { fen yuan } outstanding { fen yuan } paid { fen yuan }
    }
  }
}"""
# The workbench's own document once it is in gql/; until then the smallest one that files a ticket.
_TICKET_FILE = ROOT / "gql" / "create_ticket.graphql"
CREATE_TICKET = (
    _TICKET_FILE.read_text(encoding="utf-8")
    if _TICKET_FILE.exists()
    else """mutation CreateTicket($input: CreateTicketInput!, $key: String!) {
  createTicket(input: $input, idempotencyKey: $key) { id status }
}"""
)
_KEY_VARIABLE = "idempotencyKey" if "$idempotencyKey" in CREATE_TICKET else "key"


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of request: its document, operation name, class and the root field that must be set."""

    name: str
    operation: str
    op_class: str
    root: str
    query: str


KINDS = {
    k.name: k
    for k in (
        Kind("screen_pop", "ScreenPop", "critical", "customerByPhone", SCREEN_POP),
        Kind("history", "CustomerHistory", "sheddable", "customer", HISTORY),
        Kind("bills", "AccountBills", "sheddable", "account", BILLS),
        Kind("ticket", "CreateTicket", "critical", "createTicket", CREATE_TICKET),
    )
}
PHASES = ("normal", "surge", "recovery")


@dataclass(frozen=True, slots=True)
class Caller:
    """A customer from the seeded world: the number they call from and what an agent looks up."""

    phone: str
    customer_id: str
    account_nos: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Arrival:
    at_s: float  # offset from the start of the measured run
    phase: str
    kind: Kind
    caller: Caller
    repeat: bool  # a caller who already called in this run (people call back during an outage)


def callers(world: World) -> list[Caller]:
    """Every customer with a mobile and an account, in the world's order."""
    return [
        Caller(
            c.mobile, f"KH{c.customer_no:08d}", tuple(a.account_no for a in world.accounts_of[c.customer_no])
        )
        for c in world.customers
        if c.mobile and world.accounts_of.get(c.customer_no)
    ]


def burst_area(world: World) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of the active emergency outage: where BURST_MAIN is reported."""
    active = [o for o in world.outages if o.kind == 2 and o.status == 1] or list(world.outages)
    lons, lats = zip(*active[0].ring, strict=True)
    return min(lons), min(lats), max(lons), max(lats)


def schedule(
    rates: dict[str, float],
    phases: Sequence[tuple[str, float, float]],
    pool: Sequence[Caller],
    repeat_share: float,
    seed: int,
) -> list[Arrival]:
    """Poisson arrivals per kind at `rate x factor` for each (phase, seconds, factor), merged in time.

    Callers are fresh (each customer once, in a shuffled order) except during the surge, where
    `repeat_share` of calls come from someone who already called.
    """
    rng = random.Random(seed)
    fresh = list(pool)
    rng.shuffle(fresh)
    timed: list[tuple[float, str, Kind]] = []
    start = 0.0
    for phase, seconds, factor in phases:
        for name, rate in rates.items():
            t = start
            while rate > 0 and factor > 0:
                t += rng.expovariate(rate * factor)
                if t >= start + seconds:
                    break
                timed.append((t, phase, KINDS[name]))
        start += seconds
    timed.sort(key=lambda item: item[0])
    arrivals: list[Arrival] = []
    called: list[Caller] = []
    for t, phase, kind in timed:
        repeat = phase == "surge" and bool(called) and rng.random() < repeat_share
        caller = rng.choice(called) if repeat else fresh[len(called) % len(fresh)]
        if not repeat:
            called.append(caller)
        arrivals.append(Arrival(t, phase, kind, caller, repeat))
    return arrivals


def variables(arrival: Arrival, serial: int, area: tuple[float, float, float, float]) -> dict[str, Any]:
    """The request's variables; tickets alternate LEAK at an account and BURST_MAIN at a point."""
    caller, kind = arrival.caller, arrival.kind.name
    if kind == "screen_pop":
        return {"phone": caller.phone}
    if kind == "history":
        return {"id": caller.customer_id}
    account = caller.account_nos[serial % len(caller.account_nos)]
    if kind == "bills":
        return {"accountNo": account}
    key = f"surge-{serial}-{arrival.at_s:.6f}"
    ticket: dict[str, Any]
    if serial % 2:
        text = "路面爆管,大量冒水,附近停水"
        rng = random.Random(serial)
        lon, lat = rng.uniform(area[0], area[2]), rng.uniform(area[1], area[3])
        ticket = {"category": "BURST_MAIN", "description": text, "lat": lat, "lon": lon}
    else:
        ticket = {"category": "LEAK", "description": "表前管道漏水,请派人查看", "accountNo": account}
    return {"input": ticket, _KEY_VARIABLE: key}
