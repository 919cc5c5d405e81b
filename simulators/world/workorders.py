"""Historical repair orders: the work-order system's state at start-up."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from simulators.world.model import Account, Grid, Outage, WorkOrderSeed

SHANGHAI = timezone(timedelta(hours=8))

# Status codes as the work-order system stores them (2 digits, with gaps).
STATUS = {
    "01": "受理",
    "02": "派单",
    "03": "接单",
    "04": "挂起",
    "05": "施工中",
    "06": "完工",
    "07": "回访",
    "08": "归档",
    "11": "退单",
    "99": "作废",
}
# Allowed transitions: 作废 is impossible once work has started (05 and after).
TRANSITIONS = {
    "01": ("02", "99"),
    "02": ("03", "11", "99"),
    "03": ("05", "04", "11"),
    "04": ("05", "99"),
    "05": ("06", "04"),
    "06": ("07",),
    "07": ("08",),
    "11": ("02", "99"),
    "08": (),
    "99": (),
}
# Read side: numeric order types. The create call takes letter codes instead.
TYPE_CODES = {
    "101": "漏水",
    "102": "爆管",
    "103": "停水/无水",
    "104": "水压低",
    "105": "水质问题",
    "106": "水表故障",
    "201": "账务争议",
    "202": "其他",
}
CREATE_TYPES = {
    "LS": "101",
    "BG": "102",
    "TS": "103",
    "SY": "104",
    "SZ": "105",
    "SB": "106",
    "ZW": "201",
    "QT": "202",
}
URGENCY = {"1": "特急", "2": "紧急", "3": "一般"}

_HAPPY_PATH = ("01", "02", "03", "05", "06", "07", "08")
_DESCRIPTIONS = {
    "101": "用户反映{addr}附近路面渗水",
    "102": "{addr}路段主管爆管,水流涌出路面",
    "103": "用户家中无水",
    "104": "高峰时段水压不足",
    "105": "自来水浑浊发黄",
    "106": "水表不走字",
    "201": "用户对本期水量有异议",
    "202": "其他诉求",
}


def order_no(at: datetime, serial: int) -> str:
    return f"GD{at.astimezone(SHANGHAI):%Y%m%d}{serial:05d}"


def seed_orders(
    rng: random.Random,
    accounts: list[Account],
    grids: dict[str, Grid],
    outages: list[Outage],
    as_of_midnight: int,
) -> list[WorkOrderSeed]:
    """About one order a year for every seven accounts, plus the crews on today's burst."""
    out: list[WorkOrderSeed] = []
    for serial in range(1, max(len(accounts) // 7, 10) + 1):
        account = rng.choice(accounts)
        age_s = rng.randrange(600, 365 * 86400)
        type_code = rng.choices(list(TYPE_CODES), weights=(30, 4, 15, 12, 8, 18, 10, 3))[0]
        out.append(_order(rng, serial, account, grids, type_code, as_of_midnight - age_s, age_s))
    burst = next((o for o in outages if o.kind == 2 and o.status == 1), None)
    if burst is not None:
        near = [a for a in accounts if a.main_id in burst.main_ids][:3]
        for account in near:
            crew_on_site = list(_HAPPY_PATH[:4])  # 受理, 派单, 接单, 施工中
            out.append(
                _order(rng, len(out) + 1, account, grids, "102", burst.start + 900, 3 * 3600, crew_on_site)
            )
    return out


def _random_path(rng: random.Random, age_s: int) -> list[str]:
    """Old orders are closed (or cancelled early); recent ones stop somewhere along the way."""
    if age_s > 14 * 86400:
        return list(_HAPPY_PATH) if rng.random() > 0.05 else ["01", "99"]
    path = list(_HAPPY_PATH[: rng.randint(2, len(_HAPPY_PATH))])
    if rng.random() < 0.1 and path[-1] in ("03", "05"):
        path.append("04")
    return path


def _order(
    rng: random.Random,
    serial: int,
    account: Account,
    grids: dict[str, Grid],
    type_code: str,
    created_s: int,
    age_s: int,
    path: list[str] | None = None,
) -> WorkOrderSeed:
    created_ms = created_s * 1000
    created = datetime.fromtimestamp(created_s, SHANGHAI)
    path = path or _random_path(rng, age_s)
    step = max(age_s // (len(path) + 1), 60) * 1000
    history = [(code, created_ms + i * step) for i, code in enumerate(path)]
    grid = grids[account.grid_code]
    return WorkOrderSeed(
        order_no=order_no(created, serial),
        customer_no=account.customer_no,
        account_no=account.account_no,
        type_code=type_code,
        urgency="1" if type_code == "102" else rng.choice(("2", "3", "3")),
        description=_DESCRIPTIONS[type_code].format(addr=account.premises.road.name),
        address=account.premises.address,
        location=account.service_point,
        grid_code=grid.code,
        worker_id=grid.worker.worker_id if len(path) > 1 and path[1] != "99" else None,
        status=path[-1],
        created_ms=created_ms,
        updated_ms=history[-1][1],
        history=history,
    )
