"""The embedded issuer's registered clients (`TIDEGATE_CLIENTS`) and how they authenticate.

`TIDEGATE_CLIENTS` is a JSON object: client id -> {"secret", "role", "agent_id"?}. The role picks
the token's scopes from roles.yaml; `agent_id` goes into the token for roles that need one (the
softphone bar and the workbench act for one agent at one desk). The defaults are demo clients
with demo secrets: the embedded issuer is for the demo and tests, never production.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from gateway.auth.errors import AuthConfigError
from gateway.auth.roles import Roles


class RegisteredClient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    secret: SecretStr = Field(min_length=8)
    role: str
    agent_id: str | None = Field(default=None, min_length=1, max_length=64)


def demo_clients() -> dict[str, RegisteredClient]:
    """One client per kind of caller, with secrets printed in docs/security.md (demo only)."""
    return {
        "softphone": RegisteredClient(
            secret=SecretStr("softphone-demo-secret"), role="softphone", agent_id="A1001"
        ),
        "workbench-agent": RegisteredClient(
            secret=SecretStr("workbench-agent-demo-secret"), role="agent", agent_id="A1001"
        ),
        "workbench-supervisor": RegisteredClient(
            secret=SecretStr("workbench-supervisor-demo-secret"), role="supervisor", agent_id="S2001"
        ),
        "audit-console": RegisteredClient(secret=SecretStr("audit-console-demo-secret"), role="auditor"),
    }


def check_clients(clients: Mapping[str, RegisteredClient], roles: Roles) -> None:
    """At start-up: every client's role exists, and carries an agent id where the role needs one."""
    for client_id, client in clients.items():
        if client.role not in roles:
            raise AuthConfigError(
                f"TIDEGATE_CLIENTS: {client_id}: unknown role {client.role!r} (one of {', '.join(roles)})"
            )
        if roles[client.role].needs_agent_id and client.agent_id is None:
            raise AuthConfigError(f"TIDEGATE_CLIENTS: {client_id}: role {client.role} needs an agent_id")


_NO_SUCH_CLIENT = SecretStr("\x00" * 32)


def authenticate_client(
    clients: Mapping[str, RegisteredClient], client_id: str, secret: str
) -> RegisteredClient | None:
    """The client if the secret matches; compared in constant time, known client or not."""
    client = clients.get(client_id)
    expected = (client.secret if client else _NO_SUCH_CLIENT).get_secret_value().encode()
    matches = hmac.compare_digest(expected, secret.encode())
    return client if client is not None and matches else None
