"""A per-backend calls-per-second budget, tiered by operation class, beside the bulkhead's cap.

The bulkhead bounds how many calls are in flight; this bounds how many start per second, because
billing serves about 55 calls a second at best whatever the concurrency. Three GCRA buckets are
checked all or nothing (`LocalGcra`), and a call is charged to those of its class:

    critical (and unclassified)   all                          up to max_rps
    normal                        all + noncritical            up to max_rps - critical_reserve_rps
    sheddable                     all + noncritical + shed     up to sheddable_max_rps

so normal work can never take the critical reserve, and sheddable work runs out first. Each bucket's
burst is the full burst scaled by its rate. Non-critical work waits up to `max_wait_s` for a token,
then is shed (`BackendShed`, with the bucket's own retry-after); critical work waits for its token
as long as the operation's deadline allows, and is shed only when the token would come too late.

Where the buckets live: in process by default (one replica; or, with several and no shared store,
each holds `share(replicas)` of the budget). Given a `SharedRate` (the app's `RateLimiter` on Redis),
the buckets are the fleet's, in Redis: every replica draws on the one budget, so a replica the
balancer favours may use what an idle one leaves, and the backend still sees at most the fleet's
rate. While Redis is away the limiter answers from this replica's share of the same buckets and
charges it back on return (`infra.resilience.ratelimit`), so the budget holds throughout.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from infra.deadline import time_left
from infra.resilience.bulkhead import BackendShed, DecisionListener
from infra.resilience.gcra import Bucket, Decision, Limit, LocalGcra
from infra.resilience.priority import CRITICAL, NORMAL, SHEDDABLE, class_label, tier

Sleep = Callable[[float], Awaitable[None]]
SHARED_PREFIX = "rl:backend:"  # the fleet's budget buckets, beside the admission buckets (`rl:`)


class SharedRate(Protocol):
    """Buckets the whole fleet draws on (`RateLimiter`): never raises for a store that is away."""

    async def acquire(self, buckets: Sequence[Bucket], cost: int = 1) -> Decision: ...


@dataclass(frozen=True, slots=True)
class RateBudgetConfig:
    max_rps: float
    critical_reserve_rps: float = 0.0
    sheddable_max_rps: float | None = None  # None: sheddable work shares the normal ceiling
    burst: int = 10  # calls that may start at once from idle (critical tier; the others scale down)
    max_wait_s: float = 0.1  # how long non-critical work may wait for a token before it is shed

    def __post_init__(self) -> None:
        normal = self.max_rps - self.critical_reserve_rps
        checks = {
            "max_rps must be > 0": self.max_rps > 0 and not math.isinf(self.max_rps),
            "critical_reserve_rps must be in [0, max_rps)": 0 <= self.critical_reserve_rps < self.max_rps,
            "sheddable_max_rps must be in (0, max_rps - critical_reserve_rps]": (
                self.sheddable_max_rps is None or 0 < self.sheddable_max_rps <= normal
            ),
            "burst must be >= 1": self.burst >= 1,
            "max_wait_s must be >= 0": self.max_wait_s >= 0,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise ValueError("; ".join(failed))

    def share(self, replicas: int) -> RateBudgetConfig:
        """One replica's part: every rate divided, the burst too (at least 1), so the fleet stays
        within what the backend was promised."""
        if replicas < 1:
            raise ValueError(f"replicas must be >= 1, not {replicas}")
        shed = self.sheddable_max_rps
        return replace(
            self,
            max_rps=self.max_rps / replicas,
            critical_reserve_rps=self.critical_reserve_rps / replicas,
            sheddable_max_rps=None if shed is None else shed / replicas,
            burst=max(1, self.burst // replicas),
        )

    def tiers(self) -> dict[str, Limit]:
        """The buckets by name: `all` always, `noncritical` and `sheddable` only when they bind."""
        normal = self.max_rps - self.critical_reserve_rps
        out = {"all": Limit(self.max_rps, self.burst)}
        if self.critical_reserve_rps > 0:
            out["noncritical"] = self._scaled(normal)
        if self.sheddable_max_rps is not None and self.sheddable_max_rps < normal:
            out["sheddable"] = self._scaled(self.sheddable_max_rps)
        return out

    def _scaled(self, rate: float) -> Limit:
        return Limit(rate, max(1, math.floor(self.burst * rate / self.max_rps)))


class RateBudget:
    """One backend's budget; `acquire` before each call (there is nothing to release)."""

    def __init__(
        self,
        name: str,
        config: RateBudgetConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        on_decision: DecisionListener | None = None,
        shared: SharedRate | None = None,
    ) -> None:
        self.name = name
        self.shared = shared
        self.config = config
        self.on_decision = on_decision
        self.admitted: Counter[str] = Counter()  # by class label, for tests and metrics
        self.shed: Counter[str] = Counter()
        self._clock = clock
        self._sleep = sleep
        self._gcra = LocalGcra(clock)
        self._buckets: dict[str, list[Bucket]] = {}
        self.reconfigure(config)

    def reconfigure(self, config: RateBudgetConfig) -> None:
        """New rates (the fleet changed size). The buckets keep their names, so what was spent stays
        spent: a replica whose share shrinks does not start over with a full burst."""
        self.config = config
        # Each tier is charged to its own bucket and to those of every tier above it.
        limits = config.tiers()
        chain: list[Bucket] = []
        buckets: dict[str, list[Bucket]] = {}
        prefix = SHARED_PREFIX if self.shared is not None else ""
        for level, bucket in ((CRITICAL, "all"), (NORMAL, "noncritical"), (SHEDDABLE, "sheddable")):
            if bucket in limits:
                chain = [*chain, Bucket(f"{prefix}{self.name}:{bucket}", limits[bucket])]
            buckets[level] = chain
        self._buckets = buckets

    def try_acquire(self) -> bool:
        """Take a token now if this replica's own budget has one: the common case, decided without a
        coroutine. False (no token free, or a budget shared by the fleet, which asks Redis): `acquire`
        decides, waiting or shedding as the class allows. A refusal here changes nothing."""
        if self.shared is not None or not self._gcra.acquire(self._buckets[tier()]).allowed:
            return False
        self._admitted(class_label())
        return True

    def _admitted(self, label: str) -> None:
        self.admitted[label] += 1
        if self.on_decision is not None:
            self.on_decision(label, "admitted")

    async def acquire(self) -> None:
        """Take a token for the current operation class, waiting as its class allows, or shed it."""
        label, level = class_label(), tier()
        buckets = self._buckets[level]
        give_up = self._clock() + self.config.max_wait_s
        while True:
            if self.shared is None:
                decision = self._gcra.acquire(buckets)
            else:
                decision = await self.shared.acquire(buckets)
            if decision.allowed:
                self._admitted(label)
                return
            wait = decision.retry_after_s
            if level == CRITICAL:  # waits for its token unless the deadline would pass first
                left = time_left()
                too_late = left is not None and wait >= left
            else:
                too_late = self._clock() + wait > give_up
            if too_late:
                self.shed[label] += 1
                if self.on_decision is not None:
                    self.on_decision(label, "rejected")
                raise BackendShed(
                    self.name,
                    f"calls/s budget (at most {self.config.max_rps:g}) has no token in time for {label} work",
                    retry_after_s=wait,
                )
            await self._sleep(wait)
