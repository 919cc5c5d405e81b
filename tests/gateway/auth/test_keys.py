"""The issuer's key file: created once with 0600, shared by every process that reads it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gateway.auth import AuthConfigError, IssuerKey
from gateway.auth.keys import thumbprint

# RFC 7638 §3.1's example key and its thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
    "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgd"
    "AZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCu"
    "r-kEgU8awapJzKnqDKgw"
)


def test_kid_is_the_rfc7638_thumbprint() -> None:
    jwk = {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_the_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "state" / "issuer-key.pem"
    first = IssuerKey.load_or_create(path)
    assert first.algorithm == "ES256"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = IssuerKey.load_or_create(path, "RS256")  # an existing file wins over the setting
    assert (again.algorithm, again.kid) == ("ES256", first.kid)
    assert [p.name for p in path.parent.iterdir()] == ["issuer-key.pem"]  # no temp file left


def test_rs256_keys_are_supported(tmp_path: Path) -> None:
    key = IssuerKey.load_or_create(tmp_path / "rsa.pem", "RS256")
    jwk = key.public_jwk()
    assert (key.algorithm, jwk["kty"], jwk["alg"], jwk["use"]) == ("RS256", "RSA", "RS256", "sig")
    assert jwk["kid"] == key.kid == thumbprint(jwk)


def test_the_published_jwk_has_no_private_part() -> None:
    for key in (IssuerKey.generate("ES256"), IssuerKey.generate("RS256")):
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key.public_jwk())


def test_a_broken_key_file_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / "issuer-key.pem"
    path.write_text("not a key")
    with pytest.raises(AuthConfigError, match=r"issuer-key\.pem"):
        IssuerKey.load_or_create(path)
