"""`/healthz` (liveness) and `/readyz` (readiness): what an orchestrator asks, and what it should do.

`/healthz` answers 200 whenever the process can answer at all: a back office being down must never
get the BFF restarted.

`/readyz` says whether to send this process traffic. 503 `not_ready` only while it cannot serve
(start-up not finished, shutting down). A back office or Redis being down is `degraded`, still 200:
the BFF then serves stale data from the cache and partial screen pops with coded errors, which
beats taking every replica out of the load balancer at once (they all see the same back office).

How each backend is judged, without calling it: its circuit breaker's state and the outcome of the
last call this process made to it (`BackendStatus`, told by the same telemetry as the metrics). A
probe call would load back offices that are already struggling, and a real billing system has no
health endpoint to ask (only the simulators do); live traffic is a better probe than a synthetic
one. A backend is `down` while its breaker is open, `degraded` while half-open or when its last
call failed (timeout, error, breaker refusal), else `up` (also before any call). Redis, when
configured, gets a PING within `readyz_redis_timeout_ms`.

    {"status": "ready" | "degraded" | "not_ready",
     "checks": {"redis": {"status": "up"}, "billing": {"status": "down", "breaker": "open",
                "last_outcome": "BACKEND_TIMEOUT"}, ...}}
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backends.registry import BACKENDS
from infra.redis_client import RedisClient
from infra.telemetry import ignored

logger = logging.getLogger("tidegate.health")

UP: Final = "up"
DEGRADED: Final = "degraded"
DOWN: Final = "down"
# Outcomes that mean the backend failed us (not a shed call, not a business "no").
_FAILED: Final = frozenset({"BACKEND_TIMEOUT", "BACKEND_ERROR", "BACKEND_UNAVAILABLE"})


class Phase(StrEnum):
    STARTING = "starting"
    SERVING = "serving"
    STOPPING = "stopping"


@dataclass
class _Backend:
    breaker: str | None = None  # closed | open | half_open; None: no breaker
    last_outcome: str | None = None  # ok, or the last call's error code; None: no call yet


class BackendStatus:
    """The last known state of each backend, from the backend telemetry (`BackendTelemetry`)."""

    def __init__(self) -> None:
        self._backends: dict[str, _Backend] = {name: _Backend() for name in BACKENDS}

    def backend_call(self, backend: str, outcome: str) -> None:
        self._backends.setdefault(backend, _Backend()).last_outcome = outcome

    @ignored
    def http_request(
        self, backend: str, method: str, status: int | None, error_type: str, duration_s: float
    ) -> None:
        pass

    def breaker_state(self, backend: str, old: str | None, new: str) -> None:
        entry = self._backends.setdefault(backend, _Backend())
        entry.breaker = new.lower()
        if old is None:  # a new client (the app started again): forget the old one's calls
            entry.last_outcome = None

    @ignored
    def rate_decision(self, limiter: str, backend: str, operation_class: str, decision: str) -> None:
        pass

    @ignored
    def cache_result(self, cache: str, result: str) -> None:
        pass

    def checks(self) -> dict[str, dict[str, Any]]:
        return {name: _judge(entry) for name, entry in self._backends.items()}


def _judge(entry: _Backend) -> dict[str, Any]:
    if entry.breaker == "open":
        status = DOWN
    elif entry.breaker == "half_open" or entry.last_outcome in _FAILED:
        status = DEGRADED
    else:
        status = UP
    return {"status": status, "breaker": entry.breaker, "last_outcome": entry.last_outcome}


class Health:
    """The two endpoints, and the phase the lifespan moves through."""

    def __init__(self, backends: BackendStatus, *, redis_timeout_s: float) -> None:
        self.backends = backends
        self.redis_timeout_s = redis_timeout_s
        self.phase = Phase.STARTING

    async def healthz(self, _request: Request) -> Response:
        """Liveness of the process only: a back office being down must not restart the BFF."""
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        if self.phase is not Phase.SERVING:
            return JSONResponse({"status": "not_ready", "phase": str(self.phase), "checks": {}}, 503)
        checks: dict[str, dict[str, Any]] = {}
        redis: RedisClient | None = getattr(request.state, "redis", None)
        if redis is not None:
            checks["redis"] = await self._ping(redis)
        checks |= self.backends.checks()
        ready = all(check["status"] == UP for check in checks.values())
        return JSONResponse({"status": "ready" if ready else "degraded", "checks": checks})

    async def _ping(self, redis: RedisClient) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.redis_timeout_s):
                await redis.ping()
        except Exception as exc:  # down, slow or refusing: degraded, never a 500
            logger.info("readiness: redis did not answer PING (%s)", type(exc).__name__)
            return {"status": DOWN}
        return {"status": UP}
