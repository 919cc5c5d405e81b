"""`tidegate_ring_pop_duration_seconds`: each ring-time pop pushed to the agent is timed from the CTI's
ring and counted by how it ended, through the real app and schema on the simulators."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from graphql import ExecutionResult, GraphQLError

from gateway.app import create_app
from gateway.live.ring_prefetch import COMPLETE, FAILED, PARTIAL, SKIPPED
from gateway.observability.metrics import RING_POP_OUTCOMES
from tests.conftest import Simulators
from tests.gateway.conftest import TEST_KEYS, serve_with_state
from tests.gateway.test_persisted_screen_pop import caller, ring, settings_for, softphone
from tests.support.prom import Scrape

RING_POPS = "tidegate_ring_pop_duration_seconds"


async def _counted(client: httpx.AsyncClient, outcome: str, n: int) -> Scrape:
    """The scrape once `n` pops have been counted under `outcome` (each pop runs in its own task)."""
    async with asyncio.timeout(10):  # a safety net, not a latency assertion
        while True:
            scrape = Scrape((await client.get("/metrics")).text)
            if scrape.value(f"{RING_POPS}_count", outcome=outcome) >= n:
                return scrape
            await asyncio.sleep(0.01)


def test_the_outcomes_the_prefetch_reports_are_the_metrics_own() -> None:
    assert {COMPLETE, PARTIAL, FAILED, SKIPPED} == RING_POP_OUTCOMES


async def test_a_known_caller_is_complete_and_a_withheld_number_skipped(sims: Simulators) -> None:
    app = create_app(settings_for(sims), keys=TEST_KEYS)
    async with serve_with_state(app, headers=softphone("A7301")) as (client, _state):
        await ring(client, "A7301", "call-7301", caller(7).mobile)
        scrape = await _counted(client, COMPLETE, 1)
        assert scrape.value(f"{RING_POPS}_sum", outcome=COMPLETE) > 0
        assert scrape.value(f"{RING_POPS}_bucket", outcome=COMPLETE, le="+Inf") == 1

        await ring(client, "A7302", "call-7302", None)  # caller id withheld: nothing to look up
        scrape = await _counted(client, SKIPPED, 1)
    assert scrape.value(f"{RING_POPS}_count", outcome=COMPLETE) == 1
    assert scrape.value(f"{RING_POPS}_count", outcome=PARTIAL) == 0
    assert scrape.value(f"{RING_POPS}_count", outcome=FAILED) == 0


async def test_a_pop_with_errors_is_partial_and_one_that_raises_failed(sims: Simulators) -> None:
    """The schema's answer is altered (a narrow stand-in): an error beside the data, then a raise."""
    app = create_app(settings_for(sims), keys=TEST_KEYS)
    async with serve_with_state(app, headers=softphone("A7311")) as (client, state):
        prefetch = state["ring_prefetch"]
        schema = prefetch._schema
        real = schema.execute

        async def with_an_error(*args: Any, **kwargs: Any) -> ExecutionResult:
            result = await real(*args, **kwargs)
            return ExecutionResult(
                result.data, [GraphQLError("late", extensions={"code": "BACKEND_TIMEOUT"})]
            )

        async def raising(*_args: Any, **_kwargs: Any) -> ExecutionResult:
            raise RuntimeError("the schema could not run")

        prefetch._schema = type("Answering", (), {"execute": staticmethod(with_an_error)})()
        await ring(client, "A7311", "call-7311", caller(8).mobile)
        await _counted(client, PARTIAL, 1)
        prefetch._schema = type("Raising", (), {"execute": staticmethod(raising)})()
        await ring(client, "A7312", "call-7312", caller(9).mobile)
        scrape = await _counted(client, FAILED, 1)
    assert scrape.value(f"{RING_POPS}_count", outcome=COMPLETE) == 0
