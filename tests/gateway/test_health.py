"""`/healthz` is liveness only; `/readyz` is 503 only while the process cannot serve, and `degraded`
(still 200) when a back office or Redis is down, judged by breaker state and the last call."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from starlette.requests import Request

from gateway.app import create_app
from gateway.observability.health import BackendStatus, Health, Phase
from gateway.settings import Settings
from infra.resilience.ratelimit import redis_client
from simulators.launch import free_port
from tests.gateway.conftest import TEST_KEYS, serve, small_schema
from tests.support.redis_server import RedisProcess


def request(**state: Any) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/readyz", "headers": [], "state": state})


async def readyz(health: Health, **state: Any) -> tuple[int, dict[str, Any]]:
    response = await health.readyz(request(**state))
    return response.status_code, orjson.loads(bytes(response.body))


def serving(status: BackendStatus | None = None) -> Health:
    health = Health(status or BackendStatus(), redis_timeout_s=0.5)
    health.phase = Phase.SERVING
    return health


async def test_the_app_is_ready_once_started_and_not_before() -> None:
    settings = Settings()
    app = create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)
    before = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bff.test")
    async with before:
        answer = await before.get("/readyz")
        assert answer.status_code == 503 and answer.json()["status"] == "not_ready"
        assert (await before.get("/healthz")).json() == {"status": "ok"}  # alive all the same
    async with serve(app) as client:
        ready = await client.get("/readyz", headers={"Authorization": ""})  # no token needed
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["checks"]["billing"] == {"status": "up", "breaker": "closed", "last_outcome": None}
    assert set(body["checks"]) == {"billing", "crm", "gis", "workorders"}


async def test_an_open_breaker_or_a_failed_last_call_is_degraded_not_down() -> None:
    status = BackendStatus()
    for name in ("billing", "crm", "gis"):
        status.breaker_state(name, None, "CLOSED")
    status.breaker_state("billing", "CLOSED", "OPEN")
    status.backend_call("crm", "BACKEND_TIMEOUT")
    status.backend_call("gis", "NOT_FOUND")  # a business "no" is the system working
    code, body = await readyz(serving(status))
    assert code == 200 and body["status"] == "degraded"
    assert body["checks"]["billing"]["status"] == "down"
    assert body["checks"]["crm"] == {
        "status": "degraded",
        "breaker": "closed",
        "last_outcome": "BACKEND_TIMEOUT",
    }
    assert body["checks"]["gis"]["status"] == "up"

    status.breaker_state("billing", "OPEN", "HALF_OPEN")
    status.breaker_state("billing", "HALF_OPEN", "CLOSED")
    status.backend_call("billing", "ok")
    status.backend_call("crm", "ok")
    code, body = await readyz(serving(status))
    assert code == 200 and body["status"] == "ready"


async def test_redis_is_pinged(redis_server: RedisProcess) -> None:
    up = redis_client(redis_server.url, timeout_s=0.5)
    down = redis_client(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.1)
    try:
        code, body = await readyz(serving(), redis=up)
        assert code == 200 and body["status"] == "ready" and body["checks"]["redis"] == {"status": "up"}
        code, body = await readyz(serving(), redis=down)
        assert code == 200 and body["status"] == "degraded" and body["checks"]["redis"] == {"status": "down"}
    finally:
        await up.aclose()
        await down.aclose()


async def test_shutting_down_is_not_ready() -> None:
    health = serving()
    health.phase = Phase.STOPPING
    code, body = await readyz(health)
    assert code == 503 and body["phase"] == "stopping"
