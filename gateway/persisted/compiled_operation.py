"""`CompiledOperation`: a manifest operation planned at start-up, and run without Strawberry's pipeline.

Why: a manifest operation's document is known before any request, so its field walk is planned
once (`schema.compiled`: graphql-jit's idea, inside graphql-core's executor), and a request naming
it over HTTP needs none of Strawberry's per-request steps either: the document is parsed and
validated already, and the extension hooks around parse, validation and execution (a generator
each, per request) have nothing left to decide. `execute` builds the request's executor directly
(`PolicedExecution`: the same scope policy) and runs the plan. Every manifest operation plans, and
a planned operation is also found by the executor Strawberry builds: a subscription's events
(over the websocket) and a request that names another operation of the document run the plan too.

Variables that do not coerce return None: the view then runs the request through Strawberry, which
answers with its coded `BAD_USER_INPUT`. `schema.process_errors` sees the errors, as after a normal
execution. `tests/gateway/test_compiled_operation.py` (a small schema of its own) and
`tests/gateway/test_compiled_differential.py` (every manifest operation, generated back-office
data) compare the answers with graphql-core's generic walk, errors included.
"""

from __future__ import annotations

import logging
from inspect import isawaitable
from typing import Any

from graphql import DocumentNode, OperationType
from graphql import ExecutionResult as CoreExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.schema import Schema
from strawberry.types import ExecutionResult

from schema.compiled import OperationPlan, plan_operation, register
from schema.execution import PolicedExecution

logger = logging.getLogger("tidegate.persisted.compiled")


class CompiledOperation:
    """One manifest operation, planned: `execute` answers it, or None to go the usual way."""

    def __init__(self, schema: Schema, document: DocumentNode, plan: OperationPlan) -> None:
        self.schema = schema
        self.document = document
        self.plan = plan
        self.kind: OperationType = plan.operation.operation
        self.name = plan.operation.name.value if plan.operation.name else None

    async def execute(
        self, context: Any, variables: dict[str, Any] | None, root_value: Any = None
    ) -> ExecutionResult | None:
        """The operation's result; None when its variables do not coerce (the executor answers).
        For a subscription, `root_value` is one event, and the result is that event's (what
        graphql-core's per-event execution gives)."""
        executor = PolicedExecution.build(
            self.schema._schema, self.document, root_value, context, variables, self.name
        )
        if isinstance(executor, list):
            return None
        if self.kind is OperationType.SUBSCRIPTION:
            executor = executor.build_per_event_executor(root_value)
            outcome = executor.execute_operation(False)
        else:
            outcome = executor.execute_operation()
        if isawaitable(outcome):
            outcome = await outcome
        assert isinstance(outcome, CoreExecutionResult)  # no @defer/@stream in a manifest operation
        errors = outcome.errors
        if errors:
            self.schema.process_errors(errors)
        return ExecutionResult(data=outcome.data, errors=errors)


def _implements_resolve(schema: Schema) -> bool:
    """Whether a schema extension has a `resolve` hook (graphql-core middleware): not compiled."""
    for extension in getattr(schema, "extensions", ()):
        try:
            instance = extension() if callable(extension) else extension
        except TypeError:
            return True  # an extension we cannot inspect: assume the worst
        if type(instance).resolve is not SchemaExtension.resolve:
            return True
    return False


def compile_operation(schema: Schema, document: DocumentNode) -> CompiledOperation | None:
    """The operation planned and registered (`schema.compiled`), or None when it is outside what
    plans or the schema runs field middleware."""
    if _implements_resolve(schema):
        logger.debug("persisted operation not compiled: a schema extension implements resolve")
        return None
    plan = plan_operation(schema._schema, document)
    if plan is None:
        return None
    register(plan)
    return CompiledOperation(schema, document, plan)
