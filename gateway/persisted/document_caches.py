"""Strawberry's parser and validation caches, made to skip a document handed over pre-validated,
and to parse and validate a large document off the event loop.

Strawberry's `ParserCache` parses (or looks up) `execution_context.query` even when an extension
has already set the document, and `ValidationCache` validates (or looks up) whatever document is
there even when validation is marked done. These two skip the step then (`gateway.persisted.prepared_document`
and `gateway.limits.query_cost_limit` set the marks), and count the steps they do run in `DOCUMENT_WORK`,
so tests and metrics can see that a persisted operation costs no parse and no validation per request.

graphql-core's `OverlappingFieldsCanBeMerged` compares fields sharing a response name pairwise: a
document within every limit can still take a few hundred milliseconds to validate. A document of
more than `inline_max_fields` fields (as `gateway.limits.query_cost_limit` measured it) is validated in a
worker thread: the interpreter hands the event loop the GIL every few milliseconds meanwhile, so
`/healthz` and every other request keep being answered. Small documents stay inline, where a thread
hop would cost more than the validation; a persisted operation (the softphone's screen pop) is not
validated per request at all, and a document validated once is looked up by its text afterwards
(no thread, no walk of the tree: `_VALIDATED`). Parsing costs tens of microseconds a token on a busy
machine: a text longer than `inline_max_chars` is parsed in a worker thread too (the token limit
still applies).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.schema import schema as strawberry_schema

from gateway.limits.cost_limits import measured_cost


@dataclass
class DocumentWork:
    """Parse and validation steps run by this process's operations (cache hits included)."""

    parses: int = 0
    validations: int = 0
    parses_off_loop: int = 0
    validations_off_loop: int = 0


DOCUMENT_WORK = DocumentWork()


class DocumentParserCache(ParserCache):
    def __init__(self, inline_max_chars: int = 1024) -> None:
        super().__init__()
        self.inline_max_chars = inline_max_chars

    async def on_parse(self) -> AsyncIterator[None]:  # type: ignore[override]  # async: may hop threads
        context = self.execution_context
        if context.graphql_document is not None:  # handed over, already parsed
            yield
            return
        DOCUMENT_WORK.parses += 1
        kwargs = dict(context.parse_options)
        if context.query is not None and len(context.query) > self.inline_max_chars:
            DOCUMENT_WORK.parses_off_loop += 1
            context.graphql_document = await asyncio.to_thread(
                self.cached_parse_document, context.query, **kwargs
            )
        else:
            context.graphql_document = self.cached_parse_document(context.query, **kwargs)
        yield


# Validation results by (query text, schema, rules), most recently used last. Strawberry's own cache
# is keyed by the parsed document, and graphql-core's AST nodes are frozen dataclasses whose hash
# walks the whole tree: every lookup cost a full walk of the document, for large ones in a worker
# thread (a quarter of a screen pop's thread hops and hashing, profiled). A `str` caches its hash,
# so a hit here costs a dict lookup on the loop and no thread at all.
_VALIDATED: OrderedDict[tuple[str, Any, tuple[Any, ...]], list[GraphQLError]] = OrderedDict()
VALIDATED_MAX = 256


class DocumentValidationCache(SchemaExtension):
    """Strawberry's `ValidationCache`'s job, keyed by the text (`_VALIDATED`) and off the loop for
    large documents; a plain extension, since none of that class's own cache is used."""

    def __init__(self, inline_max_fields: int = 50) -> None:
        super().__init__()
        self.inline_max_fields = inline_max_fields

    async def on_validate(self) -> AsyncIterator[None]:  # async: may hop threads
        context = self.execution_context
        if context.pre_execution_errors is not None:  # validated before the request, or refused
            yield
            return
        DOCUMENT_WORK.validations += 1
        schema, rules = context.schema._schema, tuple(context.validation_rules)
        key = (
            (context.query, schema, rules) if context.query is not None else None
        )  # the schema itself: no id reuse
        known = _VALIDATED.get(key) if key is not None else None
        if known is not None:
            _VALIDATED.move_to_end(key)  # type: ignore[arg-type]  # known implies a key
            context.pre_execution_errors = known
            yield
            return
        document = context.graphql_document
        assert document is not None  # parsed before validation, or refused with pre_execution_errors
        cost = measured_cost.get()
        if cost is not None and cost.fields > self.inline_max_fields:
            DOCUMENT_WORK.validations_off_loop += 1
            errors = await asyncio.to_thread(
                strawberry_schema.validate_document, schema, document, context.validation_rules
            )
        else:
            errors = strawberry_schema.validate_document(schema, document, context.validation_rules)
        if key is not None:
            _VALIDATED[key] = errors
            while len(_VALIDATED) > VALIDATED_MAX:
                _VALIDATED.popitem(last=False)
        context.pre_execution_errors = errors
        yield
