"""What the backend layer reports: each guarded attempt's outcome, each HTTP request sent, breaker
transitions as they happen, budget decisions and cache results. A recording observer, fake clocks."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from infra.cache.cache import Cache, CachePolicy
from infra.cache.store import MemoryStore
from infra.errors import BackendError, BackendServerError
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig
from infra.resilience.breaker import BreakerConfig, CallNotPermitted
from infra.resilience.bulkhead import BackendShed, Bulkhead, BulkheadConfig
from infra.resilience.priority import operation_class
from infra.resilience.rate_budget import RateBudgetConfig
from infra.telemetry import Fanout, ignored
from tests.support.clocks import FakeClock, FakeTime
from tests.support.parse import billing_status as status


class Recorder:
    """Every event, as (kind, *args)."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def backend_call(self, backend: str, outcome: str) -> None:
        self.events.append(("call", backend, outcome))

    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None:
        assert duration_s >= 0
        self.events.append(("http", backend, method, status, error_type))

    def breaker_state(self, backend: str, old: str | None, new: str) -> None:
        self.events.append(("breaker", backend, old, new))

    def rate_decision(self, limiter: str, backend: str, operation_class: str, decision: str) -> None:
        self.events.append(("rate", limiter, backend, operation_class, decision))

    def cache_result(self, cache: str, result: str) -> None:
        self.events.append(("cache", cache, result))

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [e[1:] for e in self.events if e[0] == kind]


