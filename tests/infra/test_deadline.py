"""The operation's deadline reaches every backend call; a spent budget sends nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from infra.deadline import deadline, time_left
from infra.errors import BackendTimeout
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig


def _slow_backend(calls: list[str], delay_s: float) -> httpx.MockTransport:
    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        await asyncio.sleep(delay_s)
        return httpx.Response(200, json={"ok": True})

    return httpx.MockTransport(handler)


async def test_a_call_gets_only_what_is_left_of_the_budget() -> None:
    calls: list[str] = []
    http = BackendHttp(BackendConfig("crm", "http://crm.test", timeout_s=5.0), _slow_backend(calls, 0.5))
    with deadline(0.05), pytest.raises(BackendTimeout):
        await http.request("GET", "/slow")
    assert calls == ["/slow"]


async def test_a_spent_budget_sends_nothing() -> None:
    calls: list[str] = []
    http = BackendHttp(BackendConfig("crm", "http://crm.test"), _slow_backend(calls, 0.0))
    with deadline(0.0), pytest.raises(BackendTimeout, match="budget"):
        await http.request("GET", "/never")
    assert calls == []


async def test_tasks_created_inside_inherit_the_deadline_and_it_ends_with_the_block() -> None:
    with deadline(10.0):
        inner = await asyncio.create_task(asyncio.sleep(0, result=time_left()))
    assert inner is not None and 0 < inner <= 10.0
    assert time_left() is None
