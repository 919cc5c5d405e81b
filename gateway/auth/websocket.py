"""Authenticating a websocket: the bearer token arrives in graphql-transport-ws `connection_init`.

A browser cannot set headers on a websocket, so `BearerAuth` never sees one; the client puts the
token in the `connection_init` payload instead, as graphql-ws clients send connection params:
`{"Authorization": "Bearer <token>"}` (also `authorization`, or `{"token": "<token>"}`). It is
verified exactly like an HTTP request's (`TokenVerifier`, and at least one scope of this API). The
view closes a refused connection with 4403, the protocol's Forbidden; the reason is logged, not sent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import jwt

from gateway.auth.errors import InvalidToken, KeySetUnavailable
from gateway.auth.roles import API_SCOPES
from gateway.auth.tokens import TokenVerifier
from services.access import Principal


@dataclass(frozen=True, slots=True)
class SocketCaller:
    principal: Principal
    expires_at: float  # the token's `exp`: the connection is closed then


@dataclass(frozen=True, slots=True)
class SocketRefusal:
    reason: str


def bearer_token(params: Mapping[str, object]) -> str | None:
    """The token in a `connection_init` payload, or None."""
    for name in ("Authorization", "authorization"):
        value = params.get(name)
        if isinstance(value, str):
            scheme, _, token = value.partition(" ")
            return _nonempty(token) if scheme.lower() == "bearer" else None
    bare = params.get("token")
    return _nonempty(bare) if isinstance(bare, str) else None


def _nonempty(token: str) -> str | None:
    return token.strip() or None


async def authenticate_socket(
    verifier: TokenVerifier, params: Mapping[str, object], any_scope_of: Collection[str] = API_SCOPES
) -> SocketCaller | SocketRefusal:
    token = bearer_token(params)
    if token is None:
        return SocketRefusal("no bearer token in connection_init")
    try:
        principal = await verifier.verify(token)
    except InvalidToken as exc:
        return SocketRefusal(f"invalid token: {exc.description}")
    except KeySetUnavailable:
        return SocketRefusal("cannot verify tokens right now")
    if not principal.scopes & frozenset(any_scope_of):
        return SocketRefusal("the token grants no scope this API serves")
    # Verified just now, signature and all: reading its expiry needs no second check.
    claims = jwt.decode(token, options={"verify_signature": False})
    return SocketCaller(principal, float(claims["exp"]))