def backend(
    answers: list[int | Exception], recorder: Recorder, **config: Any
) -> tuple[BackendHttp, FakeTime]:
    """A billing backend answering `answers` in turn (the last one forever)."""
    sent: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        answer = answers[min(len(sent), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, json={})

    time = FakeTime()
    cfg = BackendConfig("billing", "http://billing.test", **config)
    http = BackendHttp(
        cfg, httpx.MockTransport(handler), clock=time.clock, sleep=time.sleep, telemetry=recorder
    )
    return http, time


async def test_each_attempt_and_each_request_is_reported_with_its_code() -> None:
    rec = Recorder()
    http, _ = backend([200, 404, 503, httpx.ConnectTimeout("slow"), httpx.ConnectError("refused")], rec)
    assert await http.fetch("GET", "/a", status) == 200
    for _ in range(4):
        with pytest.raises(BackendError):  # each its own kind: the outcomes below tell them apart
            await http.fetch("GET", "/a", status)
    assert rec.of("call") == [
        ("billing", "ok"),
        ("billing", "NOT_FOUND"),
        ("billing", "BACKEND_ERROR"),
        ("billing", "BACKEND_TIMEOUT"),
        ("billing", "BACKEND_ERROR"),
    ]
    assert rec.of("http") == [
        ("billing", "GET", 200, ""),
        ("billing", "GET", 404, ""),
        ("billing", "GET", 503, "BACKEND_ERROR"),
        ("billing", "GET", None, "BACKEND_TIMEOUT"),
        ("billing", "GET", None, "BACKEND_ERROR"),
    ]


async def test_breaker_transitions_are_reported_as_they_happen() -> None:
    rec = Recorder()
    breaker = BreakerConfig(
        sliding_window_size=2,
        minimum_number_of_calls=2,
        wait_duration_in_open_state_s=10,
        permitted_number_of_calls_in_half_open_state=1,
    )
    http, time = backend([503, 503, 200], rec, breaker=breaker)
    assert rec.of("breaker") == [("billing", None, "CLOSED")]  # present from the start
    for _ in range(2):
        with pytest.raises(BackendServerError):
            await http.fetch("GET", "/a", status)
    with pytest.raises(CallNotPermitted):
        await http.fetch("GET", "/a", status)
    time.advance(11)
    assert await http.fetch("GET", "/a", status) == 200
    assert rec.of("breaker")[1:] == [
        ("billing", "CLOSED", "OPEN"),
        ("billing", "OPEN", "HALF_OPEN"),
        ("billing", "HALF_OPEN", "CLOSED"),
    ]
    assert [o for _, o in rec.of("call")] == ["BACKEND_ERROR", "BACKEND_ERROR", "BACKEND_UNAVAILABLE", "ok"]
    assert len(rec.of("http")) == 3  # the refused call was never sent


async def test_rate_budget_and_bulkhead_decisions_carry_the_operation_class() -> None:
    rec = Recorder()
    http, _ = backend(
        [200],
        rec,
        rate=RateBudgetConfig(max_rps=1, burst=1, max_wait_s=0),
        bulkhead=BulkheadConfig(max_concurrent=2),
    )
    with operation_class("normal"):
        assert await http.fetch("GET", "/a", status) == 200
        with pytest.raises(BackendShed):
            await http.fetch("GET", "/a", status)
    assert rec.of("rate") == [
        ("backend_rate", "billing", "normal", "admitted"),
        ("bulkhead", "billing", "normal", "admitted"),
        ("backend_rate", "billing", "normal", "rejected"),
    ]
    assert rec.of("call")[-1] == ("billing", "RATE_LIMITED")


async def test_cache_results_hit_miss_and_stale() -> None:
    rec = Recorder()
    clock = FakeClock()
    cache = Cache(MemoryStore(100), clock)
    policy = CachePolicy(ttl_s=60, stale_while_revalidate_s=30, stale_if_error_s=600)
    failing = False

    async def fetch() -> int:
        if failing:
            raise BackendServerError("gis", "down")
        return 1

    async def fetch_many(keys: list[str]) -> dict[str, int]:
        if failing:
            raise BackendServerError("gis", "down")
        return {k: 1 for k in keys if k != "none"}

    def get() -> Any:
        return cache.get("k", policy, fetch, int, int, on_result=lambda r: rec.cache_result("outages", r))

    def get_many(keys: list[str]) -> Any:
        return cache.get_many(
            keys, policy, fetch_many, int, int, on_result=lambda r: rec.cache_result("accounts", r)
        )

    await get()  # miss
    await get()  # hit
    clock.advance(70)
    await get()  # stale (while revalidating)
    await cache.drain()
    await get_many(["a", "b", "none"])  # three misses (one the backend does not know)
    await get_many(["a", "a", "b"])  # two hits: keys are counted once per read
    clock.advance(200)
    failing = True
    await get()  # past revalidation, the backend fails: stale-if-error
    await get_many(["a"])  # the same for a batch
    assert Counter(rec.of("cache")) == Counter(
        {
            ("outages", "miss"): 1,
            ("outages", "hit"): 1,
            ("outages", "stale"): 2,
            ("accounts", "miss"): 3,
            ("accounts", "hit"): 2,
            ("accounts", "stale"): 1,
        }
    )


def test_fanout_tells_every_sink() -> None:
    one, two = Recorder(), Recorder()
    Fanout(one, two).cache_result("outages", "hit")
    assert one.events == two.events == [("cache", "outages", "hit")]


async def test_a_full_bulkhead_reports_its_rejection() -> None:
    decisions: list[tuple[str, str]] = []
    bulkhead = Bulkhead(
        "billing", BulkheadConfig(max_concurrent=1, max_wait_s=0), on_decision=lambda *d: decisions.append(d)
    )
    with operation_class("sheddable"):
        await bulkhead.acquire()
        with pytest.raises(BackendShed):
            await bulkhead.acquire()
    bulkhead.release()
    assert decisions == [("sheddable", "admitted"), ("sheddable", "rejected")]


class _HearsCallsOnly(Recorder):
    @ignored
    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None:
        raise AssertionError("an ignored event is never delivered")


def test_fanout_flattens_and_skips_what_an_observer_ignores() -> None:
    one, two, three = Recorder(), _HearsCallsOnly(), Recorder()
    fanout = Fanout(Fanout(one, two), three)
    assert fanout.sinks == (one, two, three)
    fanout.http_request("billing", "POST", 200, "", 0.01)
    fanout.backend_call("billing", "ok")
    assert [event[0] for event in one.events] == [event[0] for event in three.events]
    assert len(one.events) == 2 and len(two.events) == 1
