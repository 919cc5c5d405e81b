"""The embedded issuer's signing key: one PEM file shared by `tidegate serve` and `tidegate token`.

The file is created on first use with 0600 permissions (written aside, then linked into place,
so two processes starting together agree on one key). `kid` is the key's RFC 7638 thumbprint:
every process that reads the file derives the same `kid` without storing it anywhere.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import stat
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from gateway.auth.errors import AuthConfigError

logger = logging.getLogger("tidegate.auth")

SigningAlgorithm = Literal["ES256", "RS256"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
# RFC 7638 §3.2: the members a thumbprint covers, per key type.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}


@dataclass(frozen=True)
class IssuerKey:
    private_key: PrivateKey
    algorithm: SigningAlgorithm

    @classmethod
    def generate(cls, algorithm: SigningAlgorithm = "ES256") -> IssuerKey:
        if algorithm == "ES256":
            return cls(ec.generate_private_key(ec.SECP256R1()), "ES256")
        return cls(rsa.generate_private_key(public_exponent=65_537, key_size=2_048), "RS256")

    @classmethod
    def from_pem(cls, pem: bytes, source: str = "key") -> IssuerKey:
        """The key in `pem`; its type decides the algorithm (P-256 is ES256, RSA is RS256)."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise AuthConfigError(f"{source}: not an unencrypted PEM private key") from exc
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            return cls(key, "ES256")
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2_048:
            return cls(key, "RS256")
        raise AuthConfigError(f"{source}: expected a P-256 EC key (ES256) or an RSA key of 2048+ bits")

    @classmethod
    def load_or_create(cls, path: Path, algorithm: SigningAlgorithm = "ES256") -> IssuerKey:
        """The key at `path`, created (0600, directory 0700) if there is none yet.

        An existing file wins over `algorithm`: changing the setting later does not silently
        invalidate every token minted from the file.
        """
        if not path.exists():
            _create(path, cls.generate(algorithm).pem())
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            logger.warning("issuer key %s is readable by others (mode %o): chmod 600 it", path, mode & 0o777)
        return cls.from_pem(path.read_bytes(), str(path))

    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK, with `kid`, `alg` and `use` set: one entry of the JWKS."""
        return dict(self._public_jwk)

    @property
    def kid(self) -> str:
        return str(self._public_jwk["kid"])

    @cached_property
    def _public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            jwk: dict[str, Any] = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": thumbprint(jwk), "alg": self.algorithm, "use": "sig"}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url without padding)."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def _create(path: Path, pem: bytes) -> None:
    """Write `pem` to `path` unless someone else got there first (then theirs is kept)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".issuer-key-", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # atomic, and never replaces an existing key
            logger.info("created issuer key %s", path)
    finally:
        os.unlink(tmp)
