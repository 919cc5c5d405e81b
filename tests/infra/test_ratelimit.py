"""GCRA rate limiting: the arithmetic on an injected clock, one contract for the Lua script and the
in-process twin, four BFF-like processes sharing a real redis-server, and the fallback while it is
down. Assertions count admissions; Redis's clock is real, so its rates are slow enough not to matter.

The fleet tests run `tests.support.ratelimit_worker` as four processes on one redis-server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from infra.redis_client import RedisClient, is_cluster
from infra.resilience.gcra import Bucket, Decision, Limit, LocalGcra, RedisGcra, check
from infra.resilience.ratelimit import RateLimiter, redis_client
from simulators.launch import die_with_parent, stop
from tests.support.clocks import FakeClock
from tests.support.redis_cluster import shared_client
from tests.support.redis_server import RedisProcess, start_redis

ROOT = Path(__file__).resolve().parents[2]
SLOW = 0.1  # tokens per second: nothing refills while a test runs against Redis's real clock
Acquire = Callable[[Sequence[Bucket], int], Awaitable[Decision]]
Charge = Callable[[Mapping[str, int]], Awaitable[None]]


@pytest.fixture
async def client(redis_server: RedisProcess) -> AsyncIterator[Redis]:
    client = Redis(port=redis_server.port)
    await client.flushall()
    await client.config_resetstat()
    yield client
    await client.aclose()


# --- the arithmetic, exact, on an injected clock ---------------------------------------------------


def test_a_burst_passes_at_once_then_the_next_waits_exactly_one_interval() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock)
    bucket = Bucket("rl:global", Limit(rate_per_s=2.0, burst=5))
    burst = [gcra.acquire([bucket]) for _ in range(5)]
    assert [d.allowed for d in burst] == [True] * 5
    assert [d.remaining["rl:global"] for d in burst] == [4, 3, 2, 1, 0]
    refused = gcra.acquire([bucket])
    assert (refused.allowed, refused.retry_after_s, refused.remaining) == (False, 0.5, {"rl:global": 0})
    clock.now += 0.499_999
    assert gcra.acquire([bucket]).retry_after_s == pytest.approx(0.000_001)
    clock.now += 0.000_001
    assert gcra.acquire([bucket]).allowed


def test_after_the_burst_the_steady_rate_holds() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock)
    bucket = Bucket("rl:global", Limit(rate_per_s=2.0, burst=5))
    assert sum(gcra.acquire([bucket]).allowed for _ in range(10)) == 5
    admitted = 0
    for _ in range(100):  # 10 s in 0.1 s steps, three tries per step
        clock.now += 0.1
        admitted += sum(gcra.acquire([bucket]).allowed for _ in range(3))
    assert admitted == 20


@given(
    rate=st.sampled_from([0.5, 2.0, 7.0]),
    burst=st.integers(1, 8),
    arrivals=st.lists(st.tuples(st.integers(0, 400_000), st.integers(1, 3)), max_size=60),
)
def test_no_window_ever_admits_more_than_burst_plus_rate_times_its_length(
    rate: float, burst: int, arrivals: list[tuple[int, int]]
) -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock)
    limit = Limit(rate, burst)
    admitted: list[tuple[int, int]] = []  # (µs since start, cost)
    now_us = 0
    for gap_us, cost in arrivals:
        now_us += gap_us
        clock.now = 1_000.0 + now_us / 1_000_000
        if gcra.acquire([Bucket("rl:global", limit)], cost).allowed:
            admitted.append((now_us, cost))
    for i, (start, _) in enumerate(admitted):
        total = 0
        for end, cost in admitted[i:]:
            total += cost
            assert total <= burst + (end - start) / limit.interval_us


@given(
    limits=st.lists(
        st.tuples(st.sampled_from([0.5, 2.0, 7.0, 1000.0]), st.integers(1, 6)), min_size=1, max_size=3
    ),
    arrivals=st.lists(st.tuples(st.integers(0, 900_000), st.integers(1, 3), st.integers(1, 7)), max_size=60),
)
def test_every_decision_is_what_check_says_for_the_tats_stored_before_it(
    limits: list[tuple[float, int]], arrivals: list[tuple[int, int, int]]
) -> None:
    """`LocalGcra.acquire` decides admissions in a pass of its own (`_admitted`); `check` is the
    arithmetic the Lua script mirrors. Each decision, and the TATs it leaves, must be `check`'s."""
    clock = FakeClock()
    gcra = LocalGcra(clock)
    buckets = [Bucket(f"rl:{i}", Limit(rate, burst)) for i, (rate, burst) in enumerate(limits)]
    now_us = 0
    for gap_us, cost, subset in arrivals:
        now_us += gap_us
        clock.now = 1_000.0 + now_us / 1_000_000
        chosen = [bucket for i, bucket in enumerate(buckets) if subset >> i & 1] or buckets[:1]
        before = dict(gcra._tats)
        at_us = round(clock.now * 1_000_000)
        allowed, retry_us, remaining, new_tats = check(
            at_us, [before.get(b.key) for b in chosen], [b.limit for b in chosen], cost
        )
        decision = gcra.acquire(chosen, cost)
        assert decision.allowed is allowed
        assert decision.retry_after_s == (math.inf if retry_us == -1 else retry_us / 1_000_000)
        assert decision.remaining == {b.key: n for b, n in zip(chosen, remaining, strict=True)}
        expected = before | ({b.key: t for b, t in zip(chosen, new_tats, strict=True)} if allowed else {})
        assert gcra._tats == expected


