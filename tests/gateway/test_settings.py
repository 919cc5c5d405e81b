"""Settings come from `TIDEGATE_*` variables and become the four backends' configs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from backends.registry import BACKENDS, open_backends
from gateway.app import StartRefused, create_app
from gateway.settings import BillingSettings, Settings
from infra.http.config import BackendConfig
from infra.redis_client import RedisTarget
from services.context import build_context
from tests.gateway.conftest import small_schema
from tests.gateway.settings_contract import VARIABLES, variables


def test_every_variable_keeps_its_name_type_bounds_and_default() -> None:
    """Users set these names: the composition reads exactly today's variables, typed and bounded alike."""
    assert variables(Settings) == VARIABLES


def test_defaults() -> None:
    s = Settings()
    assert (s.serving.host, s.serving.port, s.serving.graphiql, s.serving.log_level) == (
        "127.0.0.1",
        8000,
        False,
        "INFO",
    )
    assert (s.limits.max_query_depth, s.limits.max_aliases, s.limits.max_tokens, s.limits.max_body_bytes) == (
        12,
        30,
        2_000,
        65_536,
    )
    configs = s.backend_configs()
    assert {n: (c.base_url, c.timeout_s, c.max_connections) for n, c in configs.items()} == {
        "billing": ("http://127.0.0.1:8101", 1.5, 50),
        "crm": ("http://127.0.0.1:8102", 1.0, 50),
        "gis": ("http://127.0.0.1:8103", 1.0, 50),
        "workorders": ("http://127.0.0.1:8104", 1.0, 50),
    }
    billing = configs["billing"].breaker
    assert billing is not None  # open at 10% of >= 20 calls in the last 10 s
    assert (billing.sliding_window_size, billing.minimum_number_of_calls, billing.failure_rate_threshold) == (
        10,
        20,
        10.0,
    )
    assert Settings(breakers=False).backend_configs()["billing"].breaker is None


def test_production_defaults_limit_cost_and_free_form_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDEGATE_PERSISTED_ONLY", raising=False)  # the suite's conftest turns it off
    s = Settings()
    assert (s.limits.max_fragments, s.limits.max_spreads, s.limits.max_fields, s.limits.max_cost) == (
        32,
        64,
        300,
        20_000,
    )
    assert (s.limits.cost_page_cap, s.limits.cost_list_size, s.limits.validate_inline_max_fields) == (
        50,
        10,
        50,
    )
    assert s.limits.parse_inline_max_chars == 1_024
    assert s.persisted.persisted_only is True  # agents and the softphone send ids
    assert s.persisted.persisted_free_form_roles == "supervisor,developer"  # GraphiQL's users


def test_environment_with_the_tidegate_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDEGATE_PORT", "9000")
    monkeypatch.setenv("TIDEGATE_GRAPHIQL", "false")
    monkeypatch.setenv("TIDEGATE_LOG_LEVEL", "debug")
    monkeypatch.setenv("TIDEGATE_BILLING_URL", "http://billing.intranet:8080/")
    monkeypatch.setenv("TIDEGATE_BILLING_TIMEOUT_S", "2.5")
    monkeypatch.setenv("TIDEGATE_GIS_MAX_CONNECTIONS", "8")
    monkeypatch.setenv("PORT", "1234")  # unprefixed variables are not ours
    s = Settings()
    assert (s.serving.port, s.serving.graphiql, s.serving.log_level) == (9000, False, "DEBUG")
    configs = s.backend_configs()
    billing = configs["billing"]
    assert (billing.base_url, billing.timeout_s) == ("http://billing.intranet:8080", 2.5)
    assert configs["gis"].max_connections == 8


def test_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDEGATE_PORT", "9000")
    assert Settings(port=9100).serving.port == 9100


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIDEGATE_CRM_URL", "crm.intranet:8102"),
        ("TIDEGATE_CRM_TIMEOUT_S", "0"),
        ("TIDEGATE_PORT", "http"),
        ("TIDEGATE_MAX_BODY_BYTES", "-1"),
        ("TIDEGATE_LOG_LEVEL", "chatty"),
    ],
)
def test_bad_values_are_refused_with_the_field_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("TIDEGATE_").lower()):
        Settings()


def test_settings_are_frozen() -> None:
    with pytest.raises(ValidationError):
        Settings().serving.port = 1  # type: ignore[misc]


def test_billing_budgets_and_retries_by_default() -> None:
    configs = Settings().backend_configs()
    billing = configs["billing"]
    assert billing.rate is not None and billing.bulkhead is not None
    assert (billing.rate.max_rps, billing.rate.critical_reserve_rps, billing.rate.sheddable_max_rps) == (
        50.0,
        15.0,
        20.0,
    )
    assert (billing.bulkhead.max_concurrent, billing.bulkhead.reserved_for_critical) == (16, 4)
    assert billing.bulkhead.sheddable_max_concurrent == 8
    assert all(c.retry is not None and c.retry.budget_ratio == 0.1 for c in configs.values())
    assert all(c.rate is None and c.bulkhead is None for n, c in configs.items() if n != "billing")


