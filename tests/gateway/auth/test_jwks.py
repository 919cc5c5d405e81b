"""`JwksKeys` against a real JWKS server process: fetches counted there, time moved by a clock."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gateway.auth import IssuerKey, JwksKeys
from simulators.launch import free_port
from tests.gateway.auth.conftest import (
    EC_KEY,
    OTHER_KEY,
    JwksServer,
    bearer_of,
    bff,
    craft,
)
from tests.support.clocks import FakeClock

HELLO = {"query": "{ hello }"}


async def _statuses(client: httpx.AsyncClient, tokens: list[str]) -> list[int]:
    """All requests at once: every one of them may want the key set at the same moment."""
    responses = await asyncio.gather(
        *(client.post("/graphql", json=HELLO, headers=bearer_of(t)) for t in tokens)
    )
    return [r.status_code for r in responses]


def _unknown_kids(n: int, tag: str) -> list[str]:
    return [craft(OTHER_KEY, kid=f"{tag}-{i}") for i in range(n)]


async def test_a_flood_of_unknown_kids_costs_one_fetch_per_interval(jwks: JwksServer) -> None:
    clock = FakeClock()
    async with bff(JwksKeys(jwks.url, clock=clock)) as client:
        assert await _statuses(client, _unknown_kids(50, "cold")) == [401] * 50
        assert jwks.stats()["fetches"] == 1  # 50 concurrent misses on a cold cache: one shared fetch
        assert await _statuses(client, [craft(EC_KEY)]) == [200]  # that fetch brought the real key
        assert await _statuses(client, _unknown_kids(50, "warm")) == [401] * 50
        clock.advance(29)
        assert await _statuses(client, _unknown_kids(50, "still")) == [401] * 50
        assert jwks.stats()["fetches"] == 1
        clock.advance(2)  # 31 s since the last fetch: one more is allowed, and only one
        assert await _statuses(client, _unknown_kids(50, "later")) == [401] * 50
        assert jwks.stats() == {"fetches": 2, "other": 0}


async def test_a_rotated_key_is_picked_up_once_the_interval_allows(jwks: JwksServer) -> None:
    clock = FakeClock()
    new_key = IssuerKey.generate("ES256")
    async with bff(JwksKeys(jwks.url, clock=clock)) as client:
        assert await _statuses(client, [craft(EC_KEY)]) == [200]
        jwks.publish(new_key)  # the IdP rotates: the old key is gone, a new kid signs
        clock.advance(5)
        assert await _statuses(client, [craft(new_key)]) == [401]  # too soon to ask again
        assert jwks.stats()["fetches"] == 1
        clock.advance(30)
        assert await _statuses(client, [craft(new_key)]) == [200]
        assert jwks.stats()["fetches"] == 2
        # The old key was withdrawn with that fetch: its tokens stop working.
        assert await _statuses(client, [craft(EC_KEY)]) == [401]


async def test_keys_are_refetched_once_they_are_old(jwks: JwksServer) -> None:
    clock = FakeClock()
    async with bff(JwksKeys(jwks.url, clock=clock, max_age_s=600)) as client:
        assert await _statuses(client, [craft(EC_KEY)] * 3) == [200] * 3
        clock.advance(601)
        assert await _statuses(client, [craft(EC_KEY)] * 3) == [200] * 3
        assert jwks.stats()["fetches"] == 2


@pytest.mark.parametrize("param", ["jku", "x5u"])
async def test_a_key_url_in_the_token_is_never_fetched(jwks: JwksServer, param: str) -> None:
    evil = f"{jwks.base}/attacker/jwks.json"
    tokens = [craft(OTHER_KEY, **{param: evil}), craft(OTHER_KEY, kid=EC_KEY.kid, **{param: evil})]
    async with bff(JwksKeys(jwks.url, clock=FakeClock())) as client:
        assert await _statuses(client, tokens) == [401, 401]
    assert jwks.stats() == {"fetches": 0, "other": 0}  # refused on the header alone


async def test_an_hmac_key_in_the_set_is_never_used(jwks: JwksServer) -> None:
    secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"
    jwks.publish_raw({"keys": [{"kty": "oct", "kid": "hmac", "k": secret, "alg": "HS256"}]})
    async with bff(JwksKeys(jwks.url, clock=FakeClock())) as client:
        tokens = [craft(EC_KEY, kid="hmac", alg="HS256"), craft(EC_KEY, kid="hmac")]
        assert await _statuses(client, tokens) == [401, 401]


async def test_an_unreachable_key_set_is_503_not_401() -> None:
    keys = JwksKeys(f"http://127.0.0.1:{free_port()}/jwks.json", clock=FakeClock(), timeout_s=2)
    async with bff(keys) as client:
        r = await client.post("/graphql", json=HELLO, headers=bearer_of(craft(EC_KEY)))
    assert r.status_code == 503
    assert r.headers["retry-after"] == "30"
    assert r.json()["errors"][0]["extensions"]["code"] == "BACKEND_ERROR"


async def test_keys_already_held_survive_a_failed_refetch(jwks: JwksServer) -> None:
    clock = FakeClock()
    async with bff(JwksKeys(jwks.url, clock=clock, max_age_s=600)) as client:
        assert await _statuses(client, [craft(EC_KEY)]) == [200]
        jwks.publish_raw([])
        clock.advance(601)  # stale: refetch, get garbage, keep what we had
        assert await _statuses(client, [craft(EC_KEY)]) == [200]
        assert jwks.stats()["fetches"] == 2
