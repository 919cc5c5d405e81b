"""The floor: the screen pop hand-written as one Starlette endpoint, no GraphQL, no dataloaders.

It makes the same backend calls as Tidegate's `gql/screen_pop.graphql`, with the same wire parsing
and anti-corruption mapping (the backend clients' own), but sends them through a bare aiohttp
session instead of the httpx API, and builds the JSON by hand. Whatever Tidegate costs above
this is the price of the GraphQL layer and the httpx API.

    python -m bench.floor_server --port 8200   (backend URLs from TIDEGATE_* like the BFF)
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from yarl import URL

from backends.billing.client import BillingClient
from backends.crm.client import CrmClient
from backends.gis.client import GisClient
from backends.registry import open_backends
from backends.workorders.client import WorkOrderClient
from domain.money import Money
from domain.phones import national
from domain.ports import Backends
from domain.records import Account, Customer, Interaction, Outage, Ticket
from domain.timestamps import SHANGHAI
from gateway.observability.heap import freeze_startup_heap
from gateway.settings import Settings
from infra.http.config import BackendConfig

T = TypeVar("T")


@dataclass
class _Answer:
    """The slice of an httpx.Response the clients read."""

    status_code: int
    content: bytes
    headers: dict[str, str]


class AiohttpSender:
    """`BackendHttp.request` on a bare aiohttp session: no httpx objects on the way."""

    def __init__(self, config: BackendConfig, session: aiohttp.ClientSession) -> None:
        self.config = config
        self.name = config.name
        self.session = session

    async def request(self, method: str, path: str, *, timeout_s: float | None = None, **kw: Any) -> _Answer:
        body = kw.get("content")
        if "json" in kw:
            body = orjson.dumps(kw["json"])
            kw.setdefault("headers", {})["Content-Type"] = "application/json"
        url: str | URL = self.config.base_url + path
        if kw.get("query"):  # encoded by the client already (the GIS client's measured query)
            url = URL(f"{url}?{kw['query']}", encoded=True)
        async with asyncio.timeout(timeout_s or self.config.timeout_s):
            async with self.session.request(
                method,
                url,
                params=kw.get("params"),
                data=body or kw.get("data"),
                headers=kw.get("headers"),
            ) as resp:
                content = await resp.read()
                return _Answer(resp.status, content, {k.lower(): v for k, v in resp.headers.items()})

    async def fetch(self, method: str, path: str, parse: Callable[[Any], T], **kw: Any) -> T:
        return parse(await self.request(method, path, **kw))

    async def aclose(self) -> None:
        return None


def _use_sender(backends: Backends, session: aiohttp.ClientSession) -> None:
    """Swap each client's HTTP seam for the bare aiohttp one (a bench-only substitution: it reaches
    past the ports into the real clients `Backends.open` built)."""
    billing, crm, gis, workorders = backends.billing, backends.crm, backends.gis, backends.workorders
    assert isinstance(billing, BillingClient) and isinstance(crm, CrmClient)
    assert isinstance(gis, GisClient) and isinstance(workorders, WorkOrderClient)
    seams: tuple[tuple[object, str], ...] = (
        (billing, "_http"),
        (gis, "_http"),
        (crm.api, "http"),
        (workorders.api, "http"),
    )
    for holder, attr in seams:
        setattr(holder, attr, AiohttpSender(getattr(holder, attr).config, session))


def _money(m: Money) -> dict[str, Any]:
    return {"fen": m.fen, "yuan": m.yuan}


def _account(a: Account | None, no: str, as_of: str) -> dict[str, Any]:
    due = Money(max(a.arrears.fen + a.late_fee.fen - a.balance.fen, 0)) if a else None
    return {
        "accountNo": no,
        "holderName": a.holder_name if a else None,
        "address": a.address if a else None,
        "status": a.status.value if a else None,
        "useType": a.use_type.value if a else None,
        "payMethod": a.pay_method.value if a else None,
        "balance": _money(a.balance) if a else None,
        "arrears": _money(a.arrears) if a else None,
        "lateFee": _money(a.late_fee) if a else None,
        "amountDue": _money(due) if due else None,
        "currentTier": a.current_tier if a else None,
        "yearToDateUsageM3": a.year_to_date_m3 if a else None,
        "directDebitEnabled": a.direct_debit if a else None,
        "meterNo": a.meter_no if a else None,
        # No cache: every account is as of the billing answer this pop just had, never stale.
        "freshness": {"asOf": as_of, "stale": False},
    }


def _interaction(i: Interaction) -> dict[str, Any]:
    return {
        "id": i.interaction_id,
        "at": i.at.isoformat(),
        "channel": i.channel.value,
        "type": i.kind.value,
        "outcome": i.outcome.value,
        "summary": i.summary,
        "agentId": i.agent_id,
    }


def _ticket(t: Ticket) -> dict[str, Any]:
    worker = t.assignee
    return {
        "id": t.ticket_id,
        "category": t.category.value,
        "priority": t.priority.value,
        "status": t.status.value,
        "description": t.description,
        "createdAt": t.created_at.isoformat(),
        "assignee": {"id": worker.worker_id, "name": worker.name, "mobile": worker.mobile}
        if worker
        else None,
    }


def _outage(o: Outage) -> dict[str, Any]:
    return {
        "id": o.outage_id,
        "kind": o.kind.value,
        "status": o.status.value,
        "reason": o.reason,
        "startsAt": o.starts_at.isoformat() if o.starts_at else None,
        "estimatedRestoreAt": o.estimated_restore_at.isoformat() if o.estimated_restore_at else None,
    }


async def screen_pop(b: Backends, phone: str) -> list[dict[str, Any]]:
    number = national(phone)
    if number is None:
        return []
    customers: list[Customer] = await b.crm.contacts_by_phone(number)
    if not customers:
        return []
    account_nos = list(dict.fromkeys(n for c in customers for n in c.account_nos))
    accounts, interactions, tickets, connections, outages = await asyncio.gather(
        b.billing.accounts(account_nos[:50]),
        b.crm.interactions([c.crm_id for c in customers], 5),
        b.workorders.tickets_by_customers([c.customer_no for c in customers]),
        b.gis.service_connections(account_nos),
        b.gis.outages(True),
    )
    as_of = datetime.now(UTC).astimezone(SHANGHAI).isoformat()
    out = []
    for c in customers:
        owned = [accounts.get(n) for n in c.account_nos]
        points = [connections[n].location for n in c.account_nos if n in connections]
        out.append(
            {
                "id": c.customer_no,
                "name": c.name,
                "kind": c.kind.value,
                "mobile": c.mobiles[0] if c.mobiles else None,
                "landline": c.landlines[0] if c.landlines else None,
                "idCard": next((a.id_card for a in owned if a and a.id_card), None),
                "vip": c.vip,
                "tags": list(c.tags),
                "accounts": [_account(accounts.get(n), n, as_of) for n in c.account_nos],
                "interactions": [_interaction(i) for i in interactions.get(c.crm_id, [])],
                "tickets": [_ticket(t) for t in tickets.get(c.customer_no, []) if t.status.is_open][:5],
                "activeOutages": [_outage(o) for o in outages if any(o.covers(p) for p in points)],
            }
        )
    return out


def create_app(settings: Settings) -> Starlette:
    state: dict[str, Backends] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> Any:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
        backends = open_backends(settings.backend_configs())
        _use_sender(backends, session)
        state["backends"] = backends
        yield
        await session.close()

    async def endpoint(request: Request) -> Response:
        body = orjson.loads(await request.body())
        data = await screen_pop(state["backends"], str(body.get("phone", "")))
        return Response(orjson.dumps({"data": {"customerByPhone": data}}), media_type="application/json")

    return Starlette(routes=[Route("/screen-pop", endpoint, methods=["POST"])], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings()
    app = create_app(settings)
    # The same garbage-collector settings as `tidegate serve`, so neither side is charged for them.
    freeze_startup_heap(settings.serving.gc_young_threshold)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