def test_a_refusal_by_one_bucket_charges_none_and_carries_the_longest_wait() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock)
    client = Bucket("rl:client:alice", Limit(rate_per_s=1.0, burst=2))
    critical = Bucket("rl:class:critical", Limit(rate_per_s=0.25, burst=1))
    overall = Bucket("rl:global", Limit(rate_per_s=1.0, burst=10))
    assert sum(gcra.acquire([client, overall]).allowed for _ in range(5)) == 2
    assert gcra.acquire([overall]).remaining == {"rl:global": 7}  # 10 - 2 - this one
    assert gcra.acquire([critical]).allowed
    refused = gcra.acquire([client, critical, overall])
    assert (refused.allowed, refused.retry_after_s) == (False, 4.0)  # critical's 4 s, not client's 1 s
    assert refused.remaining == {"rl:client:alice": 0, "rl:class:critical": 0, "rl:global": 7}


def test_idle_buckets_are_forgotten() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock)
    for i in range(LocalGcra._SWEEP_EVERY - 1):
        gcra.acquire([Bucket(f"rl:client:{i}", Limit(rate_per_s=1.0, burst=1))])
    clock.now += 1.0
    gcra.acquire([Bucket("rl:global", Limit(rate_per_s=1.0, burst=1))])
    assert list(gcra._tats) == ["rl:global"]


# --- one contract, two implementations: LocalGcra and the Lua script on a real redis-server -------


@pytest.fixture(params=["local", "redis", "cluster"])
async def acquire(request: pytest.FixtureRequest) -> AsyncIterator[Acquire]:
    if request.param == "local":
        local = LocalGcra(FakeClock())

        async def local_acquire(buckets: Sequence[Bucket], cost: int) -> Decision:
            return local.acquire(buckets, cost)

        yield local_acquire
        return
    client = shared_client(request, request.param, timeout_s=2.0)
    await _flush(client)
    yield RedisGcra(client).acquire
    await client.aclose()


async def test_contract_burst_of_ten_admits_ten_of_thirty(acquire: Acquire) -> None:
    bucket = Bucket("rl:global", Limit(rate_per_s=1.0, burst=10))
    decisions = [await acquire([bucket], 1) for _ in range(30)]
    assert sum(d.allowed for d in decisions) == 10
    assert [d.allowed for d in decisions[:10]] == [True] * 10
    assert 0.9 < decisions[10].retry_after_s <= 1.0


async def test_contract_all_or_nothing(acquire: Acquire) -> None:
    narrow = Bucket("rl:client:alice", Limit(rate_per_s=SLOW, burst=3))
    wide = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=100))
    assert sum([(await acquire([narrow, wide], 1)).allowed for _ in range(10)]) == 3
    assert (await acquire([wide], 1)).remaining == {"rl:global": 96}


async def test_contract_cost(acquire: Acquire) -> None:
    bucket = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=5))
    first = await acquire([bucket], 3)
    assert (first.allowed, first.remaining) == (True, {"rl:global": 2})
    second = await acquire([bucket], 3)
    assert not second.allowed
    assert 9.9 < second.retry_after_s <= 10.0  # one unit short: one interval
    never = await acquire([bucket], 6)
    assert (never.allowed, never.retry_after_s) == (False, math.inf)
    assert (await acquire([bucket], 2)).allowed  # the refusals charged nothing


