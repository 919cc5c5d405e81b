"""`LocalIssuer`: a small OAuth 2.0 authorization server inside the BFF, for the demo and tests.

Off unless `TIDEGATE_LOCAL_ISSUER=true`. It signs RFC 9068 access tokens with the key in
`TIDEGATE_LOCAL_ISSUER_KEY_PATH`, publishes the public half at `GET /.well-known/jwks.json`, and
grants tokens to registered clients at `POST /oauth/token` (RFC 6749 §4.4, client credentials).
`tidegate token` mints with the same key file, so its tokens work against a running BFF. In
production the utility's IdP plays this part and none of this is mounted.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.auth.clients import MAX_TOKEN_TTL_S, RegisteredClient, authenticate_client, check_clients
from gateway.auth.errors import OAuthError
from gateway.auth.jwks import StaticKeys
from gateway.auth.keys import IssuerKey
from gateway.auth.roles import Roles

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


class LocalIssuer:
    def __init__(
        self,
        key: IssuerKey,
        *,
        issuer: str,
        audience: str,
        roles: Roles,
        clients: Mapping[str, RegisteredClient],
        ttl_s: int = 900,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_clients(clients, roles)
        self.key = key
        self.issuer = issuer
        self.audience = audience
        self.roles = roles
        self.clients = dict(clients)
        self.ttl_s = ttl_s
        self._clock = clock

    def mint(
        self,
        *,
        client_id: str,
        role: str,
        agent_id: str | None = None,
        scope: str | None = None,
        ttl_s: int | None = None,
    ) -> str:
        """A signed access token; `scope` defaults to the role's scopes (roles.yaml)."""
        granted = self.roles.get_role(role)
        if granted.needs_agent_id and not agent_id:
            raise ValueError(f"role {role} needs an agent id")
        ttl = self.ttl_s if ttl_s is None else ttl_s
        if not 1 <= ttl <= MAX_TOKEN_TTL_S:
            raise ValueError(f"ttl must be 1..{MAX_TOKEN_TTL_S} s, got {ttl}")
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": client_id,  # RFC 9068 §2.2: client credentials, so the client is the subject
            "aud": self.audience,
            "client_id": client_id,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(16),
            "scope": granted.scope if scope is None else scope,
            "role": role,
        }
        if agent_id:
            claims["agent_id"] = agent_id
        headers = {"typ": "at+jwt", "kid": self.key.kid}
        return jwt.encode(claims, self.key.private_key, algorithm=self.key.algorithm, headers=headers)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.public_jwk()]}

    def key_set(self) -> StaticKeys:
        """The verifier's keys when the BFF checks its own tokens: no HTTP call to itself."""
        return StaticKeys(self.jwks(), algorithms={self.key.algorithm})

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/.well-known/jwks.json", self._jwks_endpoint, methods=["GET"], name="jwks"),
            Route("/oauth/token", self._token_endpoint, methods=["POST"], name="oauth_token"),
        ]

    async def _jwks_endpoint(self, _request: Request) -> Response:
        return JSONResponse(self.jwks(), headers={"Cache-Control": "public, max-age=300"})

    async def _token_endpoint(self, request: Request) -> Response:
        try:
            client_id, client, scope = await self._grant(request)
        except OAuthError as exc:
            headers = dict(_NO_STORE)
            if exc.status_code == 401:
                headers["WWW-Authenticate"] = 'Basic realm="tidegate"'
            error = {"error": exc.error, "error_description": exc.description}
            return JSONResponse(error, exc.status_code, headers=headers)
        token = self.mint(client_id=client_id, role=client.role, agent_id=client.agent_id, scope=scope)
        body: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.ttl_s,
            "scope": scope,
        }
        return JSONResponse(body, headers=_NO_STORE)

    async def _grant(self, request: Request) -> tuple[str, RegisteredClient, str]:
        """Client id, client and granted scope for a well-formed, authenticated request."""
        form = await _form(request)
        client_id, secret = _client_credentials(request, form)
        client = authenticate_client(self.clients, client_id, secret)
        if client is None:
            raise OAuthError("invalid_client", "Client authentication failed", 401)
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type != "client_credentials":
            raise OAuthError("unsupported_grant_type", "Only client_credentials is supported")
        allowed = self.roles[client.role].scopes
        requested = form.get("scope", "").split()
        if not set(requested) <= set(allowed):
            raise OAuthError("invalid_scope", f"This client may ask for: {' '.join(allowed)}")
        return client_id, client, " ".join(s for s in allowed if not requested or s in requested)


async def _form(request: Request) -> dict[str, str]:
    """The form-encoded body, each parameter once (RFC 6749 §3.2); no python-multipart needed."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "Send application/x-www-form-urlencoded parameters")
    try:
        parsed = parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError("invalid_request", "The request body is not a valid form") from exc
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:
        raise OAuthError("invalid_request", f"Parameters given more than once: {', '.join(repeated)}")
    return {name: values[0] for name, values in parsed.items()}


def _client_credentials(request: Request, form: Mapping[str, str]) -> tuple[str, str]:
    """HTTP Basic (RFC 6749 §2.3.1, each part form-encoded) or client_id + client_secret, not both."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        if "client_id" not in form or "client_secret" not in form:
            raise OAuthError("invalid_client", "Client authentication required", 401)
        return form["client_id"], form["client_secret"]
    if "client_secret" in form:
        raise OAuthError("invalid_request", "Use one client authentication method, not two")
    scheme, _, encoded = authorization.partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError(scheme)
        client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except ValueError as exc:  # bad base64 and bad UTF-8 both
        raise OAuthError("invalid_client", "Unsupported or malformed client authentication", 401) from exc
    if not sep:
        raise OAuthError("invalid_client", "Malformed HTTP Basic credentials", 401)
    client_id, secret = unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
    if form.get("client_id", client_id) != client_id:
        raise OAuthError("invalid_request", "client_id does not match the authenticated client")
    return client_id, secret
