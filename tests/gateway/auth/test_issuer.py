"""The embedded issuer's endpoints in-process: RFC 6749 client credentials, and its JWKS."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest

from gateway.app import create_app
from gateway.auth import AuthConfigError, StaticKeys, TokenVerifier
from gateway.settings import Settings
from services.access import Principal
from tests.gateway.conftest import serve, small_schema

AGENT_SCOPE = "customer:read ticket:read network:read ticket:write interaction:write pii:reveal"
FORM = {"grant_type": "client_credentials"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


AGENT = basic("workbench-agent", "workbench-agent-demo-secret")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(local_issuer=True, local_issuer_key_path=tmp_path / "issuer-key.pem")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings, schema=small_schema(settings)), headers={}) as c:
        yield c


async def test_a_good_client_gets_a_token_the_bff_accepts(client: httpx.AsyncClient) -> None:
    r = await client.post("/oauth/token", data=FORM, headers=AGENT)
    assert r.status_code == 200
    assert (r.headers["cache-control"], r.headers["pragma"]) == ("no-store", "no-cache")
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 900, AGENT_SCOPE)
    graphql = await client.post(
        "/graphql", json={"query": "{ hello }"}, headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert (graphql.status_code, graphql.json()) == (200, {"data": {"hello": "hello world"}})


async def test_the_token_is_an_rfc9068_access_token(client: httpx.AsyncClient, settings: Settings) -> None:
    token = (await client.post("/oauth/token", data=FORM, headers=AGENT)).json()["access_token"]
    jwks = (await client.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(token)
    assert (header["typ"], header["alg"], header["kid"]) == ("at+jwt", "ES256", jwks["keys"][0]["kid"])
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["exp"] - payload["iat"] == 900
    assert set(payload) >= {"iss", "exp", "aud", "sub", "client_id", "iat", "jti"}
    verifier = TokenVerifier(
        StaticKeys(jwks), issuer=settings.auth.token_issuer, audience=settings.auth.token_audience
    )
    principal = await verifier.verify(token)
    assert principal == Principal(
        subject="workbench-agent",
        client_id="workbench-agent",
        role="agent",
        scopes=frozenset(AGENT_SCOPE.split()),
        agent_id="A1001",
        token_id=payload["jti"],
    )


async def test_client_credentials_in_the_form_work_too(client: httpx.AsyncClient) -> None:
    form = {**FORM, "client_id": "softphone", "client_secret": "softphone-demo-secret"}
    r = await client.post("/oauth/token", data=form)
    assert r.status_code == 200
    assert r.json()["scope"] == "customer:read ticket:read network:read"


async def test_a_client_may_ask_for_fewer_scopes_not_more(client: httpx.AsyncClient) -> None:
    fewer = await client.post("/oauth/token", data={**FORM, "scope": "network:read"}, headers=AGENT)
    assert fewer.json()["scope"] == "network:read"
    more = await client.post("/oauth/token", data={**FORM, "scope": "customer:read:any"}, headers=AGENT)
    assert (more.status_code, more.json()["error"]) == (400, "invalid_scope")


@pytest.mark.parametrize(
    ("headers", "form"),
    [
        pytest.param(basic("workbench-agent", "wrong-secret"), FORM, id="bad-secret"),
        pytest.param(basic("nobody", "workbench-agent-demo-secret"), FORM, id="unknown-client"),
        pytest.param({}, FORM, id="no-client-authentication"),
        pytest.param({}, {**FORM, "client_id": "softphone"}, id="client-id-without-secret"),
        pytest.param({"Authorization": "Basic !!!"}, FORM, id="malformed-basic"),
        pytest.param({"Authorization": "Bearer abc"}, FORM, id="not-basic"),
    ],
)
async def test_failed_client_authentication_is_invalid_client(
    client: httpx.AsyncClient, headers: dict[str, str], form: dict[str, str]
) -> None:
    r = await client.post("/oauth/token", data=form, headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Basic realm="tidegate"'
    assert r.json()["error"] == "invalid_client"
    assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("content", "headers", "error"),
    [
        pytest.param("grant_type=password", AGENT, "unsupported_grant_type", id="password-grant"),
        pytest.param("grant_type=authorization_code", AGENT, "unsupported_grant_type", id="code-grant"),
        pytest.param("scope=network%3Aread", AGENT, "invalid_request", id="no-grant-type"),
        pytest.param(
            "grant_type=client_credentials&grant_type=client_credentials",
            AGENT,
            "invalid_request",
            id="twice",
        ),
        pytest.param(
            "grant_type=client_credentials&client_secret=workbench-agent-demo-secret",
            AGENT,
            "invalid_request",
            id="two-auth-methods",
        ),
        pytest.param(
            "grant_type=client_credentials&client_id=softphone",
            AGENT,
            "invalid_request",
            id="client-id-mismatch",
        ),
    ],
)
async def test_bad_requests_are_400(
    client: httpx.AsyncClient, content: str, headers: dict[str, str], error: str
) -> None:
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    r = await client.post("/oauth/token", content=content, headers={**headers, **form_type})
    assert (r.status_code, r.json()["error"]) == (400, error)
    assert r.json()["error_description"]


async def test_a_json_body_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post("/oauth/token", json=FORM, headers=AGENT)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")


async def test_the_jwks_endpoint_publishes_the_public_key_only(client: httpx.AsyncClient) -> None:
    r = await client.get("/.well-known/jwks.json")
    assert r.status_code == 200 and "max-age" in r.headers["cache-control"]
    (key,) = r.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in key


def test_no_way_to_verify_tokens_refuses_to_start() -> None:
    with pytest.raises(AuthConfigError, match="TIDEGATE_JWKS_URL"):
        create_app(Settings())


@pytest.mark.parametrize(
    ("clients", "message"),
    [
        ('{"x": {"secret": "long-enough", "role": "admin"}}', "unknown role 'admin'"),
        ('{"x": {"secret": "long-enough", "role": "agent"}}', "needs an agent_id"),
    ],
)
def test_a_bad_client_registry_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clients: str, message: str
) -> None:
    monkeypatch.setenv("TIDEGATE_CLIENTS", clients)
    settings = Settings(local_issuer=True, local_issuer_key_path=tmp_path / "k.pem")
    with pytest.raises(AuthConfigError, match=message):
        create_app(settings)
