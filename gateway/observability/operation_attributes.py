"""`OperationAttributes`: names the operation's span once the document is parsed.

The view opens the span before anything is parsed (`gateway.observability.tracing`); only here are the
operation's type and name known. Per the GraphQL semantic conventions the span becomes
`{graphql.operation.type} {graphql.operation.name}` (`query ScreenPop`), or just the type for an
anonymous operation. The document itself is never recorded: literals in it can be phone numbers.
With tracing off the current span is not recording and this costs one context-variable read.
"""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry.trace import get_current_span
from strawberry.extensions import SchemaExtension

from gateway.observability.logging import current_request


def name_operation(kind: str | None, name: str | None) -> None:
    """Name the current span after the operation (and note its type on the request's log record);
    also called by the view for an operation that runs compiled, which no extension sees."""
    span = get_current_span()
    if not span.is_recording():
        return
    if kind is not None:
        span.update_name(f"{kind} {name}" if name else kind)
        span.set_attribute("graphql.operation.type", kind)
        record = current_request.get()
        if record is not None and record.operation_type is None:
            record.operation_type = kind
    if name:
        span.set_attribute("graphql.operation.name", name)


class OperationAttributes(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        if get_current_span().is_recording():
            context = self.execution_context
            try:
                kind = context.operation_type.value  # "query" | "mutation" | "subscription"
            except Exception:  # an unknown operation name: validation reports it, the span stays unnamed
                kind = None
            name_operation(kind, context.operation_name)
        yield
