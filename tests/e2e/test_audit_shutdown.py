"""The audit trail survives a SIGTERM: every audited request that was answered has its line in the file.

A real `tidegate serve` process takes reveals (agents on calls) and supervisors' unmasked reads at
once; SIGTERM arrives while many are still in flight. Its background audit writer (issue 21, step 6)
only queues records on the request path, so this is where a lost line would show: records queued
by the last requests, during the graceful shutdown, must be written before the process exits.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from typing import Any

import httpx

from gateway.persisted.manifest import load_manifest
from tests.conftest import Simulators
from tests.support.processes import BffProcess, start_bff
from tests.support.world import seeded_world, sole_callers

READ = "query($id: ID!) { customer(id: $id) { id name idCard } }"
# Agents send persisted operations only: the workbench's own pop and reveal, by their manifest ids.
IDS = {op.name: f"sha256:{op.id}" for op in load_manifest()}
AGENTS = 40
READS = 360
# Admission, billing's guards and timeouts far above this load: every request is answered in full
# (or cut by the shutdown), never refused or failed by a guard, which would owe no line.
ROOMY = {
    f"TIDEGATE_RATE_{b}_{k}": "1000000" for b in ("GLOBAL", "CLIENT", "CRITICAL") for k in ("RPS", "BURST")
}
ROOMY |= {"TIDEGATE_BILLING_MAX_RPS": "1000000", "TIDEGATE_BILLING_RPS_BURST": "1000000"}
ROOMY |= {f"TIDEGATE_{name}_TIMEOUT_S": "10" for name in ("BILLING", "CRM", "GIS", "WORKORDERS")}

Work = tuple[str, dict[str, str], dict[str, Any]]  # (event owed, auth headers, request body)


def _work(bff: BffProcess) -> list[Work]:
    """Reveals (each agent ringing with, and having popped, their caller) between supervisors' reads."""
    world = seeded_world()
    reveals: list[Work] = []
    for i, caller in enumerate(sole_callers(world)[100 : 100 + AGENTS]):
        agent = bff.auth("agent", f"A77{i:02d}")
        assert bff.cti("CALL_RINGING", f"A77{i:02d}", f"sd-{i}", caller.mobile).status_code == 204
        pop = {"documentId": IDS["ScreenPop"], "variables": {"phone": caller.mobile}}
        popped = httpx.post(f"{bff.url}/graphql", json=pop, headers=agent, timeout=30)
        assert popped.json()["data"]["customerByPhone"], popped.text
        reveal = {"customerId": f"KH{caller.customer_no:08d}", "reason": "verifying the caller"}
        reveals.append(("pii_revealed", agent, {"documentId": IDS["RevealCustomerPii"], "variables": reveal}))
    supervisor = bff.auth("supervisor")
    reads: list[Work] = [
        ("unmasked_read", supervisor, {"query": READ, "variables": {"id": f"KH{c.customer_no:08d}"}})
        for c in world.customers[:READS]
    ]
    work = [item for pair in zip(reads[:AGENTS], reveals, strict=True) for item in pair]
    return work + reads[AGENTS:]


def _customer(request: dict[str, Any]) -> str:
    variables: dict[str, str] = request["variables"]
    return variables.get("customerId") or variables["id"]


async def _load(bff: BffProcess, work: list[Work]) -> list[tuple[str, str]]:
    """Everything at once, SIGTERM once a third is answered; the (event, customer) of every answer."""
    answered: list[tuple[str, str]] = []
    enough = asyncio.Event()

    async def one(
        client: httpx.AsyncClient, event: str, auth: dict[str, str], request: dict[str, Any]
    ) -> None:
        try:
            r = await client.post(f"{bff.url}/graphql", json=request, headers=auth)
        except httpx.HTTPError:
            return  # refused or cut by the shutdown: never answered, so no line is owed
        body: dict[str, Any] = r.json() if r.status_code == 200 else {}
        if body.get("data") and not body.get("errors"):
            answered.append((event, _customer(request)))
            if len(answered) >= len(work) // 3:
                enough.set()

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=12)) as client:
        everything = asyncio.gather(*(one(client, *item) for item in work))
        waiting: set[asyncio.Future[Any]] = {asyncio.ensure_future(enough.wait()), everything}
        await asyncio.wait(waiting, timeout=120, return_when=asyncio.FIRST_COMPLETED)
        assert enough.is_set(), f"only {len(answered)} of {len(work)} answered before SIGTERM"
        bff.proc.send_signal(signal.SIGTERM)
        await everything
    return answered


def test_sigterm_writes_every_queued_audit_line_before_the_process_exits(sims: Simulators) -> None:
    for name in ("billing", "crm", "gis", "workorders"):
        _ = sims[name]  # the session's simulators start on first use
    bff = start_bff(sims, ROOMY)
    try:
        work = _work(bff)
        answered = asyncio.run(_load(bff, work))
        assert bff.proc.wait(timeout=60) in (0, -signal.SIGTERM), bff.log()
        assert "Application shutdown complete" in bff.log()  # a graceful stop, the lifespan's end run
        lines = [json.loads(line) for line in bff.audit_path.read_text(encoding="utf-8").splitlines()]
        written = Counter((r["event"], r["customer"]) for r in lines if "customer" in r)
        missing = [key for key in answered if written[key] < 1]
        assert missing == [], f"{len(missing)} answered requests have no audit line: {missing[:5]}"
        assert len(answered) < len(work), "SIGTERM came after the last answer: nothing was in flight"
        assert {event for event, _ in answered} == {"pii_revealed", "unmasked_read"}
        # each answered reveal written exactly once (no line lost, none doubled by the drain)
        assert all(written[key] == 1 for key in answered if key[0] == "pii_revealed")
    finally:
        bff.stop()
