"""roles.yaml: the role -> scope table, checked at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.auth import AuthConfigError
from gateway.auth.roles import load_roles


def test_the_roles_and_their_scopes() -> None:
    roles = load_roles()
    assert {name: set(role.scopes) for name, role in roles.items()} == {
        "agent": {
            "customer:read",
            "ticket:read",
            "network:read",
            "ticket:write",
            "interaction:write",
            "pii:reveal",
        },
        "supervisor": {
            "customer:read",
            "customer:read:any",
            "ticket:read",
            "network:read",
            "pii:unmask",
            "ticket:write",
            "interaction:write",
            "billing:adjust",
            "staff:contact",
            "board:read",
            "outage:declare",
        },
        "auditor": {"audit:read", "network:read"},
        "softphone": {"customer:read", "ticket:read", "network:read"},
    }
    assert (
        roles["agent"].scope
        == "customer:read ticket:read network:read ticket:write interaction:write pii:reveal"
    )
    assert {name for name, role in roles.items() if role.needs_agent_id} == {"agent", "softphone"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("roles: [", "not valid YAML"),
        ("agent: {scopes: [ticket:read]}", "top-level mapping, 'roles'"),
        ("roles: {}", "no roles defined"),
        ("roles: {agent: {scopes: [ticket:reed]}}", r"roles.agent.scopes: unknown \['ticket:reed'\]"),
        ("roles: {agent: {scopes: []}}", "roles.agent.scopes: expected a non-empty list"),
        ("roles: {agent: {scopes: [ticket:read, ticket:read]}}", "listed twice"),
        ("roles: {Agent: {scopes: [ticket:read]}}", "roles.Agent: a role name"),
        ("roles: {agent: {scopes: [ticket:read], admin: true}}", r"unexpected keys \['admin'\]"),
        ("roles: {agent: {scopes: [ticket:read], needs_agent_id: maybe}}", "needs_agent_id"),
    ],
)
def test_a_broken_roles_file_names_the_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(text)
    with pytest.raises(AuthConfigError, match=message) as exc:
        load_roles(path)
    assert str(path) in str(exc.value)


def test_a_missing_roles_file(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError, match="cannot read"):
        load_roles(tmp_path / "nope.yaml")
