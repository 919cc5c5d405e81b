"""Where automatic persisted queries (APQ) registered at run time are kept: hash -> document text.

Two stores behind one protocol, like the cache's: `MemoryApqStore`, a bounded LRU in this process
(`TIDEGATE_APQ_MAX_ENTRIES`), and `RedisApqStore` when `TIDEGATE_REDIS_URL` is set, so a document
registered through one replica is found by the next request on any other (each entry expires after
`TIDEGATE_APQ_TTL_S`: a registration is a cache entry, never a promise; the client re-registers on
PERSISTED_QUERY_NOT_FOUND). A store only keeps what `gateway.persisted.queries` checked first (hash
verified, document parsed and validated); a Redis that fails reads as a miss and skips the write,
which costs the client one more round trip, never the request.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Protocol

from infra.redis_client import REDIS_FAILURES, RedisClient

logger = logging.getLogger("tidegate.apq")

KEY_PREFIX = "tidegate:apq:"


class ApqStore(Protocol):
    async def get(self, sha256_hex: str) -> str | None: ...

    async def put(self, sha256_hex: str, document: str) -> None: ...


class MemoryApqStore:
    """At most `max_entries` documents, the least recently used going first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._documents: OrderedDict[str, str] = OrderedDict()

    async def get(self, sha256_hex: str) -> str | None:
        document = self._documents.get(sha256_hex)
        if document is not None:
            self._documents.move_to_end(sha256_hex)
        return document

    async def put(self, sha256_hex: str, document: str) -> None:
        self._documents[sha256_hex] = document
        self._documents.move_to_end(sha256_hex)
        while len(self._documents) > self.max_entries:
            self._documents.popitem(last=False)

    def __len__(self) -> int:
        return len(self._documents)


class RedisApqStore:
    """Shared by every replica; each entry lives `ttl_s` from its last registration."""

    def __init__(self, redis: RedisClient, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def get(self, sha256_hex: str) -> str | None:
        try:
            found = await self.redis.get(KEY_PREFIX + sha256_hex)
        except REDIS_FAILURES as exc:
            logger.warning("APQ store unreachable, read as a miss: %s", type(exc).__name__)
            return None
        if found is None:
            return None
        return found.decode("utf-8") if isinstance(found, bytes) else str(found)

    async def put(self, sha256_hex: str, document: str) -> None:
        try:
            await self.redis.set(KEY_PREFIX + sha256_hex, document.encode("utf-8"), ex=self.ttl_s)
        except REDIS_FAILURES as exc:
            logger.warning("APQ store unreachable, registration not kept: %s", type(exc).__name__)
