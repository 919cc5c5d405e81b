"""The board's in-process figures, with a clock the test moves: the five-minute pop window, the
recent calls/s of a budget, stale serves, calls per minute, and the registry's agents and starts."""

from __future__ import annotations

from services.board import POP_WINDOW_S, BoardTelemetry, PopLatency, _per_minute
from services.calls import CallChange, CallRegistry, ChangeKind
from tests.support.clocks import FakeClock


def test_pop_percentiles_are_nearest_rank_over_the_last_five_minutes() -> None:
    clock = FakeClock()
    pops = PopLatency(clock=clock)
    assert pops.summary() == (0, None, None)
    for ms in range(1, 101):  # 1..100 ms
        pops.record(ms / 1000)
    count, p50, p99 = pops.summary()
    assert (count, round(p50 or 0), round(p99 or 0)) == (100, 50, 99)
    clock.advance(POP_WINDOW_S / 2)
    pops.record(5.0)  # one slow pop, later: the 101st sample, beyond rank 100 of p99
    assert pops.summary()[1:] == (51.0, 100.0)
    clock.advance(POP_WINDOW_S / 2 + 1)  # the first hundred fall out of the window
    assert pops.summary() == (1, 5000.0, 5000.0)


def test_pop_window_is_bounded() -> None:
    pops = PopLatency(max_samples=10, clock=FakeClock())
    for _ in range(50):
        pops.record(0.01)
    assert pops.summary()[0] == 10


def test_telemetry_keeps_breakers_recent_rate_and_stale_serves() -> None:
    clock = FakeClock()
    seen = BoardTelemetry(clock)
    seen.breaker_state("billing", None, "CLOSED")
    seen.breaker_state("billing", "CLOSED", "OPEN")
    assert seen.breakers == {"billing": "open"}
    for _ in range(20):
        seen.rate_decision("backend_rate", "billing", "critical", "admitted")
    seen.rate_decision("backend_rate", "billing", "sheddable", "rejected")
    seen.rate_decision("bulkhead", "billing", "critical", "admitted")
    assert seen.recent_rps("billing") == 2.0  # 20 started in the 10 s window
    assert seen.recent_rps("crm") == 0.0
    clock.advance(11)
    assert seen.recent_rps("billing") == 0.0
    assert seen.decisions[("backend_rate", "billing", "rejected")] == 1
    assert seen.seconds_since_stale("accounts") is None
    seen.cache_result("accounts", "stale")
    clock.advance(3)
    assert seen.seconds_since_stale("accounts") == 3
    assert seen.cache[("accounts", "stale")] == 1


def test_calls_per_minute_counts_whole_minutes_back_from_now() -> None:
    now = 10_000.0
    started = [now - 10, now - 30, now - 70, now - 14 * 60 - 1, now - 16 * 60]
    buckets = _per_minute(started, now)
    assert len(buckets) == 15
    assert buckets[-1] == 2 and buckets[-2] == 1 and buckets[0] == 1
    assert sum(buckets) == 4  # the one 16 minutes ago is off the chart


def test_registry_remembers_agents_and_when_calls_opened() -> None:
    clock = FakeClock()
    calls = CallRegistry(clock)
    calls.ringing("A1", "c1", "13800000001")
    clock.advance(5)
    calls.apply(CallChange(ChangeKind.RINGING, "A2", "c2", "13800000002"))  # another replica's call
    assert [c.call_id for c in calls.active()] == ["c1", "c2"]
    assert list(calls.started) == [1_000.0, 1_005.0]
    calls.ended("A1", "c1")
    assert [c.call_id for c in calls.active()] == ["c2"]
    assert calls.agents_seen() == ["A1", "A2"]
    assert calls.clock() == 1_005.0
