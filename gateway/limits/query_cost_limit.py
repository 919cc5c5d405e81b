"""`QueryCostLimit`: the document's cost checked in one pass, before any other validation rule.

It must come before `DocumentValidationCache` in the schema's extensions (hooks run in list order):
a document it refuses gets its coded errors as `pre_execution_errors`, Strawberry's sign that
validation is done, so neither graphql-core's rules nor the cache ever walk it (their walks over
spreads are what a hostile document multiplies). A document it admits is validated as usual, with
its measure in `measured_cost` for the cache to decide where (`gateway.persisted.document_caches`).

A document handed over pre-validated (a manifest operation, `gateway.persisted.prepared_document`) was
checked at start-up with the same limits (`gateway.persisted.queries.schema_validator`): skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from gateway.limits.cost_limits import CostLimits, check_cost, measured_cost


class QueryCostLimit(SchemaExtension):
    def __init__(self, limits: CostLimits) -> None:
        super().__init__()
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is not None or context.graphql_document is None:
            yield
            return
        cost, errors = check_cost(context.graphql_document, context.schema._schema, self.limits)
        if errors:
            context.pre_execution_errors = errors
        token = measured_cost.set(cost)
        try:
            yield
        finally:
            measured_cost.reset(token)