@pytest.fixture(params=["local", "redis", "cluster"])
async def twins(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Acquire, Charge]]:
    """`acquire` and `charge` of one implementation (the contract's charge half)."""
    if request.param == "local":
        local = LocalGcra(FakeClock())

        async def local_acquire(buckets: Sequence[Bucket], cost: int) -> Decision:
            return local.acquire(buckets, cost)

        async def local_charge(owed: Mapping[str, int]) -> None:
            local.charge(owed)

        yield local_acquire, local_charge
        return
    client = shared_client(request, request.param, timeout_s=2.0)
    await _flush(client)
    gcra = RedisGcra(client)
    yield gcra.acquire, gcra.charge
    await client.aclose()


async def test_contract_a_charge_takes_from_the_bucket_unchecked_and_all_of_it(
    twins: tuple[Acquire, Charge],
) -> None:
    acquire, charge = twins
    bucket = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=10))
    interval = bucket.limit.interval_us
    await charge({"rl:global": 4 * interval, "rl:client:alice": interval})  # admitted elsewhere
    assert (await acquire([bucket], 1)).remaining == {"rl:global": 5}
    await charge({"rl:global": 20 * interval})  # past the burst: a charge is never refused
    refused = await acquire([bucket], 1)
    assert (refused.allowed, refused.remaining) == (False, {"rl:global": 0})
    assert 159.9 < refused.retry_after_s <= 160.0  # 25 owed + 1 asked - 10 of burst = 16 intervals
    await charge({})  # nothing owed: a no-op (on Redis, a round trip that proves it answers)
    alice = Bucket("rl:client:alice", Limit(rate_per_s=SLOW, burst=10))
    assert (await acquire([alice], 1)).remaining == {"rl:client:alice": 8}


async def test_contract_caller_mistakes_raise(acquire: Acquire) -> None:
    bucket = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=5))
    with pytest.raises(ValueError, match="twice"):
        await acquire([bucket, bucket], 1)
    with pytest.raises(ValueError, match="cost"):
        await acquire([bucket], 0)


async def _flush(client: RedisClient) -> None:
    """The single server is the module's own (the cluster comes emptied by `shared_client`)."""
    if not is_cluster(client):
        await client.flushall()


# --- the Lua script's own duties --------------------------------------------------------------------


async def test_keys_expire_when_idle_and_a_refusal_writes_nothing(client: Redis) -> None:
    gcra = RedisGcra(client)
    narrow = Bucket("rl:client:alice", Limit(rate_per_s=1.0, burst=10))
    for _ in range(10):
        assert (await gcra.acquire([narrow])).allowed
    assert (
        9_000 < await client.pttl("tidegate:{rl}:rl:client:alice") <= 10_000
    )  # idle again after 10 intervals
    fresh = Bucket("rl:global", Limit(rate_per_s=1.0, burst=10))
    assert not (await gcra.acquire([narrow, fresh])).allowed
    assert await client.exists("tidegate:{rl}:rl:global") == 0


async def test_the_script_is_loaded_once_and_again_after_script_flush(client: Redis) -> None:
    gcra = RedisGcra(client)
    bucket = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=100))
    await asyncio.gather(*(gcra.acquire([bucket]) for _ in range(50)))
    await client.script_flush()
    decisions = await asyncio.gather(*(gcra.acquire([bucket]) for _ in range(50)))
    assert all(d.allowed and d.shared for d in decisions)
    stats: dict[str, Any] = await client.info("commandstats")
    assert stats["cmdstat_script|load"]["calls"] == 2
    assert stats["cmdstat_evalsha"]["calls"] >= 100


# --- RateLimiter: the fallback, on an injected clock --------------------------------------------


class FlakyRedis:
    """Stands in for `RedisGcra`: fails while `down`, counts the calls it gets, notes the charges."""

    def __init__(self, clock: FakeClock) -> None:
        self.down = True
        self.calls = 0
        self.shared = LocalGcra(clock)
        self.error: Exception = redis.ConnectionError("Connection refused")
        self.hold: asyncio.Event | None = None  # the next call hangs until set, then fails
        self.charge_hold: asyncio.Event | None = None  # the next charge waits until set, then goes on
        self.charges: list[dict[str, int]] = []

    async def charge(self, owed: Mapping[str, int]) -> None:
        self.calls += 1
        if self.charge_hold is not None:
            hold, self.charge_hold = self.charge_hold, None
            await hold.wait()
        if self.down:
            raise self.error
        self.charges.append(dict(owed))
        self.shared.charge(owed)

    async def acquire(self, buckets: Sequence[Bucket], cost: int = 1) -> Decision:
        self.calls += 1
        if self.hold is not None:
            hold, self.hold = self.hold, None
            await hold.wait()
            raise self.error
        if self.down:
            raise self.error
        local = self.shared.acquire(buckets, cost)
        return Decision(local.allowed, local.retry_after_s, local.remaining, shared=True)


