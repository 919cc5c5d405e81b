"""OpenTelemetry tracing: the app's own tracer provider, and the span of each GraphQL operation.

`open_tracing(settings)` builds a `TracerProvider` from the settings, owned by the app (opened and shut
down by its lifespan, never set as the process's global provider: tests build many apps in one
process, each with its own exporter). Exporter `none`, the default, builds no provider at all: the
view, the loaders and the backends then get no tracer and skip every span, and no `traceparent` is
sent, not even one a caller sent us (off means off; the BFF is then invisible in a caller's trace).

With a tracer, one request makes:
- the operation's SERVER span (`query ScreenPop`), continuing the caller's trace when a `traceparent`
  came in (a federation router); current (contextvars) while Strawberry executes, so everything
  below parents to it. Its trace id goes to the request's log line and the `traceresponse` header;
- one INTERNAL span per resolver source batch (`billing.account_by_no batch`, `services.loaders`);
- one CLIENT span per backend HTTP call, whose `traceparent` the backend receives (`infra.tracing`).

Work detached from the request keeps its parent: a cache fill runs in a copy of the request's context
(`infra.deadline.detached_context`), so its calls stay children of the batch that started them even
when they finish after the answer left. The ring-time screen pop, started by a CTI event nobody
traces, is a trace of its own (`ring_time_span`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import Token
from dataclasses import dataclass
from types import TracebackType
from typing import Final

from opentelemetry import context as otel_context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import (
    Span,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    format_span_id,
    format_trace_id,
    set_span_in_context,
)
from starlette.responses import Response
from starlette.types import Scope

from gateway.observability.logging import RequestRecord
from gateway.settings import Settings
from infra.tracing import PROPAGATOR

SERVICE_NAME: Final = "tidegate"
TRACER_STATE: Final = "tracer"  # the lifespan state key the view reads its tracer from
UNKNOWN_OPERATION: Final = "GraphQL Operation"  # the semantic conventions' name before parsing


@dataclass(frozen=True)
class Tracing:
    """The app's provider (None: tracing off) and the tracer its spans come from."""

    provider: TracerProvider | None = None
    tracer: Tracer | None = None

    def shutdown(self) -> None:
        """Flush what is queued and stop the exporter's thread (the app's lifespan, at shutdown)."""
        if self.provider is not None:
            self.provider.shutdown()


def open_tracing(settings: Settings, exporter: SpanExporter | None = None) -> Tracing:
    """From the settings; `exporter` is the tests' seam (an `InMemorySpanExporter`, exported at once)."""
    if exporter is None and settings.observability.tracing_exporter == "none":
        return Tracing()
    provider = TracerProvider(
        resource=Resource.create({"service.name": SERVICE_NAME}),
        sampler=ParentBased(TraceIdRatioBased(settings.observability.tracing_sample_ratio)),
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    return Tracing(provider, provider.get_tracer(SERVICE_NAME))


def _exporter(settings: Settings) -> SpanExporter:
    if (
        settings.observability.tracing_exporter == "console"
    ):  # one JSON object per line on stdout (logs go to stderr)
        return ConsoleSpanExporter(out=sys.stdout, formatter=_one_line)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.observability.otlp_endpoint)


def _one_line(span: ReadableSpan) -> str:
    line: str = span.to_json(indent=None)
    return line + "\n"


class OperationSpan:
    """The span of one GraphQL request over HTTP, current while it runs; see `operation_span`."""

    def __init__(self, tracer: Tracer, scope: Scope, record: RequestRecord) -> None:
        self._tracer, self._scope, self._record = tracer, scope, record
        self._span: Span | None = None
        self._token: Token[otel_context.Context] | None = None

    async def __aenter__(self) -> OperationSpan:
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in self._scope.get("headers") or ()
            if name in (b"traceparent", b"tracestate")
        }
        parent = PROPAGATOR.extract(carrier) if carrier else None
        self._span = span = self._tracer.start_span(
            UNKNOWN_OPERATION,  # named once parsed (`OperationAttributes`)
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": self._scope.get("method", ""),
                "url.path": self._scope["path"],
            },
            record_exception=False,
            set_status_on_exception=False,
        )
        self._token = otel_context.attach(set_span_in_context(span))
        if span.is_recording():
            self._record.trace_id = format_trace_id(span.get_span_context().trace_id)
        return self

    def answered(self, response: Response) -> None:
        """Status code and error codes on the span; `traceresponse` (W3C Trace Context 2) on the answer."""
        assert self._span is not None
        span = self._span
        span.set_attribute("http.response.status_code", response.status_code)
        if self._record.codes:
            codes = list(dict.fromkeys(self._record.codes))
            span.set_attribute("tidegate.error_codes", codes)
            span.set_status(Status(StatusCode.ERROR, ",".join(codes)))
        elif response.status_code >= 500:
            span.set_status(Status(StatusCode.ERROR, str(response.status_code)))
        context = span.get_span_context()
        if context.is_valid:
            flags = f"{int(context.trace_flags):02x}"
            response.headers["traceresponse"] = (
                f"00-{format_trace_id(context.trace_id)}-{format_span_id(context.span_id)}-{flags}"
            )

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._span is not None and self._token is not None
        otel_context.detach(self._token)
        if kind is not None:
            self._span.set_attribute("error.type", kind.__qualname__)
            self._span.set_status(Status(StatusCode.ERROR, kind.__qualname__))
        self._span.end()


class _NoOperationSpan:
    async def __aenter__(self) -> _NoOperationSpan:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    def answered(self, response: Response) -> None:
        return None


_NO_SPAN: Final = _NoOperationSpan()


def operation_span(scope: Scope, record: RequestRecord) -> OperationSpan | _NoOperationSpan:
    """Around one HTTP GraphQL request: the app's tracer comes with the lifespan state (None: off)."""
    tracer: Tracer | None = (scope.get("state") or {}).get(TRACER_STATE)
    return _NO_SPAN if tracer is None else OperationSpan(tracer, scope, record)


@contextmanager
def ring_time_span(tracer: Tracer | None, operation: str) -> Iterator[None]:
    """The ring-time screen pop's root span: a trace of its own, its loaders and calls below it."""
    if tracer is None:
        yield
        return
    with tracer.start_as_current_span(
        f"query {operation}",
        context=otel_context.Context(),  # a root, whatever task started it
        kind=SpanKind.INTERNAL,
        attributes={
            "graphql.operation.type": "query",
            "graphql.operation.name": operation,
            "tidegate.ring_time": True,
        },
    ):
        yield
