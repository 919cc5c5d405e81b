"""The audit trail survives a SIGTERM: every audited request that was answered has its line in the file.

A real `tidegate serve` process takes reveals (agents on calls) and supervisors' unmasked reads at
once; SIGTERM arrives while many are still in flight. Its background audit writer (issue 21, step 6)
only queues records on the request path, so this is where a lost line would show: records queued
by the last requests, during the graceful shutdown, must be written before the process exits.

The audit file is a named pipe of one page that the test leaves unread until the process runs its
lifespan's shutdown: the writer's thread blocks after a dozen lines, so by then the records of
hundreds of answered requests are queued and only the shutdown's flush writes them (without it this
test fails: checked by deleting the flush).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path
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


class HeldPipe:
    """A named pipe standing in for the audit file, one page deep, unread until `drain` starts.

    The test holds both ends open (O_RDWR), so the BFF's opens never block and it never sees EOF."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path, 0o600)
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        fcntl.fcntl(self.fd, fcntl.F_SETPIPE_SZ, 4096)
        self.data = bytearray()
        self._reader: threading.Thread | None = None

    def drain(self, bff: BffProcess) -> None:
        """In a thread: wait for the BFF's lifespan shutdown to begin, then read until it has exited
        and the pipe is empty."""

        def read() -> None:
            while "Waiting for application shutdown" not in bff.log() and bff.proc.poll() is None:
                time.sleep(0.02)
            while True:
                exited = bff.proc.poll() is not None
                try:
                    chunk = os.read(self.fd, 65536)
                except BlockingIOError:
                    chunk = b""
                self.data += chunk
                if not chunk:
                    if exited:
                        return
                    time.sleep(0.01)

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()

    def lines(self) -> list[str]:
        assert self._reader is not None
        self._reader.join(timeout=60)
        os.close(self.fd)
        return self.data.decode("utf-8").splitlines()


def _customer(request: dict[str, Any]) -> str:
    variables: dict[str, str] = request["variables"]
    return variables.get("customerId") or variables["id"]


async def _load(bff: BffProcess, work: list[Work], pipe: HeldPipe) -> list[tuple[str, str]]:
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
        pipe.drain(bff)
        await everything
    return answered


def test_sigterm_writes_every_queued_audit_line_before_the_process_exits(
    sims: Simulators, tmp_path: Path
) -> None:
    for name in ("billing", "crm", "gis", "workorders"):
        _ = sims[name]  # the session's simulators start on first use
    pipe = HeldPipe(tmp_path / "audit.pipe")
    bff = start_bff(sims, ROOMY | {"TIDEGATE_AUDIT_PATH": str(pipe.path)})
    try:
        work = _work(bff)
        answered = asyncio.run(_load(bff, work, pipe))
        assert bff.proc.wait(timeout=60) in (0, -signal.SIGTERM), bff.log()
        assert "Application shutdown complete" in bff.log()  # a graceful stop, the lifespan's end run
        lines = [json.loads(line) for line in pipe.lines()]
        written = Counter((r["event"], r["customer"]) for r in lines if "customer" in r)
        missing = [key for key in answered if written[key] < 1]
        assert missing == [], f"{len(missing)} answered requests have no audit line: {missing[:5]}"
        assert len(answered) < len(work), "SIGTERM came after the last answer: nothing was in flight"
        assert {event for event, _ in answered} == {"pii_revealed", "unmasked_read"}
        # each answered reveal written exactly once (no line lost, none doubled by the drain)
        assert all(written[key] == 1 for key in answered if key[0] == "pii_revealed")
    finally:
        bff.stop()
