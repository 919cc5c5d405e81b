"""Settings come from `TIDEGATE_*` variables and become the four backends' configs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backends.config import BackendConfig
from gateway.settings import Settings


def test_defaults() -> None:
    s = Settings()
    assert (s.host, s.port, s.graphiql, s.log_level) == ("127.0.0.1", 8000, True, "INFO")
    assert (s.max_query_depth, s.max_aliases, s.max_tokens, s.max_body_bytes) == (12, 30, 2_000, 65_536)
    assert s.backend_configs() == {
        "billing": BackendConfig("billing", "http://127.0.0.1:8101", timeout_s=1.5, max_connections=50),
        "crm": BackendConfig("crm", "http://127.0.0.1:8102", timeout_s=1.0, max_connections=50),
        "gis": BackendConfig("gis", "http://127.0.0.1:8103", timeout_s=1.0, max_connections=50),
        "workorders": BackendConfig("workorders", "http://127.0.0.1:8104", timeout_s=1.0, max_connections=50),
    }


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
    assert configs["billing"] == BackendConfig("billing", "http://billing.intranet:8080", 2.5, 50)
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
