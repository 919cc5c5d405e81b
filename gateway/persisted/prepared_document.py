"""`PreparedDocument`: runs a document the gateway parsed and validated before the request came.

The manifest's operations (`gateway.persisted.queries`) are parsed and validated once, at start-up.
For a request naming one of them, the view hands the parsed `DocumentNode` over through
`handed_document` (a context variable: one request is one task), and this extension puts it on
Strawberry's execution context before the parse step, with `pre_execution_errors = []`, Strawberry's
own sign that validation has already run (`_run_validation` skips it). `gateway.persisted.document_caches`'s
parser and validation caches honour both, so the request costs neither a parse nor a validation,
not even a cache lookup. It must come before them in the schema's extensions (`on_operation` runs
in list order, before parsing).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

# The parsed and validated document of the request running in this task, if the gateway has one.
handed_document: ContextVar[DocumentNode | None] = ContextVar("tidegate_handed_document", default=None)


@contextmanager
def handing_over(document: DocumentNode | None) -> Iterator[None]:
    """Run the operation executed inside with `document` (None: parse and validate as usual)."""
    token = handed_document.set(document)
    try:
        yield
    finally:
        handed_document.reset(token)


class PreparedDocument(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        document = handed_document.get()
        if document is not None:
            self.execution_context.graphql_document = document
            self.execution_context.pre_execution_errors = []  # validated at start-up
        yield