async def test_without_redis_the_full_limit_applies_locally() -> None:
    limiter = RateLimiter(None, replicas=4)
    bucket = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=100))
    decisions = [await limiter.acquire([bucket]) for _ in range(150)]
    assert sum(d.allowed for d in decisions) == 100
    assert not any(d.shared for d in decisions)


async def test_an_outage_falls_back_to_a_share_probes_once_a_second_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tidegate.ratelimit")
    clock = FakeClock()
    flaky = FlakyRedis(clock)
    limiter = RateLimiter(flaky, replicas=4, clock=clock)
    bucket = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=100))
    decisions = await asyncio.gather(*(limiter.acquire([bucket]) for _ in range(100)))
    assert sum(d.allowed for d in decisions) == 25
    assert flaky.calls == 1 and not limiter.shared
    for _ in range(3):  # three probes in three seconds, however many requests
        clock.now += 0.5
        await asyncio.gather(*(limiter.acquire([bucket]) for _ in range(10)))
        clock.now += 0.5
        await asyncio.gather(*(limiter.acquire([bucket]) for _ in range(10)))
    assert flaky.calls == 4  # (each probe: a charge of the 25 admitted alone, refused)
    flaky.down = False
    clock.now += 1.0
    back = await asyncio.gather(*(limiter.acquire([bucket]) for _ in range(150)))
    assert not back[0].shared and all(d.shared for d in back[1:]) and limiter.shared  # [0]: the probe
    # The 25 admitted alone: 25 intervals of the share (40 s) less the 4 s since, ÷ 4 replicas.
    assert flaky.charges == [{"rl:global": (25 * 40 - 4) * 1_000_000 // 4}]
    assert sum(d.allowed for d in back if d.shared) == 75  # the shared bucket, less what was spent alone
    messages = [r.getMessage() for r in caplog.records if r.name == "tidegate.ratelimit"]
    assert len(messages) == 2
    assert messages[0].startswith("Redis unreachable (ConnectionError: Connection refused)")
    assert messages[1] == "Redis answers again: rate limits are shared again"


async def test_a_call_stuck_since_before_recovery_does_not_flip_the_limiter_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tidegate.ratelimit")
    clock = FakeClock()
    flaky = FlakyRedis(clock)
    limiter = RateLimiter(flaky, replicas=4, clock=clock)
    bucket = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=100))
    release = asyncio.Event()
    flaky.down, flaky.hold = False, release
    stuck = asyncio.create_task(limiter.acquire([bucket]))  # hangs from before the outage
    await asyncio.sleep(0)
    flaky.down = True
    assert not (await limiter.acquire([bucket])).shared  # the outage begins
    flaky.down = False
    clock.now += 1.0
    assert not (await limiter.acquire([bucket])).shared  # the probe, answered locally...
    assert limiter.shared  # ...finds Redis back
    release.set()
    assert not (await stuck).shared  # the stuck call fails and answers locally...
    assert limiter.shared  # ...without sending the limiter back to local
    assert len([r for r in caplog.records if r.name == "tidegate.ratelimit"]) == 2


