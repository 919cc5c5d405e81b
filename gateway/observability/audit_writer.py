"""The audit trail's one background writer: requests queue their records, one task writes them in batches.

Why: a request used to write its own records, a thread hop per request for the file (and a Redis
round trip per request for the stream) on the path of the answer. Now a request only queues its
records (no I/O, no thread), and one task per process takes whatever has queued and writes it as one
batch: one thread hop per batch for the file, one pipeline per batch for the stream. Under load the
batches grow by themselves (records queue while the last batch is being written), and the writer
lingers `linger_s` (`TIDEGATE_AUDIT_LINGER_MS`, 20 ms) after a batch's first record so that records
arriving together share a write: at a screen pop's rate a thread hop per record was about 5% of the
process's CPU (profiled, issue 21). A record is on its way within the linger, and `aclose` still
writes everything queued.

The audit trail is a security record, so nothing is dropped, ever:

- Full queue (`max_queued` records: the sink is slower than the traffic, or failing): the request
  waits for room (backpressure), logged as an error once per episode, counted in `waits`. If no room
  comes within `full_wait_s` it raises `AuditUnavailable` and the request fails (503,
  `AUDIT_UNAVAILABLE`, `Retry-After`) rather than answer without its record: fail closed, as a
  request whose own write failed did.
- A failed batch is kept and retried (backing off up to `retry_max_s`), each failure logged; the
  records behind it wait in the queue, so a sink that stays down turns into the backpressure above.
- Shutdown (`aclose`, from the app's lifespan after the server has stopped taking requests): the
  queue is drained and written, then the sink closed. A record queued after that is written by the
  caller directly, so even a late one lands. Only a process killed outright (SIGKILL, a crash) loses
  what was queued and not yet written: what the last few milliseconds of requests queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from gateway.observability.audit import AuditSink

logger = logging.getLogger("tidegate.audit")


class AuditUnavailable(RuntimeError):
    """The audit queue stayed full: the request fails rather than answer without its record."""


class AuditWriter:
    """`AuditSink` for requests (queue and return); the wrapped sink only ever sees whole batches."""

    def __init__(
        self,
        sink: AuditSink,
        *,
        max_queued: int = 10_000,
        max_batch: int = 500,
        full_wait_s: float = 5.0,
        retry_max_s: float = 5.0,
        linger_s: float = 0.0,
    ) -> None:
        self.sink = sink
        self.max_batch = max_batch
        self.full_wait_s = full_wait_s
        self.retry_max_s = retry_max_s
        self.linger_s = linger_s
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(max_queued)
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._full = False  # in a full-queue episode (logged once, at its start)
        self._in_hand: list[dict[str, Any]] = []  # taken from the queue, not yet written
        self.batches = 0  # batches written: what the tests and a debugger read
        self.written = 0  # records written
        self.waits = 0  # writes that found the queue full and waited

    def start(self) -> None:
        """Start the writer task in the running loop (the app's lifespan)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def write(self, records: Sequence[dict[str, Any]]) -> None:
        """Queue the records; wait only when the queue is full (see the module's docstring)."""
        if self._closed or self._task is None:
            await self._write_batch(list(records))  # not running (yet, or any more): write it now
            return
        for record in records:
            try:
                self._queue.put_nowait(record)
            except asyncio.QueueFull:
                await self._wait_for_room(record)

    async def _wait_for_room(self, record: dict[str, Any]) -> None:
        self.waits += 1
        if not self._full:
            self._full = True
            logger.error(
                "audit queue full: requests wait for the audit writer",
                extra={"queued": self._queue.qsize(), "sink": type(self.sink).__name__},
            )
        try:
            async with asyncio.timeout(self.full_wait_s):
                await self._queue.put(record)
        except TimeoutError:
            logger.error("audit queue full for %.1f s: request refused", self.full_wait_s)
            raise AuditUnavailable("the audit trail cannot keep up; the request was not answered") from None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self.linger_s and self._queue.qsize() < self.max_batch and not self._closed:
                await asyncio.sleep(self.linger_s)  # others join: one write for the lot
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._in_hand = batch
            await self._write_until_done(batch)
            self._in_hand = []  # no await since the write returned: a cancel cannot fall in between
            for _ in batch:
                self._queue.task_done()
            if self._full and self._queue.qsize() < self._queue.maxsize // 2:
                self._full = False
                logger.warning("audit queue draining again", extra={"queued": self._queue.qsize()})

    async def _write_until_done(self, batch: list[dict[str, Any]]) -> None:
        """Write the batch, retrying with back-off: a batch is never dropped (cancelled at close, it
        is written again by `aclose`'s drain)."""
        delay = 0.05
        while True:
            try:
                await self._write_batch(batch)
                return
            except Exception:
                logger.exception(
                    "audit batch of %d records not written; retrying in %.2f s", len(batch), delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)

    async def _write_batch(self, batch: list[dict[str, Any]]) -> None:
        if batch:
            await self.sink.write(batch)
            self.batches += 1
            self.written += len(batch)

    async def flush(self) -> None:
        """Return once every record queued so far is written."""
        if self._task is not None and not self._task.done():
            await self._queue.join()

    async def aclose(self) -> None:
        """Stop taking records into the queue, write everything queued, close the sink."""
        self._closed = True
        try:
            if self._task is not None:
                try:
                    async with asyncio.timeout(30):
                        await self.flush()
                except TimeoutError:
                    logger.error("audit writer still busy after 30 s at shutdown; writing the rest directly")
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
                # the batch the task held when cancelled (written again if its thread had finished it:
                # a line twice rather than none), then whatever is still queued
                rest, self._in_hand = self._in_hand, []
                while not self._queue.empty():
                    rest.append(self._queue.get_nowait())
                await self._write_batch(rest)
        finally:
            await self.sink.aclose()
