"""Spans for what the backends do: one per HTTP call (CLIENT), one per resolver source batch (INTERNAL).

On the OpenTelemetry API only: the gateway owns the SDK, builds a tracer from its settings and hands it
to `Backends.open`. Without one (tracing off, the default) every method here returns a shared do-nothing
object: no span, no context switch, and no `traceparent` sent, so a request pays a method call or two.

Nothing a caller typed reaches a span: phone numbers and account numbers travel in query strings and
SOAP bodies, so `url.full` keeps the query's parameter names and drops their values, bodies are never
read, and an error is recorded by its type (`error.type`), never by its message.
"""

from __future__ import annotations

from contextvars import Token
from types import TracebackType
from typing import Final
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from infra.http.exchange import Answer, Outgoing, TransportError, TransportTimeout

# W3C Trace Context only (`traceparent`, `tracestate`): no baggage, which could carry anything.
PROPAGATOR: Final = TraceContextTextMapPropagator()
REDACTED: Final = "REDACTED"


class ClientCall:
    """One backend HTTP call's span, entered around sending the request and reading its body."""

    def __init__(self, tracer: Tracer, backend: str, request: Outgoing) -> None:
        self._tracer = tracer
        self._backend = backend
        self._request = request
        self._span: Span | None = None

    async def __aenter__(self) -> ClientCall:
        request, url = self._request, urlsplit(self._request.url)
        port = url.port or (443 if url.scheme == "https" else 80)
        self._span = span = self._tracer.start_span(
            f"{request.method} {self._backend}",  # the backend stands in for a url.template (ids in paths)
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": request.method,
                "server.address": url.hostname or "",
                "server.port": port,
                "url.full": redacted_url(request.url),
                "peer.service": self._backend,
            },
            record_exception=False,
            set_status_on_exception=False,
        )
        request.headers = carrier = dict(request.headers)  # the prepared set may be shared: a copy
        PROPAGATOR.inject(carrier, context=set_span_in_context(span))
        return self

    def answered(self, response: Answer) -> None:
        """The status code; a 4xx or 5xx marks the call failed (the backend's own fault code stays out)."""
        assert self._span is not None
        status = response.status_code
        self._span.set_attribute("http.response.status_code", status)
        if status >= 400:
            self._span.set_attribute("error.type", str(status))
            self._span.set_status(Status(StatusCode.ERROR, str(status)))

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._span is not None
        if kind is not None:
            failed(self._span, kind, kind_name=exc.kind if isinstance(exc, TransportError) else None)
        self._span.end()


class SourceBatch:
    """One resolver source's batch (a dataloader calling its backend once for many keys)."""

    def __init__(self, tracer: Tracer, source: str, size: int) -> None:
        self._tracer, self._source, self._size = tracer, source, size
        self._span: Span | None = None
        self._token: Token[otel_context.Context] | None = None

    async def __aenter__(self) -> SourceBatch:
        self._span = self._tracer.start_span(
            f"{self._source} batch",
            kind=SpanKind.INTERNAL,
            attributes={"tidegate.source": self._source, "tidegate.batch.size": self._size},
            record_exception=False,
            set_status_on_exception=False,
        )
        self._token = otel_context.attach(set_span_in_context(self._span))
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._span is not None
        assert self._token is not None
        otel_context.detach(self._token)
        if kind is not None:
            failed(self._span, kind, getattr(exc, "code", None))
        self._span.end()


class _NotTraced:
    """What every method returns with tracing off: enters and leaves without doing anything."""

    async def __aenter__(self) -> _NotTraced:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    def answered(self, response: Answer) -> None:
        return None


NOT_TRACED: Final = _NotTraced()


class BackendTracing:
    """The tracer the app hands its backends and loaders, or None: then nothing is traced or sent."""

    def __init__(self, tracer: Tracer | None = None) -> None:
        self.tracer = tracer

    def call(self, backend: str, request: Outgoing) -> ClientCall | _NotTraced:
        """Around one HTTP call; injects `traceparent` (this span as the parent) into `request`."""
        return NOT_TRACED if self.tracer is None else ClientCall(self.tracer, backend, request)

    def batch(self, source: str, size: int) -> SourceBatch | _NotTraced:
        """Around one batch of a resolver source; its backend calls become this span's children."""
        return NOT_TRACED if self.tracer is None else SourceBatch(self.tracer, source, size)


def redacted_url(url: str) -> str:
    """The URL without credentials and with every query value replaced: `...?phone=REDACTED`."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    base = f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"
    if not parts.query:
        return base
    # The raw query split by hand: names need no decoding to be kept.
    names = dict.fromkeys(part.partition("=")[0] for part in parts.query.split("&") if part)
    return base + "?" + "&".join(f"{name}={REDACTED}" for name in names)


def failed(
    span: Span, kind: type[BaseException], code: str | None = None, *, kind_name: str | None = None
) -> None:
    """Mark `span` failed by the error's type (and public code), never its message (it may echo input);
    a transport error by the library's own error it stands for (`kind_name`: `ConnectError`)."""
    timed_out = issubclass(kind, TimeoutError | TransportTimeout)
    error_type = "timeout" if timed_out else kind_name or kind.__qualname__
    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR, code or error_type))
