"""Issue 15 through a real `tidegate serve` process with production's defaults: the 1.2 kB document
whose fragments double 30 times is refused with its codes while `/healthz` is polled throughout, and
every poll is answered. Before the one-pass cost check this request held the event loop for minutes
(and `/healthz` with it). No simulators: the document never reaches a backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from bench.documents import doubling
from tests.support.processes import BffProcess, start_bff

HOSTILE_CODES = {"TOO_MANY_SPREADS", "TOO_MANY_FIELDS", "QUERY_TOO_COSTLY"}


@pytest.fixture(scope="module")
def production_bff() -> Iterator[BffProcess]:
    started = start_bff({}, env={"TIDEGATE_PERSISTED_ONLY": "true"})  # the suite turns it off elsewhere
    try:
        yield started
    finally:
        started.stop()


async def hostile_while_polling(bff: BffProcess, query: str) -> tuple[httpx.Response, list[int], float]:
    """The document from a supervisor (free-form allowed: GraphiQL's role), /healthz polled meanwhile."""
    polls: list[int] = []
    done = asyncio.Event()
    async with httpx.AsyncClient(base_url=bff.url, timeout=10.0) as client:

        async def poll() -> None:
            while not done.is_set():
                polls.append((await client.get("/healthz")).status_code)
                await asyncio.sleep(0.01)

        auth = bff.auth("supervisor")
        await client.post("/graphql", json={"query": "{ __typename }"}, headers=auth)  # warm: first request
        poller = asyncio.create_task(poll())
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        r = await client.post("/graphql", json={"query": query}, headers=auth)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.1)
        done.set()
        await poller
    return r, polls, elapsed


def test_the_2_to_the_30_document_is_refused_and_healthz_answers_throughout(
    production_bff: BffProcess,
) -> None:
    r, polls, elapsed = asyncio.run(hostile_while_polling(production_bff, doubling(30)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == HOSTILE_CODES
    assert len(polls) >= 2 and set(polls) == {200}, polls  # every poll answered, and OK
    print(f"2^30 refused in {elapsed * 1000:.1f} ms over HTTP; /healthz answered {len(polls)} polls")


def test_an_agent_may_not_send_it_at_all(production_bff: BffProcess) -> None:
    """Production's default: agents send their operations' ids, so the document is never parsed."""
    r = httpx.post(
        f"{production_bff.url}/graphql", json={"query": doubling(30)}, headers=production_bff.auth("agent")
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_ID_REQUIRED"
