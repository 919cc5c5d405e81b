"""The audit trail's background writer: requests only queue, one task writes batches, nothing is lost."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from gateway.observability.audit import JsonLinesSink
from gateway.observability.audit_writer import AuditUnavailable, AuditWriter


def _record(n: int) -> dict[str, Any]:
    return {"event": "unmasked_read", "customer": f"KH{n:08d}", "fields": ["customer.idCard"]}


class GatedSink:
    """Takes batches only while its gate is open; keeps every batch it was given, in order."""

    def __init__(self, fail_first: int = 0) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()  # a batch is waiting at the gate
        self.fail_first = fail_first
        self.attempts = 0
        self.closed = False

    async def write(self, records: Sequence[dict[str, Any]]) -> None:
        self.entered.set()
        await self.gate.wait()
        self.attempts += 1
        if self.attempts <= self.fail_first:
            raise OSError("disk full")
        self.batches.append(list(records))

    async def aclose(self) -> None:
        self.closed = True

    def customers(self) -> list[str]:
        return [r["customer"] for batch in self.batches for r in batch]


async def test_a_request_only_queues_and_the_writer_batches_what_queued_meanwhile() -> None:
    sink = GatedSink()
    writer = AuditWriter(sink)
    writer.start()
    await writer.write([_record(0)])  # returns at once: the sink has not taken anything yet
    await asyncio.wait_for(sink.entered.wait(), 5)  # the writer holds record 0 at the sink's gate
    for n in range(1, 100):  # a hundred requests while the first batch is being written
        await writer.write([_record(n)])
    assert sink.batches == []
    sink.gate.set()
    await writer.flush()
    assert [len(b) for b in sink.batches] == [1, 99]  # two writes for a hundred requests
    assert sink.customers() == [f"KH{n:08d}" for n in range(100)]  # in the order queued
    await writer.aclose()
    assert sink.closed and writer.written == 100 and writer.batches == 2


async def test_batches_are_capped() -> None:
    sink = GatedSink()
    writer = AuditWriter(sink, max_batch=40)
    await writer.write([])  # nothing to write, not started: a no-op
    writer.start()
    await writer.write([_record(0)])
    await asyncio.wait_for(sink.entered.wait(), 5)
    await writer.write([_record(n) for n in range(1, 101)])
    sink.gate.set()
    await writer.aclose()
    assert [len(b) for b in sink.batches] == [1, 40, 40, 20]


async def test_close_writes_everything_queued_before_closing_the_sink() -> None:
    sink = GatedSink()
    writer = AuditWriter(sink)
    writer.start()
    await writer.write([_record(0)])
    await asyncio.wait_for(sink.entered.wait(), 5)
    await writer.write([_record(n) for n in range(1, 500)])
    closing = asyncio.create_task(writer.aclose())
    await asyncio.sleep(0.05)
    assert not closing.done() and not sink.closed  # shutdown waits for the queue
    sink.gate.set()
    await asyncio.wait_for(closing, 5)
    assert sink.customers() == [f"KH{n:08d}" for n in range(500)] and sink.closed
    await writer.write([_record(500)])  # a straggler after close is written directly, not lost
    assert sink.customers()[-1] == "KH00000500"


async def test_a_full_queue_holds_the_request_back_and_never_drops(caplog: pytest.LogCaptureFixture) -> None:
    sink = GatedSink()
    writer = AuditWriter(sink, max_queued=2)
    writer.start()
    await writer.write([_record(0)])
    await asyncio.wait_for(sink.entered.wait(), 5)  # record 0 at the gate, the queue empty
    await writer.write([_record(1), _record(2)])  # fills the queue
    third = asyncio.create_task(writer.write([_record(3)]))
    await asyncio.sleep(0.05)
    assert not third.done()  # backpressure: the request waits for room
    assert writer.waits == 1 and "audit queue full" in caplog.text
    sink.gate.set()
    await asyncio.wait_for(third, 5)
    await writer.aclose()
    assert sink.customers() == [f"KH{n:08d}" for n in range(4)]


async def test_a_queue_that_stays_full_fails_the_request_rather_than_drop_its_record() -> None:
    sink = GatedSink()
    writer = AuditWriter(sink, max_queued=1, full_wait_s=0.05)
    writer.start()
    await writer.write([_record(0)])
    await asyncio.wait_for(sink.entered.wait(), 5)
    await writer.write([_record(1)])
    with pytest.raises(AuditUnavailable):
        await writer.write([_record(2)])
    sink.gate.set()
    await writer.aclose()
    assert sink.customers() == ["KH00000000", "KH00000001"]  # record 2's request was refused


async def test_a_failed_batch_is_retried_not_dropped(caplog: pytest.LogCaptureFixture) -> None:
    sink = GatedSink(fail_first=2)
    sink.gate.set()
    writer = AuditWriter(sink)
    writer.start()
    await writer.write([_record(0), _record(1)])
    await asyncio.wait_for(writer.flush(), 5)
    await writer.aclose()
    assert sink.attempts == 3 and sink.customers() == ["KH00000000", "KH00000001"]
    assert "not written; retrying" in caplog.text


async def test_file_sink_behind_the_writer_keeps_the_line_format(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    writer = AuditWriter(JsonLinesSink(path))
    writer.start()
    await asyncio.gather(*(writer.write([_record(n), {**_record(n), "event": "refused"}]) for n in range(50)))
    await writer.aclose()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 100 and json.loads(lines[0]) == _record(0)
    assert lines[0] == '{"event":"unmasked_read","customer":"KH00000000","fields":["customer.idCard"]}'
    assert writer.batches < 50  # fewer writes than requests


async def test_records_arriving_together_share_one_batch_when_the_writer_lingers() -> None:
    """With a linger, records queued a moment apart go out as one write (one thread hop), not one each."""
    sink = GatedSink()
    sink.gate.set()
    writer = AuditWriter(sink, linger_s=0.2)
    writer.start()
    for n in range(5):
        await writer.write([_record(n)])
        await asyncio.sleep(0.005)  # apart, but within the linger
    await writer.flush()
    assert [len(b) for b in sink.batches] == [5]
    unlingering = AuditWriter(sink := GatedSink())
    sink.gate.set()
    unlingering.start()
    for n in range(5):
        await unlingering.write([_record(n)])
        await asyncio.sleep(0.005)
    await unlingering.flush()
    assert [len(b) for b in sink.batches] == [1, 1, 1, 1, 1]  # the comparison above can fail
    await writer.aclose()
    await unlingering.aclose()
