"""Where audit records go: append-only JSON lines by default, a Redis stream when configured.

The sinks write whole batches: requests never call them, `AuditWriter` (audit_writer.py) does, one
batch at a time from its background task: one thread hop per batch for the file (serialising and
writing both in the thread, off the event loop), one pipeline per batch for the stream. Records
never carry unmasked values: they are built by `services.audit.AuditTrail`, which only ever sees
customer numbers and field paths. If the Redis stream cannot take a batch, it goes to the file
instead of being lost; if the file cannot take it either, the writer keeps it and retries.
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
    """One JSON object per line, appended with O_APPEND so concurrent writers never interleave lines
    (one `os.write` per batch: the replicas of one host may share the file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    def _append(self, records: Sequence[dict[str, Any]]) -> None:
        data = b"".join(orjson.dumps(r) + b"\n" for r in records)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        try:
            fd = os.open(self.path, flags, 0o600)
        except FileNotFoundError:  # no directory yet (or it was removed): made, as each batch used to
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, flags, 0o600)
        try:
            view = memoryview(data)
            while view:  # a short write (a signal, a nearly full disk) continues where it stopped
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    async def write(self, records: Sequence[dict[str, Any]]) -> None:
        if not records:
            return
        records = list(records)  # the thread reads a copy the caller cannot change under it
        async with self._lock:
            await asyncio.to_thread(self._append, records)

    async def aclose(self) -> None:
        return None


class RedisStreamSink:
    """XADD each record of a batch to a stream, one pipeline per batch; on any Redis failure the
    batch goes to the file sink."""

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
