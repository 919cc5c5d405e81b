from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from backends.config import BackendConfig
from backends.registry import BACKENDS, Backends
from resolvers.context import build_context
from schema import build_schema
from tests.conftest import Simulators

Run = Callable[..., Awaitable[ExecutionResult]]


@pytest.fixture(scope="session")
def schema() -> Any:
    return build_schema()


@pytest.fixture
def run(clean_sims: Simulators, schema: Any) -> Run:
    """Execute a document in-process against the simulators, over real HTTP, with fresh loaders."""

    async def execute(
        query: str, variables: Mapping[str, Any] | None = None, timeouts: Mapping[str, float] | None = None
    ) -> ExecutionResult:
        configs = {
            n: BackendConfig(n, clean_sims[n].url, timeout_s=(timeouts or {}).get(n, 5.0)) for n in BACKENDS
        }
        backends = Backends.open(configs)
        try:
            result: ExecutionResult = await schema.execute(
                query, variable_values=dict(variables or {}), context_value=build_context(backends)
            )
            return result
        finally:
            await backends.aclose()

    return execute