async def test_the_way_back_charges_what_each_replica_admitted_alone_so_the_fleet_keeps_the_limit() -> None:
    """Four replicas on one stand-in Redis that comes back empty: 25 each alone, then nothing more
    (the old way back admitted a fresh shared burst of 100 on top)."""
    clock = FakeClock()
    flaky = FlakyRedis(clock)
    fleet = [RateLimiter(flaky, replicas=4, clock=clock) for _ in range(4)]
    bucket = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=100))
    alone = [await limiter.acquire([bucket]) for limiter in fleet for _ in range(50)]
    assert (sum(d.allowed for d in alone), sum(d.shared for d in alone)) == (100, 0)
    flaky.down = False
    clock.now += 1.0
    probes = [await limiter.acquire([bucket]) for limiter in fleet]
    assert [(d.allowed, d.shared) for d in probes] == [(False, False)] * 4  # local: the shares are spent
    assert all(limiter.shared for limiter in fleet)
    # Each: 25 intervals of the share (40 s) less the 1 s since, ÷ 4 replicas.
    assert flaky.charges == [{"rl:global": (25 * 40 - 1) * 1_000_000 // 4}] * 4
    back = [await limiter.acquire([bucket]) for _ in range(50) for limiter in fleet]
    assert (sum(d.allowed for d in back), sum(d.shared for d in back)) == (0, 200)
    clock.now += 10.0  # one interval of the whole limit: room for one more request, fleet-wide
    assert sum([(await limiter.acquire([bucket])).allowed for limiter in fleet]) == 1


async def test_what_is_admitted_alone_while_the_probe_charges_is_charged_before_the_switch() -> None:
    clock = FakeClock()
    flaky = FlakyRedis(clock)
    limiter = RateLimiter(flaky, replicas=4, clock=clock)
    bucket = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=100))
    assert sum([(await limiter.acquire([bucket])).allowed for _ in range(10)]) == 10  # alone
    release = asyncio.Event()
    flaky.down, flaky.charge_hold = False, release
    clock.now += 1.0
    probe = asyncio.create_task(limiter.acquire([bucket]))
    await asyncio.sleep(0)  # the probe (the 11th alone) now waits on its charge
    meanwhile = [await limiter.acquire([bucket]) for _ in range(5)]
    assert [(d.allowed, d.shared) for d in meanwhile] == [(True, False)] * 5
    release.set()
    assert (await probe).allowed and limiter.shared
    # First the 11 (of 40 s each, less the 1 s since), then the 5 that came while it charged.
    assert flaky.charges == [{"rl:global": (11 * 40 - 1) * 250_000}, {"rl:global": 5 * 40 * 250_000}]
    after = [await limiter.acquire([bucket]) for _ in range(100)]
    assert (sum(d.allowed for d in after), sum(d.shared for d in after)) == (84, 100)  # 100 - 16, rounded


async def test_a_failed_charge_keeps_the_replica_alone_and_owing_and_nothing_is_charged_twice() -> None:
    clock = FakeClock()
    flaky = FlakyRedis(clock)
    limiter = RateLimiter(flaky, replicas=4, clock=clock)
    bucket = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=100))
    assert sum([(await limiter.acquire([bucket])).allowed for _ in range(3)]) == 3  # alone
    clock.now += 1.0
    assert (await limiter.acquire([bucket])).allowed  # the probe: a 4th alone; its charge fails
    assert flaky.charges == [] and not limiter.shared
    flaky.down = False
    clock.now += 1.0
    assert (await limiter.acquire([bucket])).allowed  # the next probe: a 5th, then all 5 charged
    assert limiter.shared
    flaky.down = True
    assert not (await limiter.acquire([bucket])).shared  # a second outage: a 6th alone
    flaky.down = False
    clock.now += 1.0
    assert (await limiter.acquire([bucket])).allowed  # a 7th; the probe charges the 6th and 7th only
    assert limiter.shared
    assert flaky.charges == [{"rl:global": (5 * 40 - 2) * 250_000}, {"rl:global": 2 * 40 * 250_000}]


async def test_a_caller_mistake_is_not_an_outage() -> None:
    flaky = FlakyRedis(FakeClock())
    flaky.error = ValueError("cost must be at least 1")
    limiter = RateLimiter(flaky, replicas=4)
    with pytest.raises(ValueError):
        await limiter.acquire([Bucket("rl:global", Limit(rate_per_s=SLOW, burst=1))])
    assert limiter.shared


async def test_a_hung_redis_costs_one_short_timeout_then_nothing() -> None:
    server = start_redis()
    client = redis_client(server.url, timeout_s=0.05)
    limiter = RateLimiter(RedisGcra(client), replicas=4)
    bucket = Bucket("rl:global", Limit(rate_per_s=SLOW, burst=100))
    try:
        assert (await limiter.acquire([bucket])).shared
        server.proc.send_signal(signal.SIGSTOP)  # accepts nothing, answers nothing
        started = time.monotonic()
        hung = await asyncio.gather(*(limiter.acquire([bucket]) for _ in range(100)))
        waited = time.monotonic() - started
        after = await asyncio.gather(*(limiter.acquire([bucket]) for _ in range(100)))
    finally:
        server.proc.send_signal(signal.SIGCONT)
        await client.aclose()
        server.stop()
    assert sum(d.allowed for d in hung + after) == 25 and not any(d.shared for d in hung + after)
    assert waited < 1.0  # about one 50 ms timeout, not redis-py's default retries with backoff


