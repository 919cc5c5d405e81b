"""Strawberry's parser and validation caches, made to skip a document handed over pre-validated.

Strawberry's `ParserCache` parses (or looks up) `execution_context.query` even when an extension
has already set the document, and `ValidationCache` validates (or looks up) whatever document is
there even when validation is marked done. These two skip the step then (`gateway.prepared_document`
sets both marks), and count the steps they do run in `DOCUMENT_WORK`, so tests and metrics can see
that a persisted operation costs no parse and no validation per request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from strawberry.extensions import ParserCache, ValidationCache


@dataclass
class DocumentWork:
    """Parse and validation steps run by this process's operations (cache hits included)."""

    parses: int = 0
    validations: int = 0


DOCUMENT_WORK = DocumentWork()


class DocumentParserCache(ParserCache):
    def on_parse(self) -> Iterator[None]:
        if self.execution_context.graphql_document is not None:  # handed over, already parsed
            yield
            return
        DOCUMENT_WORK.parses += 1
        yield from super().on_parse()


class DocumentValidationCache(ValidationCache):
    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors is not None:  # validated before the request
            yield
            return
        DOCUMENT_WORK.validations += 1
        yield from super().on_validate()
