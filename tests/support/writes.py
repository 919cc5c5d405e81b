"""One mutation run in process against the real simulators, with a test's own idempotency records (one
BFF process's worth), and the counters the write tests assert on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from strawberry.types import ExecutionResult

from backends.registry import BACKENDS, open_backends
from infra.http.config import BackendConfig
from services.access import Access
from services.context import RequestContext, build_context
from services.idempotency import Idempotency
from tests.conftest import Simulators
from tests.support.admin import stats


async def execute(
    schema: Any,
    sims: Simulators,
    document: str,
    variables: Mapping[str, Any],
    *,
    access: Access,
    idempotency: Idempotency,
    timeouts: Mapping[str, float] | None = None,
    contexts: list[RequestContext] | None = None,
) -> ExecutionResult:
    """Fresh backends and loaders for each request, as a BFF process gives them."""
    configs = {n: BackendConfig(n, sims[n].url, timeout_s=(timeouts or {}).get(n, 5.0)) for n in BACKENDS}
    backends = open_backends(configs)
    try:
        context = build_context(backends, access=access, idempotency=idempotency)
        if contexts is not None:
            contexts.append(context)
        result: ExecutionResult = await schema.execute(
            document, variable_values=dict(variables), context_value=context
        )
        return result
    finally:
        await backends.aclose()


def codes(result: ExecutionResult) -> list[str]:
    return [e.extensions["code"] for e in result.errors or [] if e.extensions]


def extensions(result: ExecutionResult) -> dict[str, Any]:
    """The first error's extensions."""
    assert result.errors and result.errors[0].extensions is not None, result
    return dict(result.errors[0].extensions)


def calls(sims: Simulators, service: str) -> dict[str, int]:
    """Requests each operation of `service` has seen since the test's reset."""
    return {op: s["requests"] for op, s in stats(sims[service].url)["operations"].items()}


def finished(sims: Simulators, service: str, op: str) -> bool:
    """Whether a slow call to `op` has finished in the simulator (a state, never a duration)."""
    found = stats(sims[service].url)["operations"].get(op)
    return bool(found and found["latency_ms"]["max"] > 0)


async def until(condition: Callable[[], bool], attempts: int = 200) -> None:
    """Poll a state: the simulator reports when something slow has finished."""
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")


def get_json(url: str, path: str, **params: Any) -> Any:
    r = httpx.get(f"{url}{path}", params=params)
    r.raise_for_status()
    return r.json()
