"""Access tokens: who signs them, what they must say, and the demo's local issuer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from gateway.auth.clients import MAX_TOKEN_TTL_S, RegisteredClient, demo_clients
from gateway.auth.jwks import SUPPORTED_ALGORITHMS
from gateway.settings import formats
from gateway.settings.component import ComponentSettings


class AuthSettings(ComponentSettings):
    """The IdP's key set or the local issuer, and the claims and algorithms a token must have."""

    jwks_url: str | None = None
    """The IdP's key set (production). Without it and without the local issuer the BFF refuses to start."""
    jwks_timeout_s: float = Field(default=3.0, gt=0)
    """Timeout fetching the key set."""
    jwks_max_age_s: float = Field(default=3_600.0, ge=30)
    """Refetch keys at least this often."""
    token_issuer: str = Field(default="urn:tidegate:local-issuer", min_length=1)
    """Must match the tokens' `iss` (production: the IdP's)."""
    token_audience: str = Field(default="urn:tidegate:bff", min_length=1)
    """Must match the tokens' `aud` (production: the IdP's)."""
    token_algorithms: Annotated[tuple[str, ...], NoDecode] = ("ES256", "RS256")
    """Allowed signing algorithms, `ES256,RS256` or a JSON list (never `none` or HMAC)."""
    token_leeway_s: int = Field(default=60, ge=0, le=60)
    """Clock skew allowed on `exp`, `nbf` and `iat`."""
    local_issuer: bool = False
    """Demo and tests only: mount `GET /.well-known/jwks.json` and `POST /oauth/token` and, unless
    `jwks_url` is set, verify with the local issuer's own key."""
    local_issuer_key_path: Path = Path(".tidegate/issuer-key.pem")
    """The local issuer's key (created 0600, git-ignored), shared by `tidegate serve` and `tidegate token`."""
    local_issuer_algorithm: Literal["ES256", "RS256"] = "ES256"
    """Algorithm of a newly created local issuer key."""
    token_ttl_s: int = Field(default=900, ge=60, le=MAX_TOKEN_TTL_S)
    """Lifetime of the local issuer's tokens."""
    clients: Annotated[dict[str, RegisteredClient], NoDecode] = Field(default_factory=demo_clients)
    """The local issuer's clients, JSON: client id to `{"secret", "role", "agent_id"?}`."""

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url(cls, value: str | None) -> str | None:
        return formats.http_url(value) if value else None

    @field_validator("token_algorithms", mode="before")
    @classmethod
    def _algorithms(cls, value: object) -> object:
        """`ES256,RS256`, `ES256 RS256` or a JSON list; only public-key algorithms we support."""
        if isinstance(value, str) and value.lstrip().startswith("["):
            value = json.loads(value)
        elif isinstance(value, str):
            value = re.split(r"[\s,]+", value.strip())
        if isinstance(value, list | tuple):
            unsupported = sorted(set(map(str, value)) - SUPPORTED_ALGORITHMS)
            if unsupported or not value:
                raise ValueError(f"supported: {', '.join(sorted(SUPPORTED_ALGORITHMS))}; got {list(value)}")
        return value

    @field_validator("clients", mode="before")
    @classmethod
    def _clients(cls, value: object) -> object:
        return formats.json_object(value)
