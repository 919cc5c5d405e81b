"""Customers and their accounts: who lives where, which phones they answer."""

from __future__ import annotations

import random
from datetime import date, timedelta

from faker import Faker

from simulators.world import geography, names
from simulators.world.model import Account, Compound, Customer, Grid, Premises, Road
from simulators.world.network import Network, offset

USE_TYPES = {"01": "居民生活用水", "02": "行政事业用水", "03": "经营服务用水", "04": "特种行业用水"}
ACCOUNT_STATUS = {"1": "正常", "2": "暂停用水", "3": "已销户", "4": "欠费催缴"}
PAY_METHODS = {"1": "柜台坐收", "2": "银行代扣", "3": "上门走收", "4": "网上缴费", "5": "预存抵扣"}
# Codes that turn up in old records but that no code table explains: the BFF must cope.
ROGUE_USE_TYPE = "05"
ROGUE_STATUS = "7"


def landline(rng: random.Random) -> str:
    return f"{names.AREA_CODE}-{rng.choice('5678')}{rng.randrange(10**7):07d}"


def make_customers(fake: Faker, rng: random.Random, count: int, as_of: date) -> list[Customer]:
    out: list[Customer] = []
    for n in range(1, count + 1):
        since = as_of - timedelta(days=rng.randrange(60, 365 * 25))
        if rng.random() < 0.04:
            out.append(Customer(n, fake.company(), "org", None, fake.phone_number(), landline(rng), since))
            continue
        mobile: str | None = fake.phone_number()
        if out and rng.random() < 0.05:
            # Family or landlord and tenant: the same mobile on two customer records.
            mobile = out[rng.randrange(max(0, len(out) - 30), len(out))].mobile or mobile
        elif rng.random() < 0.02:
            mobile = None
        fixed = landline(rng) if rng.random() < 0.25 or mobile is None else None
        out.append(Customer(n, fake.name(), "person", fake.ssn(), mobile, fixed, since))
    return out


def _accounts_wanted(rng: random.Random, customer: Customer) -> list[str]:
    """Kinds of premises a customer holds: 'flat' or a street use type."""
    if customer.kind == "org":
        return [rng.choice(names.SHOP_KINDS)[1] for _ in range(rng.choice((1, 1, 2)))]
    roll = rng.random()
    extra = 0 if roll < 0.92 else (1 if roll < 0.98 else 2)
    kinds = ["flat"]
    for _ in range(extra):
        kinds.append("flat" if rng.random() < 0.7 else rng.choice(names.SHOP_KINDS)[1])
    return kinds


def make_accounts(
    rng: random.Random,
    customers: list[Customer],
    comps: list[Compound],
    ew: list[Road],
    ns: list[Road],
    net: Network,
    grid_list: list[Grid],
    as_of: date,
) -> list[Account]:
    wanted = [(c, _accounts_wanted(rng, c)) for c in customers]
    n_flats = sum(k == "flat" for _, kinds in wanted for k in kinds)
    n_shops = sum(k != "flat" for _, kinds in wanted for k in kinds)
    flats = geography.residential_premises(rng, comps, n_flats, ew, ns)
    gates = {(c.road.name, c.gate_no) for c in comps}
    shops = geography.street_premises(rng, ew, ns, n_shops, len(flats) + 1, gates)
    out: list[Account] = []
    serial = 10_000_000
    for customer, kinds in wanted:
        for kind in kinds:
            premises = flats.pop() if kind == "flat" else shops.pop()
            use_type = "01" if kind == "flat" else kind
            if rng.random() < 0.001:
                use_type = ROGUE_USE_TYPE
            serial += rng.randint(1, 9)
            out.append(_account(rng, f"{serial:010d}", customer, premises, use_type, net, grid_list, as_of))
    return out


def _account(
    rng: random.Random,
    account_no: str,
    customer: Customer,
    premises: Premises,
    use_type: str,
    net: Network,
    grid_list: list[Grid],
    as_of: date,
) -> Account:
    roll = rng.random()
    status = "1" if roll < 0.90 else "2" if roll < 0.93 else "3" if roll < 0.95 else "4"
    if rng.random() < 0.001:
        status = ROGUE_STATUS
    pay = rng.choices(list(PAY_METHODS), weights=(20, 30, 5, 40, 5))[0]
    # The service pipe leaves the main at the premises' frontage, a few metres into its side.
    front = premises.frontage
    main_id = net.tap(front.road, front.along)
    road_point = net.road_point(front.road, front.along)
    service_point = offset(road_point, front.road.axis, front.side * rng.uniform(6.0, 25.0))
    opened = max(customer.since, as_of - timedelta(days=rng.randrange(30, 365 * 20)))
    residential = use_type == "01"
    return Account(
        account_no=account_no,
        customer_no=customer.customer_no,
        premises=premises,
        use_type=use_type,
        status=status,
        pay_method=pay,
        opened=opened,
        meter_no=f"SB{opened.year % 100:02d}{rng.randrange(10**8):08d}",
        meter_size_mm=rng.choice((15, 15, 20)) if residential else rng.choice((25, 40, 50, 80)),
        direct_debit=pay == "2",
        main_id=main_id,
        service_point=service_point,
        grid_code=geography.grid_of(grid_list, service_point).code,
    )
