"""`TokenVerifier`: a bearer JWT in, a `Principal` out, or `InvalidToken` saying what was wrong.

The checks are RFC 9068 (JWT access tokens) with RFC 8725's advice: the algorithm comes from an
allowlist, never from the token alone (no `none`, no HMAC keyed with a public key); `typ` must be
`at+jwt`, so an ID token or any other JWT from the same IdP is not an access token here; `kid` is
only a lookup key, and a token that brings its own key (`jwk`, `jku`, `x5u`, `x5c`) is refused
outright rather than ignored. `exp`, `nbf` and `iat` must be JSON numbers (RFC 7519 NumericDate):
PyJWT reads them with `int()`, so a string such as "1796400000" or a `true` would pass its checks.
No HTTP here: the middleware owns requests and responses.

A workbench sends the same token with every request for its whole life, and checking an ES256
signature costs ~150 us, about a tenth of a screen pop's CPU: tokens already verified are
remembered (bounded LRU) and only their expiry is checked again, for up to five minutes: after
that the full check runs again, so a key the IdP withdraws stops tokens it signed.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from typing import Any

import jwt

from gateway.auth.errors import InvalidToken
from gateway.auth.jwks import SUPPORTED_ALGORITHMS, KeySource
from services.access import Principal

__all__ = ["InvalidToken", "TokenVerifier"]

logger = logging.getLogger("tidegate.auth")

REQUIRED_CLAIMS = ("iss", "exp", "aud", "sub", "client_id", "iat", "jti")
NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
# Header parameters that carry or point at a key, or demand extensions we do not implement.
REFUSED_HEADERS = ("jwk", "jku", "x5u", "x5c", "crit")
MAX_LEEWAY_S = 60
MAX_TOKEN_CHARS = 8_192
REMEMBER_S = 300.0

_CLAIM_ERRORS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "The token has expired"),
    (jwt.ImmatureSignatureError, "The token is not valid yet (nbf or iat in the future)"),
    (jwt.InvalidAudienceError, "The token is not meant for this API (aud)"),
    (jwt.InvalidIssuerError, "The token is from an unexpected issuer (iss)"),
    (jwt.InvalidSignatureError, "The token signature is invalid"),
    (jwt.InvalidKeyError, "The token's signing key is not acceptable"),
    (jwt.InvalidAlgorithmError, "The token's algorithm does not match its key"),
)


class TokenVerifier:
    """Checks one issuer's tokens: signature by `keys`, then `iss`, `aud`, times and claims."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        algorithms: Collection[str] = ("ES256", "RS256"),
        leeway_s: int = MAX_LEEWAY_S,
        cache_size: int = 4_096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        unsupported = set(algorithms) - SUPPORTED_ALGORITHMS
        if unsupported or not algorithms:
            raise ValueError(f"algorithms must be among {sorted(SUPPORTED_ALGORITHMS)}, got {algorithms}")
        if not 0 <= leeway_s <= MAX_LEEWAY_S:
            raise ValueError(f"leeway_s must be 0..{MAX_LEEWAY_S}, got {leeway_s}")
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.algorithms = frozenset(algorithms)
        self.leeway_s = leeway_s
        self._cache_size = cache_size
        self._clock = clock
        # token -> (principal, exp, when to run the full check again)
        self._verified: OrderedDict[str, tuple[Principal, float, float]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        remembered = self._verified.pop(token, None)
        now = self._clock()
        if remembered is not None:
            principal, expires_at, recheck_at = remembered
            if now > expires_at + self.leeway_s:
                raise InvalidToken("The token has expired")
            if now < recheck_at:
                self._verified[token] = remembered  # back in, as the most recently used
                return principal
        principal, expires_at = await self._check(token)
        if self._cache_size > 0:
            self._verified[token] = (principal, expires_at, now + REMEMBER_S)
            if len(self._verified) > self._cache_size:
                self._verified.popitem(last=False)
        return principal

    async def _check(self, token: str) -> tuple[Principal, float]:
        """Every check, signature included; the principal and the token's expiry."""
        header = self._header(token)
        key = await self.keys.key_for(header["kid"])
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[header["alg"]],  # already on the allowlist; must also match the key
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": list(REQUIRED_CLAIMS), "enforce_minimum_key_length": True},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"The token has no {exc.claim} claim") from exc
        except jwt.PyJWTError as exc:
            description = next((d for kind, d in _CLAIM_ERRORS if isinstance(exc, kind)), None)
            if description is None:
                logger.info("token refused: %s", exc)
            raise InvalidToken(description or "The token is malformed") from exc
        check_numeric_dates(claims)
        return principal_from_claims(claims), float(claims["exp"])

    def _header(self, token: str) -> dict[str, Any]:
        """The header checks that need no key: shape, algorithm, type, key references."""
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("The token is too large")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("The token is not a well-formed JWT") from exc
        if header.get("alg") not in self.algorithms:
            raise InvalidToken(f"The token's algorithm is not one of {', '.join(sorted(self.algorithms))}")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
            raise InvalidToken("The token is not an access token (typ must be at+jwt)")
        refused = [name for name in REFUSED_HEADERS if name in header]
        if refused:
            raise InvalidToken(f"The token header may not carry {', '.join(refused)}")
        if not isinstance(header.get("kid"), str) or not header["kid"]:
            raise InvalidToken("The token header has no kid")
        return header


def check_numeric_dates(claims: Mapping[str, Any]) -> None:
    """`exp`, `nbf` and `iat`, where present, are JSON numbers: not strings, not booleans (a `bool` is
    an `int` to Python), so the token means what any other RFC 7519 reader would take it to mean."""
    for name in NUMERIC_DATE_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidToken(f"The token's {name} claim must be a number (NumericDate)")


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The caller as the rest of the BFF sees them; claim types checked, not assumed."""
    text = {name: _text(claims, name) for name in ("sub", "client_id", "jti")}
    scope = _optional_text(claims, "scope") or ""
    return Principal(
        subject=text["sub"],
        client_id=text["client_id"],
        role=_optional_text(claims, "role") or "",
        scopes=frozenset(scope.split()),
        agent_id=_optional_text(claims, "agent_id"),
        token_id=text["jti"],
    )


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidToken(f"The token's {name} claim must be a non-empty string")
    return value


def _optional_text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidToken(f"The token's {name} claim must be a string")
    return value
