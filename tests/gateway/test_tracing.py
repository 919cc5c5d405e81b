"""The operation's span in the app, the provider built from settings, and tracing off meaning off."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import orjson
import pytest
from graphql import parse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_trace_id
from pydantic import ValidationError

from gateway.app import create_app
from gateway.observability.tracing import open_tracing
from gateway.persisted.compiled_operation import compile_operation
from gateway.persisted.manifest import PersistedOperation, document_id
from gateway.settings import Settings
from tests.gateway.conftest import TEST_KEYS, serve, small_schema

INCOMING = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def _one(
    settings: Settings, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[ReadableSpan, dict[str, str], dict[str, Any]]:
    exporter = InMemorySpanExporter()
    app = create_app(settings, schema=small_schema(settings), keys=TEST_KEYS, span_exporter=exporter)
    async with serve(app) as client:
        r = await client.post("/graphql", json=body, headers=headers or {})
    (span,) = exporter.get_finished_spans()
    assert span.kind is SpanKind.SERVER
    return span, dict(r.headers), r.json()


async def test_the_operation_span_is_named_after_the_operation(settings: Settings) -> None:
    span, headers, _ = await _one(settings, {"query": "query Greeting { hello }"})
    assert span.name == "query Greeting"
    assert dict(span.attributes or {}) == {
        "http.request.method": "POST",
        "url.path": "/graphql",
        "graphql.operation.type": "query",
        "graphql.operation.name": "Greeting",
        "http.response.status_code": 200,
    }
    assert headers["traceresponse"].split("-")[1] == format_trace_id(span.context.trace_id)
    anonymous, _, _ = await _one(settings, {"query": "{ hello }"})
    assert anonymous.name == "query" and "graphql.operation.name" not in (anonymous.attributes or {})


async def test_a_compiled_persisted_query_names_its_span_too(settings: Settings) -> None:
    """A manifest query that runs compiled (`gateway.persisted.compiled_operation`) passes no schema
    extension, yet its span is named as the executor's would be."""
    body = "query Greeting { hello }"
    manifest = [PersistedOperation(document_id(body), body, "Greeting", "query")]
    assert compile_operation(small_schema(settings), parse(body)) is not None  # it does run compiled
    exporter = InMemorySpanExporter()
    app = create_app(
        settings, schema=small_schema(settings), keys=TEST_KEYS, span_exporter=exporter, manifest=manifest
    )
    async with serve(app) as client:
        r = await client.post("/graphql", json={"documentId": f"sha256:{document_id(body)}"})
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    (span,) = exporter.get_finished_spans()
    assert span.name == "query Greeting"
    attributes = dict(span.attributes or {})
    assert (attributes["graphql.operation.type"], attributes["graphql.operation.name"]) == (
        "query",
        "Greeting",
    )


async def test_errors_mark_the_span_with_their_codes_and_no_input(settings: Settings) -> None:
    failed, _, body = await _one(settings, {"query": "query Late { slow hello }"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BACKEND_TIMEOUT"]
    assert failed.status.status_code is StatusCode.ERROR and failed.status.description == "BACKEND_TIMEOUT"
    assert (failed.attributes or {})["tidegate.error_codes"] == ("BACKEND_TIMEOUT",)
    unparsed, _, _ = await _one(settings, {"query": 'query { hello(name: "13800138000" '})
    assert unparsed.name == "GraphQL Operation" and unparsed.status.description == "GRAPHQL_PARSE_FAILED"
    assert "13800138000" not in unparsed.to_json()


async def test_an_incoming_traceparent_is_continued(settings: Settings) -> None:
    span, _, _ = await _one(settings, {"query": "{ hello }"}, {"traceparent": INCOMING})
    assert format_trace_id(span.context.trace_id) == "0af7651916cd43dd8448eb211c80319c"
    assert span.parent is not None and span.parent.is_remote


async def test_the_request_log_line_carries_the_trace_id(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "tidegate.graphql.request")
    span, _, _ = await _one(settings, {"query": "{ hello }"})
    (line,) = [r for r in caplog.records if r.name == "tidegate.graphql.request"]
    assert vars(line)["trace_id"] == format_trace_id(span.context.trace_id)
    assert vars(line)["operation_type"] == "query"


async def test_tracing_off_makes_no_span_and_answers_no_trace(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings.observability.tracing_exporter == "none"
    assert open_tracing(settings).tracer is None  # no provider at all
    caplog.set_level(logging.INFO, "tidegate.graphql.request")
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        r = await client.post("/graphql", json={"query": "{ hello }"}, headers={"traceparent": INCOMING})
    assert r.status_code == 200 and "traceresponse" not in r.headers
    (line,) = [r for r in caplog.records if r.name == "tidegate.graphql.request"]
    assert vars(line)["trace_id"] is None


def test_tracing_settings() -> None:
    with pytest.raises(ValidationError):
        Settings(tracing_exporter="jaeger")
    with pytest.raises(ValidationError):
        Settings(tracing_sample_ratio=1.5)
    assert Settings().observability.otlp_endpoint.startswith("http://127.0.0.1:")


def test_a_zero_sample_ratio_records_nothing_new() -> None:
    tracing = open_tracing(Settings(tracing_exporter="console", tracing_sample_ratio=0.0))
    assert tracing.tracer is not None
    with tracing.tracer.start_as_current_span("x") as span:
        assert not span.is_recording()
    tracing.shutdown()


def test_the_console_exporter_prints_one_json_span_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    tracing = open_tracing(Settings(tracing_exporter="console"))
    assert tracing.tracer is not None
    with tracing.tracer.start_as_current_span("query ScreenPop"):
        pass
    tracing.shutdown()  # the batch processor flushes
    (line,) = capsys.readouterr().out.splitlines()
    exported = orjson.loads(line)
    assert exported["name"] == "query ScreenPop"
    assert exported["resource"]["attributes"]["service.name"] == "tidegate"


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def collector() -> Iterator[str]:
    """A stand-in OTLP/HTTP collector on a local port: real HTTP, protobuf bodies kept for the test."""
    _Collector.received = []
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/traces"
    finally:
        server.shutdown()
        server.server_close()


def test_the_otlp_exporter_posts_protobuf_to_the_collector(collector: str) -> None:
    tracing = open_tracing(Settings(tracing_exporter="otlp", otlp_endpoint=collector))
    assert tracing.tracer is not None
    with tracing.tracer.start_as_current_span("query ScreenPop"):
        pass
    tracing.shutdown()
    ((path, content_type, body),) = _Collector.received
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(body)
    (resource_spans,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}["service.name"]
    assert service == "tidegate"
    assert [s.name for s in resource_spans.scope_spans[0].spans] == ["query ScreenPop"]