# --- four BFF-like processes on one real redis-server -----------------------------------------------

# Redis timeouts for the fleet (socket, deadline and the wait for a pooled connection): these
# tests count what is shared, and an outage here is a stopped redis-server (refused at once), so no
# lag of a busy machine may pass for one. Fail-fast timeouts have their own test above
# (`test_a_hung_redis_costs_one_short_timeout_then_nothing`).
PATIENT_S = 60.0
HUNG_S = 300.0  # a worker silent this long is hung, not slow: the test fails instead of waiting on
FLEET_RATE = SLOW / 100  # one token per 1,000 s: nothing refills in the life of a fleet test


class Fleet:
    """Worker processes (`tests.support.ratelimit_worker`), each a RateLimiter with its own event loop."""

    def __init__(self, port: int, *, size: int = 4, burst: int = 100, probe_interval_s: float = 1.0) -> None:
        cmd = [sys.executable, "-m", "tests.support.ratelimit_worker", str(port), str(size)]
        cmd += [str(FLEET_RATE), str(burst), str(probe_interval_s), str(PATIENT_S), str(PATIENT_S)]
        self.procs = [
            subprocess.Popen(
                cmd,
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                preexec_fn=die_with_parent,
            )
            for _ in range(size)
        ]
        assert [self._read(proc) for proc in self.procs] == [{"ready": True}] * size

    def fire(self, key: str, n: int) -> list[dict[str, int]]:
        """Every worker fires `n` concurrent acquires on `key` at the same moment."""
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{key} {n}\n")
            proc.stdin.flush()
        return [self._read(proc) for proc in self.procs]

    def _read(self, proc: subprocess.Popen[str]) -> Any:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], HUNG_S)
        assert ready, "worker hung"
        return json.loads(proc.stdout.readline())

    def close(self) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _restart_redis(port: int) -> RedisProcess:
    """The same port again, as after a Redis restart (empty: no data, no script cache)."""
    binary = shutil.which("redis-server")
    assert binary is not None
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(
        [binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent
    )
    probe = redis.Redis(port=port, socket_timeout=0.5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if probe.ping():
                return RedisProcess(port, proc)
        except redis.ConnectionError:
            time.sleep(0.05)
    stop([proc])
    raise RuntimeError("redis-server did not restart")


def _total(results: list[dict[str, int]], field: str) -> int:
    return sum(result[field] for result in results)


def _counts(results: list[dict[str, int]]) -> tuple[int, int, int]:
    """(admitted, shared, errors) over the fleet."""
    return _total(results, "admitted"), _total(results, "shared"), _total(results, "errors")


def test_four_processes_share_one_limit() -> None:
    server = start_redis()
    fleet = Fleet(server.port)
    try:
        results = fleet.fire("rl:global", 200)
    finally:
        fleet.close()
        server.stop()
    assert _counts(results) == (100, 800, 0)


def test_redis_stopped_mid_test_each_process_keeps_its_share_and_returns_to_the_shared_limit() -> None:
    """One key, as in service (`rl:global`), across an outage and a restart that empties Redis.

    Before: the shared limit, 100. Down: a quarter each, 100 more (the one window of local shares
    the fallback may add). Back: each replica's probe (answered locally) charges its 25 to the
    shared bucket before the replica admits from it, so the window has nothing left: 0 admitted
    after recovery, where the old way back admitted a fresh shared burst of 100.
    """
    server = start_redis()
    fleet = Fleet(server.port)
    try:
        assert _counts(fleet.fire("rl:global", 200)) == (100, 800, 0)
        server.stop()
        during = fleet.fire("rl:global", 200)
        assert [(r["admitted"], r["shared"], r["errors"]) for r in during] == [(25, 0, 0)] * 4
        server = _restart_redis(server.port)
        time.sleep(1.2)  # past the probe interval: the next request of each replica probes
        probes = fleet.fire("rl:global", 1)
        assert [(r["admitted"], r["shared"], r["back"]) for r in probes] == [(0, 0, 1)] * 4
        assert _counts(fleet.fire("rl:global", 200)) == (0, 800, 0)
        assert _counts(fleet.fire("rl:after", 200)) == (100, 800, 0)  # a key the outage never saw
    finally:
        fleet.close()
        server.stop()
