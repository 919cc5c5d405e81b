"""Where audit records go: append-only JSON lines by default, a Redis stream when configured.

Writes happen off the event loop (a thread for the file) and never carry unmasked values: the
records are built by `services.audit.AuditTrail`, which only ever sees customer numbers and field
paths. If the Redis stream cannot take a record, it goes to the file instead of being lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson

from infra.redis_client import RedisClient

logger = logging.getLogger("tidegate.audit")


class AuditSink(Protocol):
    async def write(self, records: Sequence[dict[str, Any]]) -> None: ...

    async def aclose(self) -> None: ...


class JsonLinesSink:
    """One JSON object per line, appended with O_APPEND so concurrent writers never interleave lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    def _append(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    async def write(self, records: Sequence[dict[str, Any]]) -> None:
        if not records:
            return
        data = b"".join(orjson.dumps(r) + b"\n" for r in records)
        async with self._lock:
            await asyncio.to_thread(self._append, data)

    async def aclose(self) -> None:
        return None


class RedisStreamSink:
    """XADD each record to a stream; on any Redis failure fall back to the file sink."""

    def __init__(
        self, redis: RedisClient, stream: str, fallback: JsonLinesSink, maxlen: int = 1_000_000
    ) -> None:
        self._redis = redis  # infra.redis_client; the sink owns it and closes it
        self.stream = stream
        self.fallback = fallback
        self.maxlen = maxlen

    async def write(self, records: Sequence[dict[str, Any]]) -> None:
        if not records:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for record in records:
                    pipe.xadd(
                        self.stream, {"record": orjson.dumps(record)}, maxlen=self.maxlen, approximate=True
                    )
                await pipe.execute()
        except Exception as exc:  # any Redis failure: the record must still land somewhere
            logger.error("audit stream unavailable; writing to file", extra={"error": repr(exc)})
            await self.fallback.write(records)

    async def aclose(self) -> None:
        await self._redis.aclose()
