"""Every manifest operation, compiled, answers exactly as graphql-core does (issue 21, step 4).

For each operation in `gql/manifest.json` (both forms: as written and as Apollo Client sends it), on
back-office data Hypothesis draws (`tests.support.back_office_world`: nulls in every optional field,
empty and longer lists, coded back-office errors and a bug, masked and refused fields for each kind
of caller, a call slower than the deadline), the operation runs twice, each time on its own freshly
built world so a mutation's write or an idempotency key's record never leaks from one run into the
other:

- the reference: the document through Strawberry and graphql-core with the app's schema and
  execution context class (`PolicedExecution`); a subscription as graphql-core runs one event
  (`Executor.build_per_event_executor(payload).execute_operation(False)`);
- the compiled plan (`gateway.persisted.compiled_operation`), with the same variables, context and,
  for a subscription, the same event payload as its root value.

Required identical, as JSON with sorted keys: `data`, and each error as the HTTP view renders it
(`gateway.http.errors.public_error`: message, locations, path, extensions; unexpected errors masked),
with the error's own message beside it so masking hides no difference, the list in path order (see
`_answer`); the request's audit records (unmasked reads, refusals), without their clock and request
id, as a sorted list; and the back-office calls each run made, how many of each.

Every operation must compile: one that does not fails here with the planner's reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from unittest import mock

import orjson
import pytest
from graphql import ExecutionResult as GraphQLResult
from graphql import OperationType, parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry.types import ExecutionResult

from domain.records import Ticket
from gateway.http.errors import public_error
from gateway.http.extensions import schema_extensions
from gateway.persisted.compiled_operation import CompiledOperation, compile_operation
from gateway.persisted.manifest import PersistedOperation, load_manifest
from gateway.settings import Settings
from infra.deadline import deadline
from schema import build_schema
from schema.compiled import served_by
from schema.customers.call_update import CallUpdate
from schema.customers.screen_pop import ScreenPop
from schema.execution import PolicedExecution
from schema.tickets.ticket import Ticket as TicketType
from services.call_machine import CallState
from services.context import RequestContext
from services.subscriptions import CallStateEvent, PopEvent
from tests.support import back_office_world as bow
from tests.support.back_office_world import ACCOUNT_NOS, CUSTOMER_NOS, PHONES, World, worlds
from tests.support.faulty_ports import deadline_clock, faults

SCHEMA = build_schema(extensions=schema_extensions(Settings()), field_suggestions=False)  # as create_app
OPERATIONS = load_manifest()
EXAMPLES = 30

Payload = Callable[[], Any]  # builds one subscription event's root value (fresh per run)

# --- variables, per operation, from the world ----------------------------------------------------

_key = st.sampled_from(("3f0c9c1e-key-1", "3f0c9c1e-key-2"))
_text = st.sampled_from(("Caller asked when the water is back", "call 13800138001", "", "x" * 2001))


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _mostly(likely: list[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One of `likely` (what this world and call make answerable) three times in four, else `other`."""
    if not likely:
        return other
    return st.integers(0, 3).flatmap(lambda n: st.sampled_from(likely) if n else other)


