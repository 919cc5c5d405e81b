from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from backends.registry import BACKENDS, open_backends
from infra.http.config import BackendConfig
from schema import build_schema
from services.access import CUSTOMER_READ_ANY, NETWORK_READ, PII_UNMASK, TICKET_READ, Access, Principal
from services.context import RequestContext, build_context
from tests.conftest import Simulators
from tests.support.clocks import FakeClock

Run = Callable[..., Awaitable[ExecutionResult]]

# These tests check the data against the world: a supervisor who may read and unmask everything.
SUPERVISOR = Principal(
    subject="sup-test",
    client_id="tests",
    role="supervisor",
    scopes=frozenset({CUSTOMER_READ_ANY, PII_UNMASK, TICKET_READ, NETWORK_READ}),
)


@pytest.fixture(scope="session")
def schema() -> Any:
    return build_schema()


@pytest.fixture
def run(clean_sims: Simulators, schema: Any) -> Run:
    """Execute a document in-process against the simulators, over real HTTP, with fresh loaders."""

    async def execute(
        query: str,
        variables: Mapping[str, Any] | None = None,
        timeouts: Mapping[str, float] | None = None,
        access: Access | None = None,
        contexts: list[RequestContext] | None = None,
    ) -> ExecutionResult:
        configs = {
            n: BackendConfig(n, clean_sims[n].url, timeout_s=(timeouts or {}).get(n, 5.0)) for n in BACKENDS
        }
        backends = open_backends(configs)
        try:
            context = build_context(backends, access=access or Access(SUPERVISOR))
            if contexts is not None:
                contexts.append(context)  # so a test can read the request's audit trail
            result: ExecutionResult = await schema.execute(
                query, variable_values=dict(variables or {}), context_value=context
            )
            return result
        finally:
            await backends.aclose()

    return execute


@pytest.fixture
def clock() -> FakeClock:
    """The idempotency store's clock, moved by hand: a settle period passes without waiting for it."""
    return FakeClock(1_000_000.0)
