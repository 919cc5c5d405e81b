"""The CRM's register of sensitive customers (重点保障用户): who must hear first when water stops.

Seeded from the world with its own random stream (the world's data stay byte for byte the same):
organisations become hospitals (医院) or schools (学校), a few residents are home-dialysis patients
(血透), the contacts the CRM already tags 独居老人 are elderly living alone (孤老), and some
households are on the minimum living allowance (低保). Each entry names the account where the need
is; a customer with several accounts is registered at their first.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulators.world import World

CATEGORIES = {"YY": "医院", "XT": "血透患者", "XX": "学校", "GL": "孤老", "DB": "低保"}


@dataclass(frozen=True, slots=True)
class Entry:
    register_id: str
    customer_no: int
    account_no: str  # canonical, 10 digits
    category: str  # a key of CATEGORIES
    remark: str


def register(world: World) -> list[Entry]:
    rng = random.Random(f"sensitive-register:{world.seed}")
    out: list[Entry] = []
    for customer in world.customers:
        accounts = world.accounts_of.get(customer.customer_no, [])
        if not accounts:
            continue
        roll = rng.random()
        if customer.kind == "org":
            category = "YY" if roll < 0.08 else "XX" if roll < 0.20 else None
        elif customer.customer_no % 211 == 0:  # the CRM's 独居老人 tag
            category = "GL"
        else:
            category = "XT" if roll < 0.004 else "DB" if roll < 0.02 else None
        if category is None:
            continue
        remark = {
            "YY": "医疗用水,停水须提前通知院方后勤",
            "XT": "居家血液透析,停水须电话通知本人及家属",
            "XX": "学校,停水须通知校方",
            "GL": "独居老人,停水须社区网格员上门告知",
            "DB": "低保户,停水须电话通知",
        }[category]
        out.append(
            Entry(f"ZD{len(out) + 1:06d}", customer.customer_no, accounts[0].account_no, category, remark)
        )
    return out