def _input(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An input object; a field drawn None is left out (its default), not sent as null."""
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not None})


def _variables(name: str, world: World) -> st.SearchStrategy[dict[str, Any]]:
    """Variables for `name`, mostly about the records and call in `world`, sometimes not at all."""
    call = world.call
    customers = [c.customer_no for c in world.customers]
    on_call = [c for c in customers if call is not None and c in call.customers] or customers
    accounts = [a.account_no for a in world.accounts]
    customer_id = _mostly(on_call, st.sampled_from((*CUSTOMER_NOS, "KH99999999", "kh 00000001", "nobody")))
    account_no = _mostly(accounts, st.sampled_from((*ACCOUNT_NOS, "10000001", "0019999999", "x1")))
    phone = _mostly(
        [call.caller] if call is not None and call.caller else [*PHONES],
        st.sampled_from((*PHONES, "+86 138-0013-8001", "anonymous", "x1", "", "12345")),
    )
    candidate = _mostly(
        [bow.sealed_candidate(call.verified)] if call is not None and call.verified else [],
        st.one_of(st.sampled_from(ACCOUNT_NOS).map(bow.sealed_candidate), st.just("v1:forged")),
    )
    agent_id = st.sampled_from((bow.AGENT_ID, bow.AGENT_ID, "A2002"))
    by_name: dict[str, st.SearchStrategy[dict[str, Any]]] = {
        "AddInteractionNote": st.fixed_dictionaries(
            {
                "input": _input(customerId=customer_id, text=_mostly(["Asked about the bill"], _text)),
                "idempotencyKey": _key,
            }
        ),
        "BindCaller": st.fixed_dictionaries(
            {
                "input": _input(
                    candidateId=candidate,
                    reason=_mostly(["caller confirmed"], st.sampled_from((" ", "y" * 201))),
                )
            }
        ),
        "CallerMatch": st.just({}),
        "CallerOutageStatus": st.fixed_dictionaries({"phone": phone}),
        "CreateTicket": st.fixed_dictionaries(
            {
                "input": st.tuples(
                    _input(
                        category=st.sampled_from(("LEAK", "NO_WATER", "BURST_MAIN")),
                        description=_mostly(["Water seeping from the pavement"], _text),
                        customerId=_opt(customer_id),
                        accountNo=_opt(account_no),
                        address=_opt(st.just("江滨大道8号")),
                    ),
                    _mostly([{}, {"lat": 30.27, "lon": 120.1}], st.just({"lat": 31.5})),
                ).map(lambda parts: {**parts[0], **parts[1]}),
                "idempotencyKey": _key,
            }
        ),
        "IdentificationCandidates": _input(
            accountNo=_opt(account_no),
            address=_opt(st.sampled_from(("新华路", "江", ""))),
            name=_opt(st.sampled_from(("张三", "王"))),
            first=_opt(st.sampled_from((1, 5, 0, 11))),
        ),
        "RequestFeeAdjustment": st.fixed_dictionaries(
            {
                "input": _input(
                    accountNo=account_no,
                    reason=st.sampled_from(("LATE_FEE_WAIVER", "OTHER")),
                    amountFen=_mostly([-500, 1250], st.just(0)),
                    explanation=_mostly(["bill delayed by the post"], st.sampled_from(("", "z" * 201))),
                    billNo=_opt(st.just("B000001")),
                ),
                "idempotencyKey": _key,
            }
        ),
        "ScreenPop": st.fixed_dictionaries({"phone": phone}),
        "SupervisorBoard": st.just({}),
        "VerifyCaller": st.fixed_dictionaries(
            {
                "input": _input(
                    candidateId=candidate,
                    idCardLast4=st.sampled_from(("123X", "123x", "1234", "12")),
                    street=st.sampled_from(("新华路", "临江区", "")),
                )
            }
        ),
        "WorkbenchAccount": st.fixed_dictionaries({"accountNo": account_no}),
        "WorkbenchCall": st.fixed_dictionaries({"agentId": agent_id}),
        "WorkbenchMains": st.fixed_dictionaries(
            {"lat": st.sampled_from((30.27, 30.2701, 45.0)), "lon": st.sampled_from((120.1, 120.1005))}
        ),
        "WorkbenchPop": st.fixed_dictionaries({"agentId": agent_id}),
        "RevealCustomerPii": st.fixed_dictionaries(
            {"customerId": customer_id, "reason": _mostly(["caller asked to confirm"], st.just("no"))}
        ),
        "WorkbenchTicket": st.fixed_dictionaries(
            {"ticketId": _mostly([t.ticket_id for t in world.tickets], st.just("GD9"))}
        ),
    }
    return by_name[name]


@st.composite
def _payload(draw: st.DrawFn, name: str, world: World) -> Payload | None:
    """One subscription event as its stream maps it (`services.subscriptions`, `.map(X.of)`)."""
    if name == "WorkbenchCall":
        event = CallStateEvent(bow.AGENT_ID, bow.CALL_ID, draw(st.sampled_from(CallState)))
        return lambda: CallUpdate.of(event)
    if name == "WorkbenchTicket":
        tickets = st.sampled_from(world.tickets) if world.tickets else bow._ticket(1)
        ticket: Ticket = draw(tickets)
        return lambda: TicketType.of(ticket)
    if name == "WorkbenchPop":
        customers = _opt(st.lists(st.sampled_from(CUSTOMER_NOS), max_size=2, unique=True).map(tuple))
        pop = PopEvent(
            agent_id=bow.AGENT_ID,
            call_id=bow.CALL_ID,
            caller=draw(_opt(st.sampled_from(PHONES))),
            ringing_at=bow.EPOCH - 3,
            customer_nos=draw(customers),
            matched_by=draw(st.sampled_from((None, "PHONE_BILLING_LATE", "IDENTIFIED"))),
            searching=draw(st.booleans()),
        )
        return lambda: ScreenPop.of(pop)
    return None


# --- the two ways to run an operation ------------------------------------------------------------


async def _reference(
    op: PersistedOperation, ctx: RequestContext, variables: dict[str, Any], payload: Any
) -> Any:
    if op.type != OperationType.SUBSCRIPTION.value:
        answer = await SCHEMA.execute(
            op.body, variable_values=variables, context_value=ctx, operation_name=op.name
        )
        assert served_by.get() in (None, "graphql-core"), "the reference run must take the generic walk"
        return answer
    executor = PolicedExecution.build(SCHEMA._schema, parse(op.body), None, ctx, variables, op.name)
    assert not isinstance(executor, list), executor
    result = executor.build_per_event_executor(payload).execute_operation(False)
    if isinstance(result, Awaitable):
        result = await result
    assert isinstance(result, GraphQLResult)  # a subscription's event: never incremental
    if result.errors:
        SCHEMA.process_errors(result.errors)  # what Strawberry does with each event's result
    assert served_by.get() == "graphql-core", "the reference run must take the generic walk"
    return result


async def _compiled(
    compiled: CompiledOperation, ctx: RequestContext, variables: dict[str, Any], payload: Any
) -> Any:
    result = await compiled.execute(ctx, variables, root_value=payload)
    assert result is None or served_by.get() == "compiled", "the plan must have walked the operation"
    return result


Runner = Callable[[RequestContext, dict[str, Any], Any], Awaitable[Any]]


def _answer(result: ExecutionResult | None, name: str) -> dict[str, Any]:
    assert result is not None, "the compiled plan refused variables the executor ran"
    errors = [{**public_error(e, name), "ownMessage": e.message} for e in result.errors or ()]
    # In the order of their paths: graphql-core lists errors as its tasks happen to wake (siblings
    # awaiting one failed load, in field order; other failures as they finish), the plan reads an
    # object's record once for its loaded fields, so their errors arrive together. The spec gives the
    # list no order, and no client reads one; every error must still be there, and be the same.
    errors.sort(key=lambda e: orjson.dumps([e.get("path"), e["message"], e.get("extensions")]))
    return {"data": result.data, "errors": errors}


def _audited(ctx: RequestContext) -> list[bytes]:
    volatile = {"time", "at", "request_id"}
    records = [{k: v for k, v in r.items() if k not in volatile} for r in ctx.audit.records()]
    return sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in records)


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> _FrozenDatetime:
        return cls.fromtimestamp(bow.EPOCH, tz)


async def _run(
    op: PersistedOperation,
    world: World,
    variables: dict[str, Any],
    payload: Payload | None,
    prior: dict[str, Any] | None,
    runner: Runner,
) -> tuple[bytes, list[bytes]]:
    """One run on a world built for it alone; a mutation may first run once (a retry's record)."""
    built = await bow.build(world)
    try:
        if prior is not None:  # the key's first attempt, answered (or failed) before this one
            ctx = built.context()
            await SCHEMA.execute(op.body, variable_values=prior, context_value=ctx, operation_name=op.name)
        ctx = built.context()
        with deadline_clock(), deadline(world.deadline_s):  # the budget spent by a slow call, on cue
            result = await runner(ctx, variables, payload() if payload is not None else None)
        answer = orjson.dumps(_answer(result, op.name), option=orjson.OPT_SORT_KEYS)
        # Which back-office calls, how many of each (batching included); order differs with timing.
        return answer, [*_audited(ctx), *(f"call {name}".encode() for name in sorted(built.called))]
    finally:
        await built.aclose()


@contextmanager
def _frozen_clock() -> Iterator[None]:
    """Wall-clock reads (`asOf`, the board's `at`, audit times) alike in both runs."""
    with mock.patch("time.time", lambda: bow.EPOCH), mock.patch("services.board.datetime", _FrozenDatetime):
        yield


async def _probe(
    op: PersistedOperation, world: World, variables: dict[str, Any], payload: Payload | None
) -> list[str]:
    """The port methods the reference run calls on this input, with no fault: where faults will bite."""
    built = await bow.build(world)
    try:
        await _reference(op, built.context(), variables, payload() if payload is not None else None)
        return built.called
    finally:
        await built.aclose()


def _compare(
    op: PersistedOperation,
    compiled: CompiledOperation,
    world: World,
    variables: dict[str, Any],
    payload: Payload | None,
    prior: dict[str, Any] | None,
) -> bytes:
    """Both runs, each on its own fresh build of `world`; the executor's answer, once they agree."""

    async def reference(ctx: RequestContext, v: dict[str, Any], p: Any) -> Any:
        return await _reference(op, ctx, v, p)

    async def planned(ctx: RequestContext, v: dict[str, Any], p: Any) -> Any:
        return await _compiled(compiled, ctx, v, p)

    async def both() -> tuple[tuple[bytes, list[bytes]], tuple[bytes, list[bytes]]]:
        expected = await _run(op, world, variables, payload, prior, reference)
        return expected, await _run(op, world, variables, payload, prior, planned)

    with _frozen_clock():
        (expected, expected_audit), (actual, actual_audit) = asyncio.run(both())
    assert actual == expected, (
        f"{op.name}: the compiled answer differs\n"
        f"  compiled: {actual.decode()}\n  executor: {expected.decode()}"
    )
    assert actual_audit == expected_audit, f"{op.name}: the audit trail or the back-office calls differ"
    return expected


@pytest.fixture(scope="module", autouse=True)
def _quiet() -> Iterator[None]:
    """Unexpected errors are logged with their traces by `public_error` and Strawberry: thousands here."""
    loggers = [logging.getLogger(n) for n in ("tidegate", "strawberry")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    yield
    for lg, level in zip(loggers, levels, strict=True):
        lg.setLevel(level)


class _Reasons(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _planned(op: PersistedOperation) -> tuple[CompiledOperation | None, str]:
    """The operation compiled as the app compiles it, and the planner's reason when it does not."""
    logger = logging.getLogger("tidegate.persisted.compiled")  # says why at debug level
    reasons, level = _Reasons(), logger.level
    logger.addHandler(reasons)
    logger.setLevel(logging.DEBUG)
    try:
        return compile_operation(SCHEMA, parse(op.body)), "; ".join(reasons.messages)
    finally:
        logger.removeHandler(reasons)
        logger.setLevel(level)


@pytest.mark.parametrize(
    "op",
    OPERATIONS,
    ids=[f"{op.name}-{'apollo' if '__typename' in op.body else 'written'}" for op in OPERATIONS],
)
def test_the_compiled_operation_answers_as_graphql_core_does(op: PersistedOperation) -> None:
    compiled, why = _planned(op)
    assert compiled is not None, f"{op.name} does not compile: {why}"
    seen: list[bytes] = []

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(world=worlds(), data=st.data())
    def check(world: World, data: st.DataObject) -> None:
        variables = data.draw(_variables(op.name, world), label="variables")
        payload = data.draw(_payload(op.name, world), label="payload")
        prior = None
        if op.type == OperationType.MUTATION.value:  # replayed, or the key reused for another input
            prior = data.draw(
                st.none() | st.just(variables) | _variables(op.name, world), label="earlier attempt"
            )
        with _frozen_clock():
            called = asyncio.run(_probe(op, world, variables, payload))
        world = dataclasses.replace(world, faults=data.draw(faults(called), label="faults"))
        expected = _compare(op, compiled, world, variables, payload, prior)
        seen.append(expected)

    check()
    assert len(set(seen)) > 1, f"{op.name}: every example gave the same answer: nothing was compared"