def test_the_rps_budget_is_the_fleets_and_each_replica_takes_its_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The configs are what the whole fleet promised billing; each replica divides them by the
    replicas sharing them now (`infra.fleet`, applied in the app: tests/e2e/test_fleet.py)."""
    monkeypatch.setenv("TIDEGATE_REPLICAS", "2")
    monkeypatch.setenv("TIDEGATE_BILLING_MAX_RPS", "60")
    monkeypatch.setenv("TIDEGATE_RETRY_MAX_ATTEMPTS", "3")
    configs = Settings().backend_configs()
    rate, retry = configs["billing"].rate, configs["crm"].retry
    assert rate is not None and (rate.max_rps, rate.critical_reserve_rps, rate.burst) == (60.0, 15.0, 10)
    half = rate.share(2)
    assert (half.max_rps, half.critical_reserve_rps, half.burst) == (30.0, 7.5, 5)
    assert retry is not None and retry.max_attempts == 3


def test_retries_can_be_switched_off_alone() -> None:
    configs = Settings(retries=False).backend_configs()
    assert all(c.retry is None for c in configs.values())
    assert configs["billing"].rate is not None


def test_without_protection_calls_pass_straight_through() -> None:
    for config in Settings(protection=False).backend_configs().values():
        assert (config.rate, config.bulkhead, config.retry, config.breaker) == (None, None, None, None)


@pytest.mark.parametrize(
    "knobs",
    [
        {"billing_critical_reserve_rps": 50.0},  # nothing left for normal work
        {"billing_sheddable_max_rps": 40.0},  # above the normal ceiling (50 - 15)
        {"billing_sheddable_max_concurrent": 13},  # above the normal ceiling (16 - 4)
    ],
)
def test_inconsistent_budgets_fail_when_the_backends_are_built(knobs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Settings(**knobs).backend_configs()


@pytest.mark.parametrize("name", ["TIDEGATE_RETRY_MAX_ATTEMPTS", "TIDEGATE_BILLING_MAX_RPS"])
def test_bad_surge_knobs_are_refused(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "0")
    with pytest.raises(ValidationError, match=name.removeprefix("TIDEGATE_").lower()):
        Settings()


async def test_free_text_is_kept_as_typed_unless_redaction_at_write_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The back office is the record: off by default; the request context reads it from the app's state."""
    assert Settings().writes.redact_free_text_at_write is False
    monkeypatch.setenv("TIDEGATE_REDACT_FREE_TEXT_AT_WRITE", "true")
    on = Settings()
    assert on.writes.redact_free_text_at_write is True
    backends = open_backends({n: BackendConfig(n, "http://127.0.0.1:9") for n in BACKENDS})  # never called
    try:
        state = SimpleNamespace(redact_free_text_at_write=on.writes.redact_free_text_at_write)
        assert build_context(backends, request=SimpleNamespace(state=state)).redact_free_text_at_write
        bare = SimpleNamespace(state=SimpleNamespace())
        assert build_context(backends, request=bare).redact_free_text_at_write is False
    finally:
        await backends.aclose()


def test_flat_keywords_reach_their_component_and_components_can_be_given_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A keyword is the variable's name without `TIDEGATE_`; the environment still applies beneath."""
    monkeypatch.setenv("TIDEGATE_CRM_TIMEOUT_S", "0.5")
    s = Settings(billing_timeout_s=5.0, cache=False, persisted_only=False)
    assert (s.billing.timeout_s, s.crm.timeout_s, s.persisted.persisted_only) == (5.0, 0.5, False)
    assert s.cache.cache is False and not s.cache_on()
    given = Settings(billing=BillingSettings(max_rps=30.0), port=9100)
    assert (given.billing.max_rps, given.billing.timeout_s, given.serving.port) == (30.0, 1.5, 9100)
    with pytest.raises(ValidationError):
        given.billing = BillingSettings()  # type: ignore[misc]


def test_shared_redis_as_a_url_a_sentinel_set_or_cluster_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three ways to give the replicas' Redis, one `configured` and one `target` for all of them."""
    assert not Settings().redis.configured and Settings().redis.target() == RedisTarget()
    url = Settings(redis_url="redis://127.0.0.1:6379/0").redis
    assert url.configured and url.target().kind == "url"
    monkeypatch.setenv("TIDEGATE_REDIS_CLUSTER_NODES", "127.0.0.1:7000, 127.0.0.1:7001,")
    cluster = Settings().redis
    assert cluster.configured
    assert cluster.target().cluster_nodes == (("127.0.0.1", 7000), ("127.0.0.1", 7001))
    monkeypatch.delenv("TIDEGATE_REDIS_CLUSTER_NODES")
    monkeypatch.setenv("TIDEGATE_REDIS_SENTINELS", "10.0.0.1:26379,10.0.0.2:26379")
    monkeypatch.setenv("TIDEGATE_REDIS_SENTINEL_MASTER", "tidegate")
    sentinel = Settings().redis.target()
    assert (sentinel.kind, sentinel.sentinel_master) == ("sentinel", "tidegate")
    assert sentinel.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26379))


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"redis_url": "redis://127.0.0.1:6379/0", "redis_cluster_nodes": "127.0.0.1:7000"},
            "TIDEGATE_REDIS_URL and TIDEGATE_REDIS_CLUSTER_NODES are both set",
        ),
    ],
)
def test_cluster_or_sentinel_settings_that_cannot_be_used_refuse_to_start(
    given: dict[str, str], message: str
) -> None:
    settings = Settings(**given)
    with pytest.raises(StartRefused, match=message):
        create_app(settings, schema=small_schema(settings))


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"redis_cluster_nodes": "127.0.0.1"}, "'127.0.0.1' is not host:port"),
        ({"redis_sentinels": "sentinel:port"}, "'sentinel:port' is not host:port"),
    ],
)
def test_sentinel_or_cluster_nodes_that_are_not_host_port_are_refused_as_settings(
    given: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**given)
