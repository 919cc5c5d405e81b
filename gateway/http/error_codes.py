"""`ErrorCodes`: codes the errors only the GraphQL pipeline's phase can tell apart.

A validation error and a bad variable look alike afterwards (no path, no original error); the
phase they came from is the only honest way to tell them apart. Errors that can be coded by their
type (syntax errors, resolver codes, backend `.code`s) and masking of the unexpected ones are left
to `gateway.http.errors.public_error`, which sees every result, including those that never reach
this extension (a parse error raised inside ParserCache's hook skips it).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from gateway.http.errors import with_code
from gateway.observability.logging import current_request
from services.errors import ErrorCode


class ErrorCodes(SchemaExtension):
    """Tag validation errors and request errors (bad variables) with their public code."""

    def __init__(self) -> None:
        self._phase = "parse"

    def on_validate(self) -> Iterator[None]:
        self._phase = "validate"
        yield

    def on_execute(self) -> Iterator[None]:
        self._phase = "execute"
        yield

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            record = current_request.get()
            if record is not None:
                record.operation = self.execution_context.operation_name
                record.operation_type = _operation_type(self.execution_context)
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            # Replace the list, never edit it: with ValidationCache it is a shared cache entry.
            result.errors = [self._coded(error) for error in errors]  # type: ignore[union-attr]

    def _coded(self, error: GraphQLError) -> GraphQLError:
        if self._phase == "validate":
            return with_code(error, ErrorCode.GRAPHQL_VALIDATION_FAILED)
        if self._phase == "execute" and error.path is None:
            # Not from a resolver (those have a path): variables that do not coerce, an
            # unknown operation name. The caller's input is wrong, not us.
            return with_code(error, ErrorCode.BAD_USER_INPUT)
        return error


def _operation_type(context: ExecutionContext) -> str | None:
    """query | mutation | subscription, or None when the document never said (it did not parse)."""
    try:
        return context.operation_type.value
    except Exception:  # Strawberry raises when there is no (single) operation to run
        return None
