"""Where verification keys come from: a fixed set, or a JWKS URL fetched and cached.

`JwksKeys` fetches with httpx on the event loop (PyJWT's `PyJWKClient` blocks in urllib). A `kid`
it does not know triggers a refetch, at most one per `refetch_interval_s` (30 s): a flood of
tokens with made-up kids costs the IdP one request, not one per token, and concurrent lookups
share that one fetch. Keys older than `max_age_s` are refetched on the next lookup, so a key the
IdP withdraws stops working within that time; if a refetch fails, the keys already held stay.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol

import httpx
from jwt import PyJWK, PyJWTError

from gateway.auth.errors import InvalidToken, KeySetUnavailable

logger = logging.getLogger("tidegate.auth")

# Public-key algorithms only (RFC 8725 §3.1): never `none`, never an HMAC secret.
SUPPORTED_ALGORITHMS = frozenset({"ES256", "RS256"})


class KeySource(Protocol):
    async def key_for(self, kid: str) -> PyJWK:
        """The key for `kid`: `InvalidToken` if there is none, `KeySetUnavailable` if we cannot tell."""
        ...

    async def aclose(self) -> None: ...


def parse_key_set(doc: object, algorithms: Collection[str]) -> dict[str, PyJWK]:
    """The usable signing keys of a JWKS document by `kid`; anything else is skipped and logged."""
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise ValueError('not a JWKS: expected {"keys": [...]}')
    keys: dict[str, PyJWK] = {}
    for entry in doc["keys"]:
        kid = entry.get("kid") if isinstance(entry, dict) else None
        if not isinstance(kid, str) or not kid or entry.get("use", "sig") != "sig":
            continue  # no kid to look it up by, or an encryption key
        try:
            key = PyJWK(entry)
        except PyJWTError as exc:
            logger.warning("JWKS key %s skipped: %s", kid, exc)
            continue
        if key.algorithm_name in algorithms:  # an `oct` key (HS256) never gets past here
            keys[kid] = key
    return keys


class StaticKeys:
    """A key set known up front: the embedded issuer's own key, or a test's."""

    def __init__(self, jwks: Mapping[str, Any], algorithms: Collection[str] = SUPPORTED_ALGORITHMS) -> None:
        self._keys = parse_key_set(dict(jwks), algorithms)

    async def key_for(self, kid: str) -> PyJWK:
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("The token is signed with an unknown key (kid)")
        return key

    async def aclose(self) -> None:
        return None


class JwksKeys:
    """The IdP's key set at `url`, fetched lazily, cached, refetched sparingly (see module doc)."""

    def __init__(
        self,
        url: str,
        *,
        algorithms: Collection[str] = SUPPORTED_ALGORITHMS,
        timeout_s: float = 3.0,
        refetch_interval_s: float = 30.0,
        max_age_s: float = 3_600.0,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self._algorithms = frozenset(algorithms)
        self._interval = refetch_interval_s
        self._max_age = max_age_s
        self._clock = clock
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport, follow_redirects=False)
        self._keys: dict[str, PyJWK] = {}
        self._loaded_at: float | None = None  # last successful fetch
        self._tried_at: float | None = None  # last attempt, successful or not
        self._last_failed = False
        self._inflight: asyncio.Future[None] | None = None
        self.fetches = 0

    async def key_for(self, kid: str) -> PyJWK:
        if kid not in self._keys or self._stale():
            await self._refresh()
        key = self._keys.get(kid)
        if key is not None:
            return key
        if self._last_failed:
            raise KeySetUnavailable(f"cannot fetch the key set from {self.url}")
        raise InvalidToken("The token is signed with an unknown key (kid)")

    async def aclose(self) -> None:
        await self._client.aclose()

    def _stale(self) -> bool:
        return self._loaded_at is None or self._clock() - self._loaded_at >= self._max_age

    async def _refresh(self) -> None:
        """Join the fetch in flight, or start one unless the last attempt was too recent."""
        if self._inflight is None:
            if self._tried_at is not None and self._clock() - self._tried_at < self._interval:
                return
            self._tried_at = self._clock()
            task = asyncio.ensure_future(self._fetch())
            self._inflight = task
            task.add_done_callback(self._fetch_done)
        # Shielded: a caller that goes away must not cancel the fetch the others wait for.
        await asyncio.shield(self._inflight)

    def _fetch_done(self, task: asyncio.Future[None]) -> None:
        self._inflight = None
        if not task.cancelled() and task.exception() is not None:
            logger.error("JWKS fetch crashed", exc_info=task.exception())

    async def _fetch(self) -> None:
        self.fetches += 1
        try:
            response = await self._client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            keys = parse_key_set(response.json(), self._algorithms)
        except (httpx.HTTPError, ValueError) as exc:  # a JSONDecodeError is a ValueError
            self._last_failed = True
            logger.warning("JWKS fetch from %s failed: %s", self.url, exc)
            return
        self._keys, self._loaded_at, self._last_failed = keys, self._clock(), False
        logger.info("JWKS fetched from %s: %d keys", self.url, len(keys))
