"""Settings come from `TIDEGATE_*` variables and become the four backends' configs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import Settings


def test_defaults() -> None:
    s = Settings()
    assert (s.host, s.port, s.graphiql, s.log_level) == ("127.0.0.1", 8000, True, "INFO")
    assert (s.max_query_depth, s.max_aliases, s.max_tokens, s.max_body_bytes) == (12, 30, 2_000, 65_536)
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


def test_environment_with_the_tidegate_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDEGATE_PORT", "9000")
    monkeypatch.setenv("TIDEGATE_GRAPHIQL", "false")
    monkeypatch.setenv("TIDEGATE_LOG_LEVEL", "debug")
    monkeypatch.setenv("TIDEGATE_BILLING_URL", "http://billing.intranet:8080/")
    monkeypatch.setenv("TIDEGATE_BILLING_TIMEOUT_S", "2.5")
    monkeypatch.setenv("TIDEGATE_GIS_MAX_CONNECTIONS", "8")
    monkeypatch.setenv("PORT", "1234")  # unprefixed variables are not ours
    s = Settings()
    assert (s.port, s.graphiql, s.log_level) == (9000, False, "DEBUG")
    configs = s.backend_configs()
    billing = configs["billing"]
    assert (billing.base_url, billing.timeout_s) == ("http://billing.intranet:8080", 2.5)
    assert configs["gis"].max_connections == 8


def test_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDEGATE_PORT", "9000")
    assert Settings(port=9100).port == 9100


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
        Settings().port = 1  # type: ignore[misc]
