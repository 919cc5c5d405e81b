"""Authentication: the BFF is an OAuth 2.0 resource server for bearer JWT access tokens.

- `tokens.TokenVerifier`: a token in, a `services.access.Principal` out (RFC 9068, RFC 8725);
- `jwks`: where verification keys come from (the IdP's JWKS URL, cached; or a fixed set);
- `middleware.BearerAuth`: the ASGI guard in front of /graphql (RFC 6750 errors);
- `issuer.LocalIssuer` (+ `keys`, `clients`, `roles.yaml`): a small token issuer for the demo
  and tests, off in production;
- `wiring.build_auth`: settings in, all of the above put together.
"""

from gateway.auth.errors import AuthConfigError, InvalidToken, KeySetUnavailable
from gateway.auth.issuer import LocalIssuer
from gateway.auth.jwks import JwksKeys, KeySource, StaticKeys
from gateway.auth.keys import IssuerKey
from gateway.auth.middleware import BearerAuth
from gateway.auth.tokens import TokenVerifier
from gateway.auth.wiring import Auth, build_auth, local_issuer

__all__ = [
    "Auth",
    "AuthConfigError",
    "BearerAuth",
    "InvalidToken",
    "IssuerKey",
    "JwksKeys",
    "KeySetUnavailable",
    "KeySource",
    "LocalIssuer",
    "StaticKeys",
    "TokenVerifier",
    "build_auth",
    "local_issuer",
]
