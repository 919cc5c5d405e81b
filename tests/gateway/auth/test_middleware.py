"""`BearerAuth` in front of /graphql: RFC 6750 answers, coded bodies, what stays open."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from gateway.auth import BearerAuth, TokenVerifier
from gateway.auth.tokens import REQUIRED_CLAIMS
from gateway.settings import Settings
from tests.gateway.auth.conftest import (
    AUDIENCE,
    EC_KEY,
    ISSUER,
    OTHER_KEY,
    RSA_KEY,
    TRUSTED,
    bearer_of,
    bff,
    claims,
    craft,
)

HELLO = {"query": "{ hello }"}
BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _now() -> int:
    return int(time.time())


ALG = "algorithm is not one of"
TYP = "typ must be at+jwt"
NUMERIC = "{} claim must be a number"
# (id, token maker, what the error_description must say)
REFUSED: list[tuple[str, Callable[[], str], str]] = [
    ("alg-none", lambda: craft(None, alg="none", kid=EC_KEY.kid), ALG),
    ("hs256-keyed-with-the-ec-public-pem", lambda: craft(EC_KEY, alg="HS256"), ALG),
    ("hs256-keyed-with-the-rsa-public-pem", lambda: craft(RSA_KEY, alg="HS256"), ALG),
    ("rs256-header-on-the-ec-key", lambda: craft(EC_KEY, alg="RS256"), "does not match its key"),
    ("wrong-aud", lambda: craft(EC_KEY, claims(aud="urn:some-other-api")), "(aud)"),
    ("wrong-iss", lambda: craft(EC_KEY, claims(iss="https://idp.example.com")), "(iss)"),
    ("typ-JWT", lambda: craft(EC_KEY, typ="JWT"), TYP),
    ("no-typ", lambda: craft(EC_KEY, typ=None), TYP),
    ("no-kid", lambda: craft(EC_KEY, kid=None), "no kid"),
    *[
        (f"missing-{name}", lambda name=name: craft(EC_KEY, claims(**{name: None})), f"no {name} claim")
        for name in REQUIRED_CLAIMS
    ],
    ("expired-beyond-leeway", lambda: craft(EC_KEY, claims(iat=_now() - 900, exp=_now() - 66)), "expired"),
    ("nbf-beyond-leeway", lambda: craft(EC_KEY, claims(nbf=_now() + 66)), "not valid yet"),
    ("iat-in-the-future", lambda: craft(EC_KEY, claims(iat=_now() + 66)), "not valid yet"),
    # RFC 7519 NumericDate is a JSON number: PyJWT alone takes int("1796400000") for one (issue 15 #7).
    ("exp-numeric-string", lambda: craft(EC_KEY, claims(exp=str(_now() + 300))), NUMERIC.format("exp")),
    ("nbf-numeric-string", lambda: craft(EC_KEY, claims(nbf=str(_now()))), NUMERIC.format("nbf")),
    ("iat-numeric-string", lambda: craft(EC_KEY, claims(iat=str(_now()))), NUMERIC.format("iat")),
    ("iat-boolean", lambda: craft(EC_KEY, claims(iat=True)), NUMERIC.format("iat")),
    ("nbf-boolean", lambda: craft(EC_KEY, claims(nbf=False)), NUMERIC.format("nbf")),
    ("exp-infinity", lambda: craft(EC_KEY, claims(exp=float("inf"))), "malformed"),
    ("embedded-jwk", lambda: craft(OTHER_KEY, jwk=OTHER_KEY.public_jwk()), "may not carry jwk"),
    (
        "embedded-jwk-trusted-kid",
        lambda: craft(OTHER_KEY, kid=EC_KEY.kid, jwk=OTHER_KEY.public_jwk()),
        "may not carry jwk",
    ),
    ("x5u", lambda: craft(EC_KEY, x5u="https://attacker.example/cert.pem"), "may not carry x5u"),
    ("x5c", lambda: craft(EC_KEY, x5c=["MIIB"]), "may not carry x5c"),
    ("crit", lambda: craft(EC_KEY, crit=["exp"]), "not a well-formed JWT"),
    ("untrusted-key-trusted-kid", lambda: craft(OTHER_KEY, kid=EC_KEY.kid), "signature is invalid"),
    ("unknown-kid", lambda: craft(OTHER_KEY), "unknown key"),
    ("tampered-payload", lambda: _tampered(), "signature is invalid"),
    ("scope-not-a-string", lambda: craft(EC_KEY, claims(scope=["customer:read"])), "scope claim"),
    ("not-a-jwt", lambda: "not-a-jwt", "not a well-formed JWT"),
    ("too-large", lambda: craft(EC_KEY, claims(pad="x" * 9_000)), "too large"),
]


def _tampered() -> str:
    header, _payload, signature = craft(EC_KEY).split(".")
    _h, payload, _s = craft(EC_KEY, claims(role="supervisor", scope="customer:read:any")).split(".")
    return f"{header}.{payload}.{signature}"


@pytest.mark.parametrize(("make", "reason"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
async def test_refused_tokens_get_401_invalid_token(make: Callable[[], str], reason: str) -> None:
    async with bff() as client:
        r = await client.post("/graphql", json=HELLO, headers=bearer_of(make()))
    assert r.status_code == 401
    challenge = r.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="'), challenge
    assert reason in challenge
    assert challenge.endswith('"') and challenge.count('"') == 4  # no quote leaks into the description
    body = r.json()
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "data" not in body


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: craft(EC_KEY), id="es256"),
        pytest.param(lambda: craft(RSA_KEY), id="rs256"),
        pytest.param(lambda: craft(EC_KEY, typ="application/at+jwt"), id="typ-application-at+jwt"),
        pytest.param(lambda: craft(EC_KEY, typ="AT+JWT"), id="typ-upper-case"),
        pytest.param(lambda: craft(EC_KEY, claims(iat=_now() - 900, exp=_now() - 30)), id="expired-30s-ago"),
        pytest.param(lambda: craft(EC_KEY, claims(nbf=_now() + 30)), id="nbf-in-30s"),
        pytest.param(lambda: craft(EC_KEY, claims(exp=_now() + 300.5, nbf=_now() - 0.5)), id="fractions"),
        pytest.param(lambda: craft(EC_KEY, claims(aud=["urn:other", AUDIENCE])), id="aud-list"),
        pytest.param(lambda: craft(EC_KEY, claims(scope="audit:read network:read")), id="auditor"),
    ],
)
async def test_accepted_tokens_reach_graphql(token: Callable[[], str]) -> None:
    async with bff() as client:
        r = await client.post("/graphql", json=HELLO, headers=bearer_of(token()))
    assert (r.status_code, r.json()) == (200, {"data": {"hello": "hello world"}})


async def test_leeway_is_a_setting_and_zero_means_none() -> None:
    expired = craft(EC_KEY, claims(iat=_now() - 900, exp=_now() - 30))
    async with bff(settings=Settings(token_leeway_s=0)) as client:
        r = await client.post("/graphql", json=HELLO, headers=bearer_of(expired))
    assert r.status_code == 401
    assert "expired" in r.headers["www-authenticate"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="none"),
        pytest.param({"Authorization": "Basic d29ya2JlbmNoOnNlY3JldA=="}, id="basic"),
    ],
)
async def test_no_bearer_token_gets_a_bare_challenge(headers: dict[str, str]) -> None:
    async with bff() as client:
        post = await client.post("/graphql", json=HELLO, headers=headers)
        get = await client.get("/graphql", params={"query": "{ hello }"}, headers=headers)
    for r in (post, get):
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"  # RFC 6750 §3.1: no error without a token
        assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_two_authorization_headers_are_a_bad_request() -> None:
    token = bearer_of(craft(EC_KEY))["Authorization"]
    async with bff() as client:
        r = await client.post(
            "/graphql", json=HELLO, headers=[("Authorization", token), ("Authorization", token)]
        )
    assert r.status_code == 400
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("scope", ["openid profile email", "", None])
async def test_a_token_with_no_scope_of_this_api_gets_403(scope: str | None) -> None:
    async with bff() as client:
        r = await client.post("/graphql", json=HELLO, headers=bearer_of(craft(EC_KEY, claims(scope=scope))))
    assert r.status_code == 403
    assert r.headers["www-authenticate"].startswith('Bearer error="insufficient_scope"')
    assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_what_stays_open_without_a_token() -> None:
    async with bff(settings=Settings(graphiql=True, dev_mode=True)) as client:
        assert (await client.get("/healthz")).status_code == 200
        page = await client.get("/graphql", headers=BROWSER)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        # ...but a browser GET that carries an operation runs it, so it needs a token,
        query = await client.get("/graphql", params={"query": "{ hello }"}, headers=BROWSER)
        assert query.status_code == 401
        # ...and so does one that names a persisted query instead of sending its text.
        apq = '{"persistedQuery": {"version": 1, "sha256Hash": "%s"}}' % ("0" * 64)
        by_hash = await client.get("/graphql", params={"extensions": apq}, headers=BROWSER)
        assert by_hash.status_code == 401
        by_id = await client.get("/graphql", params={"documentId": "sha256:" + "0" * 64}, headers=BROWSER)
        assert by_id.status_code == 401
        assert (await client.get("/oauth/token")).status_code == 404  # issuer off: not mounted
        assert (await client.get("/.well-known/jwks.json")).status_code == 404


async def test_a_refused_request_writes_one_request_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tidegate.graphql.request")
    async with bff() as client:
        await client.post("/graphql", json=HELLO)
    (line,) = [r for r in caplog.records if r.name == "tidegate.graphql.request"]
    assert (line.outcome, line.status) == ("UNAUTHENTICATED", 401)  # type: ignore[attr-defined]


async def _echo_principal(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    principal = scope["principal"]
    assert request.state.principal is principal
    body = {
        "subject": principal.subject,
        "client_id": principal.client_id,
        "role": principal.role,
        "scopes": sorted(principal.scopes),
        "agent_id": principal.agent_id,
        "token_id": principal.token_id,
    }
    await JSONResponse(body)(scope, receive, send)


async def test_the_verified_principal_is_in_the_request_scope() -> None:
    verifier = TokenVerifier(TRUSTED, issuer=ISSUER, audience=AUDIENCE)
    app = BearerAuth(_echo_principal, verifier)
    token = craft(RSA_KEY, claims(jti="t-1", scope="network:read customer:read", agent_id="A1002"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bff.test") as client:
        r = await client.post("/graphql", headers=bearer_of(token))
    assert r.json() == {
        "subject": "workbench",
        "client_id": "workbench",
        "role": "agent",
        "scopes": ["customer:read", "network:read"],
        "agent_id": "A1002",
        "token_id": "t-1",
    }
