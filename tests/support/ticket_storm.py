"""What the createTicket storms share: the document, the clients' keys and inputs, one attempt as a
balancer and a flaky network deliver it, and the work-order system's own count per client reference.

Two storms use it (`tests/e2e/test_create_ticket_storm.py`, with Redis throughout, and
`test_create_ticket_storm_without_redis.py`, with Redis killed mid-storm); what each tallies differs.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import httpx

from gql import GQL_DIR
from tests.support.processes import BffProcess
from tests.support.world import seeded_world

CREATE = (GQL_DIR / "create_ticket.graphql").read_text(encoding="utf-8")


def storm_keys(rng: random.Random, submissions: int, duplicate_share: float) -> tuple[list[str], list[str]]:
    """(distinct keys, the submissions in sending order). A duplicate is sent just after its first
    (within ten places): a double click, a retry racing its original, the same form open twice."""
    distinct = round(submissions * (1 - duplicate_share))
    keys = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(distinct)]
    placed = [(float(i), k) for i, k in enumerate(keys)]
    placed += [
        (i + rng.uniform(0, 10), keys[i])
        for i in (rng.randrange(distinct) for _ in range(submissions - distinct))
    ]
    return keys, [k for _, k in sorted(placed)]


def storm_inputs(keys: list[str]) -> dict[str, dict[str, Any]]:
    """One input per key (a retry resends it unchanged): every third a street report at a point (GIS
    locates it and picks the grid's worker), the others an address (filed undispatched)."""
    grids = seeded_world().grids
    out: dict[str, dict[str, Any]] = {}
    for i, key in enumerate(keys):
        if i % 3 == 0:
            grid = grids[i % len(grids)]
            xs, ys = [p[0] for p in grid.ring], [p[1] for p in grid.ring]
            place: dict[str, Any] = {"lon": (min(xs) + max(xs)) / 2, "lat": (min(ys) + max(ys)) / 2}
        else:
            place = {"address": f"江城市临江区人民路{i}号"}
        out[key] = {"category": "LEAK", "description": f"风暴测试 {i}: 路面冒水", **place}
    return out


async def send_once(
    bff: BffProcess,
    body: bytes,
    headers: dict[str, str],
    client: httpx.AsyncClient,
    rng: random.Random,
    drop_share: float,
) -> httpx.Response | None:
    """One attempt: the answer, or None when the connection was lost (a drop this storm injected, or
    a reset kept-alive socket, which to the client is a drop like any other)."""
    if rng.random() < drop_share:
        await drop_after_send(bff.url, body, headers, rng.uniform(0.0, 0.03))
        return None
    try:
        return await client.post(f"{bff.url}/graphql", content=body, headers=headers)
    except httpx.TransportError:
        return None


async def drop_after_send(url: str, body: bytes, headers: dict[str, str], linger_s: float) -> None:
    """The whole request on a connection of its own, then a reset before a byte of the answer is read:
    the BFF has the request (it may be working on it, or have answered), the client has nothing."""
    target = httpx.URL(url)
    assert target.port is not None
    _reader, writer = await asyncio.open_connection(target.host, target.port)
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n"
        f"Content-Type: application/json\r\nAuthorization: {headers['Authorization']}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode("ascii") + body)
    await writer.drain()
    await asyncio.sleep(linger_s)
    writer.transport.abort()  # RST, as a dying client or a mobile network's NAT does


async def orders_by_ref(url: str, refs: list[str]) -> dict[str, list[str]]:
    """The simulator's own records: order numbers per client reference."""
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=16)) as client:
        gate = asyncio.Semaphore(16)

        async def one(ref: str) -> tuple[str, list[str]]:
            async with gate:
                r = await client.get("/wo/api/orders", params={"client_ref": ref, "size": 200})
            r.raise_for_status()
            return ref, [o["order_no"] for o in r.json()["list"]]

        return dict(await asyncio.gather(*(one(ref) for ref in refs)))
