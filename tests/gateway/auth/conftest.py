"""Real keys, hand-made tokens, and a real JWKS server process for the auth tests."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import get_default_algorithms

from gateway.app import create_app
from gateway.auth import IssuerKey, KeySource, StaticKeys
from gateway.settings import Settings
from simulators.launch import die_with_parent, free_port, stop
from tests.gateway.conftest import serve, small_schema
from tests.support.processes import ROOT

ISSUER = Settings().auth.token_issuer
AUDIENCE = Settings().auth.token_audience
# Made once: RSA key generation is slow, and every test only needs some real key pair.
EC_KEY = IssuerKey.generate("ES256")
RSA_KEY = IssuerKey.generate("RS256")
OTHER_KEY = IssuerKey.generate("ES256")  # signs tokens nobody trusts


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**changes: Any) -> dict[str, Any]:
    """Valid RFC 9068 claims for an agent; a change to `None` drops that claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "workbench",
        "aud": AUDIENCE,
        "client_id": "workbench",
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_hex(8),
        "scope": "customer:read ticket:read network:read pii:unmask",
        "role": "agent",
        "agent_id": "A1001",
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def craft(key: IssuerKey | None, payload: dict[str, Any] | None = None, /, **header: Any) -> str:
    """A compact JWS with exactly this header (a `None` drops the parameter), signed with `key`.

    `alg` decides how: `none` (empty signature), `HS256` keyed with `key`'s public PEM (the
    algorithm-confusion attack), or the key's own algorithm.
    """
    assert key is not None or header.get("alg") == "none"
    fields: dict[str, Any] = {"typ": "at+jwt"}
    if key is not None:
        fields |= {"alg": key.algorithm, "kid": key.kid}
    fields |= header
    fields = {name: value for name, value in fields.items() if value is not None}
    body = payload if payload is not None else claims()
    signing_input = f"{b64url(json.dumps(fields).encode())}.{b64url(json.dumps(body).encode())}".encode()
    alg = fields.get("alg")
    if alg == "none":
        signature = b""
    elif alg == "HS256":
        assert key is not None
        public_pem = key.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        signature = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    else:
        assert key is not None
        signature = get_default_algorithms()[key.algorithm].sign(signing_input, key.private_key)
    return f"{signing_input.decode()}.{b64url(signature)}"


def bearer_of(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


TRUSTED = StaticKeys({"keys": [EC_KEY.public_jwk(), RSA_KEY.public_jwk()]})


@contextlib.asynccontextmanager
async def bff(
    keys: KeySource = TRUSTED, settings: Settings | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The BFF in-process with a small schema, trusting `keys`; the client sends no token itself."""
    settings = settings or Settings()
    async with serve(create_app(settings, schema=small_schema(settings), keys=keys), headers={}) as client:
        yield client


@dataclass
class JwksServer:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/jwks.json"

    def publish(self, *keys: IssuerKey) -> None:
        self.publish_raw({"keys": [k.public_jwk() for k in keys]})

    def publish_raw(self, document: object) -> None:
        httpx.put(self.url, json=document).raise_for_status()

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = httpx.get(f"{self.base}/_stats").json()
        return counts

    def reset(self) -> None:
        httpx.post(f"{self.base}/_stats/reset").raise_for_status()


@pytest.fixture(scope="session")
def jwks_server() -> Iterator[JwksServer]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.gateway.auth.jwks_server", "--port", str(port)],
        cwd=ROOT,
        preexec_fn=die_with_parent,
    )
    server = JwksServer(port, proc)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                server.stats()
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"the JWKS server did not start (exit {proc.poll()})")
        yield server
    finally:
        stop([proc])


@pytest.fixture
def jwks(jwks_server: JwksServer) -> JwksServer:
    """The JWKS server publishing the EC test key, its counts cleared."""
    jwks_server.publish(EC_KEY)
    jwks_server.reset()
    return jwks_server
