"""`schema.compiled._together`, the walk's gather: what graphql-core's `gather_with_cancel` promises."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from schema.compiled import _together


async def _after(delay: float, value: Any, log: list[str] | None = None) -> Any:
    try:
        await asyncio.sleep(delay)
    except asyncio.CancelledError:
        if log is not None:
            log.append(f"cancelled {value}")
        raise
    if isinstance(value, BaseException):
        raise value
    return value


async def test_values_come_back_in_order_whatever_finishes_first() -> None:
    done = asyncio.get_running_loop().create_future()
    done.set_result("ready")
    assert await _together([_after(0.02, 1), _after(0.0, 2), done]) == [1, 2, "ready"]


async def test_the_first_error_propagates_at_once_and_the_rest_are_cancelled() -> None:
    log: list[str] = []
    started = asyncio.get_running_loop().time()
    with pytest.raises(ValueError, match="first"):
        await _together([_after(5, "slow", log), _after(0.01, ValueError("first")), _after(5, "other", log)])
    assert asyncio.get_running_loop().time() - started < 2  # not after the slow ones
    assert sorted(log) == ["cancelled other", "cancelled slow"]


async def test_a_second_error_is_retrieved_too(caplog: pytest.LogCaptureFixture) -> None:
    """Both children fail: one error propagates, the other is read, so asyncio never logs
    "Task exception was never retrieved" for it."""
    with pytest.raises(ValueError):
        await _together([_after(0.0, ValueError("a")), _after(0.0, ValueError("b"))])
    gc.collect()
    await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text


async def test_cancelling_the_caller_cancels_the_children() -> None:
    log: list[str] = []
    caller = asyncio.ensure_future(_together([_after(5, "a", log), _after(5, "b", log)]))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.sleep(0)
    assert sorted(log) == ["cancelled a", "cancelled b"]
