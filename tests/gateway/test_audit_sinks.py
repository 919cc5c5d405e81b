"""Audit sinks: append-only JSON lines, and a real Redis stream that falls back to the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import redis

from gateway.observability.audit import JsonLinesSink, RedisStreamSink
from infra.redis_client import redis_client
from tests.support.redis_server import start_redis

RECORD = {
    "event": "unmasked_read",
    "customer": "KH00000001",
    "fields": ["customer.idCard"],
    "role": "supervisor",
}


async def test_json_lines_append(tmp_path: Path) -> None:
    sink = JsonLinesSink(tmp_path / "a" / "audit.jsonl")
    await sink.write([RECORD])
    await sink.write([{**RECORD, "customer": "KH00000002"}, RECORD])
    lines = (tmp_path / "a" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["customer"] for line in lines] == ["KH00000001", "KH00000002", "KH00000001"]
    assert oct((tmp_path / "a" / "audit.jsonl").stat().st_mode & 0o777) == "0o600"


async def test_json_lines_makes_its_directory_again_if_it_goes_away(tmp_path: Path) -> None:
    """The directory is made when the file cannot be opened for want of it, not before every batch."""
    path = tmp_path / "a" / "b" / "audit.jsonl"
    sink = JsonLinesSink(path)
    await sink.write([RECORD])
    path.unlink()
    path.parent.rmdir()
    await sink.write([{**RECORD, "customer": "KH00000002"}])
    assert [json.loads(line)["customer"] for line in path.read_text(encoding="utf-8").splitlines()] == [
        "KH00000002"
    ]


async def test_redis_stream_and_fallback_when_redis_goes_away(tmp_path: Path) -> None:
    server = start_redis()
    fallback = JsonLinesSink(tmp_path / "fallback.jsonl")
    sink = RedisStreamSink(redis_client(server.url, timeout_s=1.0), "tidegate:audit", fallback)
    try:
        await sink.write([RECORD, {**RECORD, "event": "refused"}])
        entries: Any = redis.Redis(port=server.port).xrange("tidegate:audit")
        assert [orjson.loads(fields[b"record"])["event"] for _id, fields in entries] == [
            "unmasked_read",
            "refused",
        ]
        assert not (tmp_path / "fallback.jsonl").exists()
        server.stop()
        await sink.write([{**RECORD, "customer": "KH00000009"}])  # no Redis: the record still lands
        saved = (tmp_path / "fallback.jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.loads(line)["customer"] for line in saved] == ["KH00000009"]
    finally:
        server.stop()
        await sink.aclose()
