"""From settings to working authentication: which keys verify tokens, and whether we issue them.

- `TIDEGATE_JWKS_URL` set: keys come from that URL (the utility's IdP), whatever else is on.
- else `TIDEGATE_LOCAL_ISSUER=true`: the embedded issuer's own key, used directly.
- else: no way to check a token, and the BFF refuses to start rather than run open.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from gateway.auth.errors import AuthConfigError
from gateway.auth.issuer import LocalIssuer
from gateway.auth.jwks import JwksKeys, KeySource
from gateway.auth.keys import IssuerKey
from gateway.auth.middleware import BearerAuth
from gateway.auth.roles import load_roles
from gateway.auth.tokens import TokenVerifier

if TYPE_CHECKING:
    from gateway.settings import Settings

logger = logging.getLogger("tidegate.auth")


@dataclass
class Auth:
    verifier: TokenVerifier
    issuer: LocalIssuer | None

    def protect(self, app: ASGIApp) -> BearerAuth:
        return BearerAuth(app, self.verifier)

    def routes(self) -> list[BaseRoute]:
        """The issuer's JWKS and token endpoints, when the local issuer is on."""
        return self.issuer.routes() if self.issuer is not None else []

    async def aclose(self) -> None:
        await self.verifier.keys.aclose()


def local_issuer(settings: Settings) -> LocalIssuer:
    """The embedded issuer: key file loaded (or created), roles and clients validated."""
    path = settings.auth.local_issuer_key_path
    try:
        key = IssuerKey.load_or_create(path, settings.auth.local_issuer_algorithm)
    except OSError as exc:  # a directory it may not create, a file it may not read
        raise AuthConfigError(
            f"TIDEGATE_LOCAL_ISSUER_KEY_PATH={path}: cannot read or create the key"
            f" ({exc.strerror or exc}); e.g. TIDEGATE_LOCAL_ISSUER_KEY_PATH=.tidegate/issuer-key.pem"
        ) from None
    except AuthConfigError as exc:  # not a key we can sign with: "<path>: why"
        raise AuthConfigError(f"TIDEGATE_LOCAL_ISSUER_KEY_PATH={exc}") from None
    return LocalIssuer(
        key,
        issuer=settings.auth.token_issuer,
        audience=settings.auth.token_audience,
        roles=load_roles(),
        clients=settings.auth.clients,
        ttl_s=settings.auth.token_ttl_s,
    )


def build_auth(settings: Settings, keys: KeySource | None = None) -> Auth:
    """`keys` is the test seam: a fixed key set instead of the one the settings point at."""
    issuer = local_issuer(settings) if settings.auth.local_issuer else None
    if issuer is not None:
        logger.warning(
            "local token issuer on (demo and tests only): key %s", settings.auth.local_issuer_key_path
        )
    if keys is None:
        if settings.auth.jwks_url is not None:
            keys = JwksKeys(
                settings.auth.jwks_url,
                algorithms=settings.auth.token_algorithms,
                timeout_s=settings.auth.jwks_timeout_s,
                max_age_s=settings.auth.jwks_max_age_s,
            )
        elif issuer is not None:
            if issuer.key.algorithm not in settings.auth.token_algorithms:
                raise AuthConfigError(
                    f"the issuer key is {issuer.key.algorithm}, not in TIDEGATE_TOKEN_ALGORITHMS"
                )
            keys = issuer.key_set()
        else:
            raise AuthConfigError(
                "no way to verify access tokens: set TIDEGATE_JWKS_URL (the IdP's key set) "
                "or TIDEGATE_LOCAL_ISSUER=true (demo and tests)"
            )
    verifier = TokenVerifier(
        keys,
        issuer=settings.auth.token_issuer,
        audience=settings.auth.token_audience,
        algorithms=settings.auth.token_algorithms,
        leeway_s=settings.auth.token_leeway_s,
    )
    return Auth(verifier, issuer)
