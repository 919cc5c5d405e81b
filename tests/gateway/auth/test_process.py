"""Auth over real HTTP: `tidegate serve` as its own process, `tidegate token` as a command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from gateway.auth import StaticKeys, TokenVerifier
from gateway.settings import Settings
from tests.gateway.auth.conftest import EC_KEY, JwksServer, bearer_of, craft
from tests.support.processes import ROOT, BffProcess, start_bff

HELLO = {"query": "{ __typename }"}


@pytest.fixture(scope="module")
def bff() -> Iterator[BffProcess]:
    started = start_bff({})  # no back office needed for __typename; local issuer on
    try:
        yield started
    finally:
        started.stop()


def _tidegate_token(bff: BffProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(bff.issuer_key_path)}
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "token", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_no_token_is_401_over_http(bff: BffProcess) -> None:
    r = httpx.post(f"{bff.url}/graphql", json=HELLO)
    assert (r.status_code, r.headers["www-authenticate"]) == (401, "Bearer")
    assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_token_from_the_token_endpoint_works(bff: BffProcess) -> None:
    r = httpx.post(
        f"{bff.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("workbench-supervisor", "workbench-supervisor-demo-secret"),
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    graphql = httpx.post(f"{bff.url}/graphql", json=HELLO, headers=bearer_of(token))
    assert graphql.json() == {"data": {"__typename": "Query"}}
    refused = httpx.post(
        f"{bff.url}/oauth/token", data={"grant_type": "client_credentials"}, auth=("softphone", "nope-nope")
    )
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")


def test_tidegate_token_output_verifies(bff: BffProcess) -> None:
    done = _tidegate_token(bff, "--role", "agent", "--agent-id", "A1001", "--ttl-s", "120")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert len(done.stdout.splitlines()) == 1
    r = httpx.post(f"{bff.url}/graphql", json=HELLO, headers=bearer_of(token))
    assert r.json() == {"data": {"__typename": "Query"}}
    # ...and checked by hand against the key set the running BFF publishes.
    jwks = httpx.get(f"{bff.url}/.well-known/jwks.json").json()
    settings = Settings()
    verifier = TokenVerifier(
        StaticKeys(jwks), issuer=settings.auth.token_issuer, audience=settings.auth.token_audience
    )
    principal = asyncio.run(verifier.verify(token))
    assert (principal.role, principal.agent_id, principal.client_id) == ("agent", "A1001", "workbench")
    assert principal.scopes == {
        "customer:read",
        "ticket:read",
        "network:read",
        "ticket:write",
        "interaction:write",
        "pii:reveal",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--role", "admin"], "unknown role 'admin'"), (["--role", "agent"], "needs an agent id")],
)
def test_tidegate_token_refuses_bad_arguments(bff: BffProcess, args: list[str], message: str) -> None:
    done = _tidegate_token(bff, *args)
    assert done.returncode == 2
    assert message in done.stderr and not done.stdout


def test_serve_refuses_to_start_with_no_way_to_check_tokens() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDEGATE_")}
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "TIDEGATE_JWKS_URL" in done.stderr


def test_a_bff_trusting_an_idp_fetches_its_jwks(jwks: JwksServer) -> None:
    idp_bff = start_bff({}, env={"TIDEGATE_LOCAL_ISSUER": "false", "TIDEGATE_JWKS_URL": jwks.url})
    try:
        for _ in range(3):
            r = httpx.post(f"{idp_bff.url}/graphql", json=HELLO, headers=bearer_of(craft(EC_KEY)))
            assert r.json() == {"data": {"__typename": "Query"}}
        assert httpx.get(f"{idp_bff.url}/oauth/token").status_code == 404  # no local issuer
    finally:
        idp_bff.stop()
    assert jwks.stats() == {"fetches": 1, "other": 0}
