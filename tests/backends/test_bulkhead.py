"""The bulkhead: never more calls in flight than configured, and the reserve is for critical work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from backends.config import BackendConfig
from backends.http import BackendHttp
from backends.resilience.bulkhead import BackendShed, BulkheadConfig, operation_class


def _billing(seen: list[str], release: asyncio.Event) -> BackendHttp:
    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        await release.wait()
        return httpx.Response(200)

    config = BackendConfig(
        "billing",
        "http://billing.test",
        timeout_s=5.0,
        bulkhead=BulkheadConfig(max_concurrent=4, reserved_for_critical=1, max_wait_s=0.05),
    )
    return BackendHttp(config, httpx.MockTransport(handler))


async def _until(condition: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Wait for a state, not for a time: robust on a slow shared machine."""
    for _ in range(int(limit_s / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def _call(http: BackendHttp, cls: str, path: str) -> str:
    with operation_class(cls):
        try:
            await http.fetch("GET", path, lambda r: r.status_code)
        except BackendShed as exc:
            assert exc.code == "RATE_LIMITED" and exc.retry_after_s > 0
            return "shed"
    return "ok"


async def test_sheddable_work_is_shed_and_the_reserve_stays_for_critical() -> None:
    seen: list[str] = []
    release = asyncio.Event()
    http = _billing(seen, release)
    assert http.bulkhead is not None
    bulkhead = http.bulkhead
    history = [asyncio.create_task(_call(http, "sheddable", f"/history/{i}")) for i in range(5)]
    await _until(lambda: bulkhead.shed == 2)  # three fit; two waited their 50 ms and were shed
    pop = asyncio.create_task(_call(http, "critical", "/screen-pop"))
    await _until(lambda: bulkhead.in_flight == 4)  # the reserved slot took the screen pop
    release.set()
    results = await asyncio.gather(*history)
    assert sorted(results) == ["ok", "ok", "ok", "shed", "shed"]
    assert await pop == "ok"
    assert len(seen) == 4 and http.bulkhead.peak == 4 and http.bulkhead.shed == 2


def test_config_is_validated() -> None:
    with pytest.raises(ValueError):
        BulkheadConfig(max_concurrent=2, reserved_for_critical=2)
