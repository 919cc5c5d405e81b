"""The bulkhead: never more calls in flight than configured, the reserve is for critical work, and
sheddable work has a lower ceiling than normal work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from infra.deadline import deadline
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig
from infra.resilience.bulkhead import BackendShed, BulkheadConfig
from infra.resilience.priority import operation_class


def _billing(seen: list[str], release: asyncio.Event, config: BulkheadConfig | None = None) -> BackendHttp:
    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        await release.wait()
        return httpx.Response(200)

    config = config or BulkheadConfig(max_concurrent=4, reserved_for_critical=1, max_wait_s=0.05)
    backend = BackendConfig("billing", "http://billing.test", timeout_s=5.0, bulkhead=config)
    return BackendHttp(backend, httpx.MockTransport(handler))


async def _until(condition: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Wait for a state, not for a time: robust on a slow shared machine."""
    for _ in range(int(limit_s / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def _call(http: BackendHttp, cls: str | None, path: str) -> str:
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
    await _until(lambda: bulkhead.shed["sheddable"] == 2)  # three fit; two waited their 50 ms and were shed
    pop = asyncio.create_task(_call(http, "critical", "/screen-pop"))
    await _until(lambda: bulkhead.in_flight == 4)  # the reserved slot took the screen pop
    release.set()
    results = await asyncio.gather(*history)
    assert sorted(results) == ["ok", "ok", "ok", "shed", "shed"]
    assert await pop == "ok"
    assert len(seen) == 4 and bulkhead.peak == 4
    assert bulkhead.admitted == {"sheddable": 3, "critical": 1} and bulkhead.shed == {"sheddable": 2}


async def test_sheddable_ceiling_sheds_sheddable_before_normal() -> None:
    seen: list[str] = []
    release = asyncio.Event()
    config = BulkheadConfig(
        max_concurrent=4, reserved_for_critical=1, max_wait_s=0.05, sheddable_max_concurrent=2
    )
    http = _billing(seen, release, config)
    assert http.bulkhead is not None
    bulkhead = http.bulkhead
    history = [asyncio.create_task(_call(http, "sheddable", f"/history/{i}")) for i in range(3)]
    await _until(lambda: bulkhead.shed["sheddable"] == 1)  # two fit under the sheddable ceiling
    bills = [asyncio.create_task(_call(http, "normal", f"/bills/{i}")) for i in range(2)]
    await _until(lambda: bulkhead.shed["normal"] == 1)  # one more fits under the normal ceiling (3)
    unclassified = asyncio.create_task(_call(http, None, "/tool"))  # counts as critical: takes the reserve
    await _until(lambda: bulkhead.in_flight == 4)
    release.set()
    assert sorted(await asyncio.gather(*history)) == ["ok", "ok", "shed"]
    assert sorted(await asyncio.gather(*bills)) == ["ok", "shed"]
    assert await unclassified == "ok"
    assert bulkhead.admitted == {"sheddable": 2, "normal": 1, "unclassified": 1}
    assert bulkhead.shed == {"sheddable": 1, "normal": 1}
    assert len(seen) == 4 and bulkhead.peak == 4


async def test_critical_work_waits_for_a_slot_only_within_its_deadline() -> None:
    seen: list[str] = []
    release = asyncio.Event()
    http = _billing(seen, release, BulkheadConfig(max_concurrent=1))
    assert http.bulkhead is not None
    bulkhead = http.bulkhead
    first = asyncio.create_task(_call(http, "critical", "/first"))
    await _until(lambda: bulkhead.in_flight == 1)
    with deadline(0.05):
        assert await _call(http, "critical", "/second") == "shed"
    release.set()
    assert await first == "ok"
    assert bulkhead.shed == {"critical": 1} and seen == ["/first"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_concurrent": 2, "reserved_for_critical": 2},
        {"max_concurrent": 4, "reserved_for_critical": 1, "sheddable_max_concurrent": 4},
        {"max_concurrent": 4, "reserved_for_critical": 1, "sheddable_max_concurrent": 0},
    ],
)
def test_config_is_validated(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        BulkheadConfig(**kwargs)


def test_try_acquire_takes_a_free_slot_and_refuses_a_full_bulkhead_without_shedding() -> None:
    from infra.resilience.bulkhead import Bulkhead

    decisions: list[tuple[str, str]] = []
    config = BulkheadConfig(max_concurrent=3, reserved_for_critical=1, max_wait_s=0.05)
    bulkhead = Bulkhead("billing", config, on_decision=lambda *d: decisions.append(d))
    with operation_class("normal"):  # normal work may use 2 of the 3 slots
        assert [bulkhead.try_acquire() for _ in range(3)] == [True, True, False]
    with operation_class("critical"):
        assert [bulkhead.try_acquire() for _ in range(2)] == [True, False]
    assert bulkhead.in_flight == 3 and bulkhead.peak == 3
    assert bulkhead.admitted == {"normal": 2, "critical": 1} and not bulkhead.shed
    assert decisions == [("normal", "admitted")] * 2 + [("critical", "admitted")]
    bulkhead.release()
    with operation_class("critical"):
        assert bulkhead.try_acquire()
