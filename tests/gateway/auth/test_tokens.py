"""`TokenVerifier` without HTTP: what a good token becomes, its limits, and what it remembers."""

from __future__ import annotations

import time

import pytest
from jwt import PyJWK

from gateway.auth import InvalidToken, StaticKeys, TokenVerifier
from gateway.auth.jwks import parse_key_set
from gateway.auth.tokens import REMEMBER_S, principal_from_claims
from services.access import Principal
from tests.gateway.auth.conftest import (
    AUDIENCE,
    EC_KEY,
    ISSUER,
    OTHER_KEY,
    RSA_KEY,
    TRUSTED,
    claims,
    craft,
)
from tests.support.clocks import FakeClock


def verifier(**kwargs: object) -> TokenVerifier:
    return TokenVerifier(TRUSTED, issuer=ISSUER, audience=AUDIENCE, **kwargs)  # type: ignore[arg-type]


async def test_a_good_token_becomes_its_principal() -> None:
    token = craft(EC_KEY, claims(jti="j-42", scope="customer:read  pii:unmask", agent_id="A1001"))
    assert await verifier().verify(token) == Principal(
        subject="workbench",
        client_id="workbench",
        role="agent",
        scopes=frozenset({"customer:read", "pii:unmask"}),
        agent_id="A1001",
        token_id="j-42",
    )


async def test_role_and_agent_id_are_optional_as_from_a_production_idp() -> None:
    principal = await verifier().verify(craft(RSA_KEY, claims(role=None, agent_id=None)))
    assert (principal.role, principal.agent_id) == ("", None)


async def test_the_algorithm_allowlist_is_per_verifier() -> None:
    es256_only = verifier(algorithms=["ES256"])
    assert (await es256_only.verify(craft(EC_KEY))).client_id == "workbench"
    with pytest.raises(InvalidToken, match="not one of ES256"):
        await es256_only.verify(craft(RSA_KEY))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"algorithms": ["HS256"]},
        {"algorithms": ["none"]},
        {"algorithms": []},
        {"leeway_s": 61},
        {"leeway_s": -1},
    ],
)
def test_unsafe_verifier_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        verifier(**kwargs)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sub": ""}, "sub claim"),
        ({"client_id": 7}, "client_id claim"),
        ({"role": ["agent"]}, "role claim"),
        ({"agent_id": 1001}, "agent_id claim"),
    ],
)
def test_claim_types_are_checked(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidToken, match=message):
        principal_from_claims(claims(**changes))


def test_descriptions_never_carry_a_quote() -> None:
    assert InvalidToken('bad "kid" \\ here').description == "bad ?kid? ? here"


def test_only_public_signing_keys_of_allowed_algorithms_are_kept() -> None:
    document = {
        "keys": [
            EC_KEY.public_jwk(),
            {**RSA_KEY.public_jwk(), "kid": "enc", "use": "enc"},
            {**RSA_KEY.public_jwk(), "kid": None},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "AA", "y": "AA"},
            "not a key",
        ]
    }
    assert set(parse_key_set(document, {"ES256", "RS256"})) == {EC_KEY.kid}
    assert parse_key_set(document, {"RS256"}) == {}
    with pytest.raises(ValueError, match="not a JWKS"):
        parse_key_set([EC_KEY.public_jwk()], {"ES256"})


async def test_static_keys_refuse_an_unknown_kid() -> None:
    with pytest.raises(InvalidToken, match="unknown key"):
        await StaticKeys({"keys": [EC_KEY.public_jwk()]}).key_for("nope")


class CountingKeys:
    """The trusted keys, counting lookups: one lookup is one full check of a token."""

    def __init__(self) -> None:
        self.lookups = 0

    async def key_for(self, kid: str) -> PyJWK:
        self.lookups += 1
        return await TRUSTED.key_for(kid)

    async def aclose(self) -> None:
        return None


async def test_a_token_seen_before_is_not_checked_again_until_later() -> None:
    keys, clock = CountingKeys(), FakeClock()
    clock.now = time.time()
    checker = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, clock=clock)
    token = craft(EC_KEY, claims(exp=int(clock.now) + 900))
    for _ in range(5):
        await checker.verify(token)
    assert keys.lookups == 1
    clock.advance(REMEMBER_S)
    await checker.verify(token)
    assert keys.lookups == 2  # the full check ran again


async def test_a_remembered_token_still_expires() -> None:
    clock = FakeClock()
    clock.now = time.time()
    checker = TokenVerifier(CountingKeys(), issuer=ISSUER, audience=AUDIENCE, leeway_s=60, clock=clock)
    token = craft(EC_KEY, claims(exp=int(clock.now) + 10))
    await checker.verify(token)
    clock.advance(10 + 59)
    await checker.verify(token)  # within the leeway
    clock.advance(2)
    with pytest.raises(InvalidToken, match="expired"):
        await checker.verify(token)


async def test_refused_tokens_are_never_remembered_and_the_memory_is_bounded() -> None:
    keys = CountingKeys()
    checker = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, cache_size=1)
    forged = craft(OTHER_KEY, kid=EC_KEY.kid)
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await checker.verify(forged)
    assert keys.lookups == 2
    first, second = craft(EC_KEY), craft(EC_KEY)
    for token in (first, second, first, second):
        await checker.verify(token)
    assert keys.lookups == 2 + 4  # room for one: each evicts the other
