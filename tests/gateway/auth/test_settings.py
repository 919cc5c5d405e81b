"""The auth settings: safe defaults, and unsafe values refused with the setting's name."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.settings import Settings


def test_defaults() -> None:
    s = Settings()
    assert (s.auth.jwks_url, s.auth.local_issuer, s.auth.token_leeway_s, s.auth.token_ttl_s) == (
        None,
        False,
        60,
        900,
    )
    assert s.auth.token_algorithms == ("ES256", "RS256")
    assert (s.auth.local_issuer_key_path, s.auth.local_issuer_algorithm) == (
        Path(".tidegate/issuer-key.pem"),
        "ES256",
    )
    assert {name: c.role for name, c in s.auth.clients.items()} == {
        "softphone": "softphone",
        "workbench-agent": "agent",
        "workbench-supervisor": "supervisor",
        "audit-console": "auditor",
    }
    assert "demo-secret" not in repr(s.auth.clients)  # secrets never reach a log line


@pytest.mark.parametrize(
    ("value", "expected"),
    [("RS256", ("RS256",)), ("ES256, RS256", ("ES256", "RS256")), ('["ES256"]', ("ES256",))],
)
def test_algorithms_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: tuple[str]
) -> None:
    monkeypatch.setenv("TIDEGATE_TOKEN_ALGORITHMS", value)
    assert Settings().auth.token_algorithms == expected


def test_the_client_registry_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TIDEGATE_CLIENTS", '{"desk-7": {"secret": "s3cret-s3cret", "role": "agent", "agent_id": "A0007"}}'
    )
    (client,) = Settings().auth.clients.values()
    assert (client.role, client.agent_id, client.secret.get_secret_value()) == (
        "agent",
        "A0007",
        "s3cret-s3cret",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIDEGATE_TOKEN_ALGORITHMS", "HS256"),
        ("TIDEGATE_TOKEN_ALGORITHMS", "none"),
        ("TIDEGATE_TOKEN_LEEWAY_S", "61"),
        ("TIDEGATE_TOKEN_TTL_S", "86400"),
        ("TIDEGATE_JWKS_URL", "idp.intranet/jwks.json"),
        ("TIDEGATE_LOCAL_ISSUER_ALGORITHM", "HS256"),
        ("TIDEGATE_CLIENTS", '{"x": {"secret": "short", "role": "agent"}}'),
    ],
)
def test_unsafe_values_are_refused_with_the_setting_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("TIDEGATE_").lower()):
        Settings()
