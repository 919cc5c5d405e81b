"""How the CRM stores the world: its own contact ids, int account numbers, formatted phones."""

from __future__ import annotations

from typing import Any

from simulators.world import World
from simulators.world.history import Interaction
from simulators.world.model import Customer

_MUL, _ADD, _MOD = 7919, 104729, 10**8


def contact_id(customer_no: int) -> str:
    return f"CT{(customer_no * _MUL + _ADD) % _MOD:08d}"


def format_phone(raw: str) -> str:
    """The CRM shows numbers the way its agents typed them: +86 mobiles, bracketed area codes."""
    if "-" in raw:
        area, local = raw.split("-", 1)
        return f"({area}) {local[:4]}-{local[4:]}"
    return f"+86 {raw[:3]} {raw[3:7]} {raw[7:]}"


def contact_json(world: World, customer: Customer) -> dict[str, Any]:
    phones = []
    if customer.mobile:
        phones.append({"type": "MOBILE", "number": format_phone(customer.mobile), "primary": True})
    if customer.landline and customer.landline.replace("-", "") not in world.crm_unlisted_phones:
        phones.append(
            {
                "type": "LANDLINE",
                "number": format_phone(customer.landline),
                "primary": customer.mobile is None,
            }
        )
    accounts = world.accounts_of.get(customer.customer_no, [])
    since = world.as_of_midnight - (world.as_of - customer.since).days * 86400
    return {
        "id": contact_id(customer.customer_no),
        "customerNo": customer.customer_no,
        "displayName": customer.name,
        "kind": "ORGANIZATION" if customer.kind == "org" else "INDIVIDUAL",
        "phones": phones,
        "accounts": [int(a.account_no) for a in accounts],
        "createdAt": since,
        "vip": customer.customer_no % 97 == 0,
        "tags": ["独居老人"] if customer.customer_no % 211 == 0 else [],
    }


def interaction_json(contact: str, item: Interaction) -> dict[str, Any]:
    return {
        "id": item.interaction_id,
        "contactId": contact,
        "channel": item.channel,
        "type": item.kind,
        "result": item.outcome,
        "agentId": item.agent_id,
        "summary": item.summary,
        "createdAt": item.at,
        "durationSec": item.duration_s,
        "accountNo": int(item.account_no) if item.account_no else None,
    }
