"""A backend that keeps failing trips its breaker: later calls are refused at once, not sent."""

from __future__ import annotations

import pytest

from backends.billing.client import BillingClient
from backends.registry import BACKENDS, open_backends
from infra.http.config import BackendConfig
from infra.resilience import BreakerConfig, SlidingWindowType
from schema import build_schema
from services.access import Access
from services.context import build_context
from tests.conftest import Simulators
from tests.services.conftest import SUPERVISOR
from tests.support.admin import set_faults, stats
from tests.support.world import seeded_world

BREAKER = BreakerConfig(
    sliding_window_type=SlidingWindowType.COUNT_BASED,
    sliding_window_size=5,
    minimum_number_of_calls=5,
    failure_rate_threshold=50.0,
    wait_duration_in_open_state_s=60.0,
)
QUERY = "query($n: String!) { account(accountNo: $n) { holderName } }"


@pytest.mark.parametrize("fault", [{"error_rate": 1.0}, {"garble_rate": 1.0}])
async def test_billing_failures_open_its_breaker(clean_sims: Simulators, fault: dict[str, float]) -> None:
    set_faults(clean_sims["billing"].url, **fault)
    configs = {n: BackendConfig(n, clean_sims[n].url, breaker=BREAKER) for n in BACKENDS}
    backends = open_backends(configs)
    schema = build_schema()
    accounts = [a.account_no for a in seeded_world().accounts[:8]]
    codes = []
    try:
        for number in accounts:
            result = await schema.execute(
                QUERY,
                variable_values={"n": number},
                context_value=build_context(backends, access=Access(SUPERVISOR)),
            )
            assert result.errors, result
            codes.append(result.errors[0].extensions)
    finally:
        await backends.aclose()
    assert [c["code"] for c in codes] == ["BACKEND_ERROR"] * 5 + ["BACKEND_UNAVAILABLE"] * 3  # type: ignore[index]
    assert all(c["retryAfter"] >= 1 for c in codes[5:])  # type: ignore[index]
    # The three refused calls never reached billing.
    assert stats(clean_sims["billing"].url)["operations"]["GetAccounts"]["requests"] == 5
    billing = backends.billing
    assert isinstance(billing, BillingClient)  # the real client `open` built, behind its port
    assert billing._http.breaker is not None
    assert billing._http.breaker.state.name == "OPEN"
