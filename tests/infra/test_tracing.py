"""Backend CLIENT spans and resolver source batch spans, against httpx's MockTransport."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, Tracer, format_span_id, format_trace_id

from infra.errors import BackendServerError, BackendTimeout
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig
from infra.http.exchange import Outgoing
from infra.tracing import NOT_TRACED, BackendTracing, redacted_url
from services.loaders import KeyedLoader

PHONE = "13800138000"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> Tracer:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test")


def _http(handler: httpx.MockTransport, tracer: Tracer | None) -> BackendHttp:
    return BackendHttp(BackendConfig("crm", "http://127.0.0.1:8102", tracer=tracer), transport=handler)


async def test_a_call_is_a_client_span_whose_traceparent_the_backend_receives(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=[])

    http = _http(httpx.MockTransport(answer), tracer)
    await http.request("GET", "/crm/api/v2/contacts", params={"phone": PHONE})

    (span,) = exporter.get_finished_spans()
    assert span.kind is SpanKind.CLIENT and span.name == "GET crm"
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": 8102,
        "url.full": "http://127.0.0.1:8102/crm/api/v2/contacts?phone=REDACTED",
        "peer.service": "crm",
        "http.response.status_code": 200,
    }
    assert span.status.status_code is StatusCode.UNSET
    trace_id, span_id = format_trace_id(span.context.trace_id), format_span_id(span.context.span_id)
    assert sent[0].headers["traceparent"] == f"00-{trace_id}-{span_id}-{span.context.trace_flags:02x}"
    assert PHONE in str(sent[0].url)  # the backend still gets its query; only the span drops the value


async def test_a_failed_answer_marks_the_span_failed_by_its_status(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    http = _http(httpx.MockTransport(lambda _: httpx.Response(503, text="busy")), tracer)
    assert (await http.request("POST", "/crm/api/v2/contacts:search")).status_code == 503
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR and span.status.description == "503"
    assert (span.attributes or {})["error.type"] == "503"


async def test_transport_failures_are_recorded_by_type_never_message(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    async def hang(_request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200)

    with pytest.raises(BackendServerError):
        await _http(httpx.MockTransport(refuse), tracer).request("GET", "/c", params={"phone": PHONE})
    with pytest.raises(BackendTimeout):
        await _http(httpx.MockTransport(hang), tracer).request("GET", "/c", timeout_s=0.01)

    refused, late = exporter.get_finished_spans()
    assert (refused.attributes or {})["error.type"] == "ConnectError"
    assert (late.attributes or {})["error.type"] == "timeout"
    assert all(s.status.status_code is StatusCode.ERROR and not s.events for s in (refused, late))
    assert PHONE not in str(refused.to_json())


async def test_without_a_tracer_nothing_is_traced_and_nothing_sent() -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    await _http(httpx.MockTransport(answer), None).request("GET", "/c")
    assert "traceparent" not in sent[0].headers
    off = BackendTracing()
    request = Outgoing("GET", "http://127.0.0.1/", {})
    assert off.call("crm", request) is NOT_TRACED and off.batch("crm.x", 1) is NOT_TRACED


async def test_a_loader_batch_is_the_parent_of_its_backend_calls(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    http = _http(httpx.MockTransport(lambda _: httpx.Response(200, json={})), tracer)

    async def fetch(keys: list[str]) -> dict[str, str]:
        await http.request("POST", "/crm/api/v2/contacts:search", json={"customerNos": keys})
        return {k: k for k in keys}

    loader = KeyedLoader[str, str](fetch, 100, "crm.customer_by_no", BackendTracing(tracer))
    loaded = await asyncio.gather(loader.load("1"), loader.load("2"), loader.load("3"))
    assert list(loaded) == ["1", "2", "3"]
    call, batch = exporter.get_finished_spans()
    assert batch.name == "crm.customer_by_no batch" and batch.kind is SpanKind.INTERNAL
    assert (batch.attributes or {})["tidegate.batch.size"] == 3
    assert call.parent is not None and call.parent.span_id == batch.context.span_id


def test_urls_lose_credentials_and_query_values() -> None:
    url = httpx.URL("http://user:secret@127.0.0.1:8101/ws/RevenueService?phone=13800138000&phone=1&f=json")
    assert redacted_url(str(url)) == "http://127.0.0.1:8101/ws/RevenueService?phone=REDACTED&f=REDACTED"
    assert redacted_url("http://localhost/wo/api/orders") == "http://localhost/wo/api/orders"
