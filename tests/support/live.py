"""Waiting on live updates in async tests: a subscription's next event, a condition coming true."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

from bench.graphql_ws import GraphQLWs


async def next_data(ws: GraphQLWs, op: str) -> dict[str, Any]:
    """The `data` of subscription `op`'s next event (an error or a completion fails the test)."""
    async with asyncio.timeout(15):  # a safety net against a hang, not a latency assertion
        message = await ws.receive(op)
    assert message["type"] == "next", message
    return cast("dict[str, Any]", message["payload"]["data"])


async def until(condition: Callable[[], object], what: str) -> None:
    """Returns once `condition()` is true; fails after about ten seconds, naming `what`."""
    for _ in range(1_000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")
