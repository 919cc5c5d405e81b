"""Admission control: every GraphQL request passes the global, per-client and per-class buckets
together (all or nothing) before any resolver runs, or is refused with 429 RATE_LIMITED.

Operation classes say what to shed first when a burst main sends the call volume up tenfold:
`critical` (the screen pop, creating a ticket) keeps the largest budget, `sheddable` (history,
bills, district-wide reports) the smallest. A known operation (from `gql/`) is classed by name;
anything else by its root fields, the least critical one deciding.
"""

from __future__ import annotations

import math
from functools import lru_cache

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from starlette.responses import Response

from infra.resilience.gcra import Bucket, Limit
from infra.resilience.priority import OperationClass

# Declared next to the operations they class: the softphone's and workbench's named documents,
# and every root field (a root field not listed here is `normal`).
OPERATIONS: dict[str, OperationClass] = {
    "ScreenPop": OperationClass.CRITICAL,
    "CreateTicket": OperationClass.CRITICAL,
    "RequestFeeAdjustment": OperationClass.NORMAL,  # a clerk approves it later: it can wait its turn
    "AddInteractionNote": OperationClass.NORMAL,  # written after the talking, not during the pop
    "CallerMatch": OperationClass.CRITICAL,  # part of the pop: is the caller known?
    "IdentificationCandidates": OperationClass.NORMAL,  # billing's search by name/address is slower
    "VerifyCaller": OperationClass.NORMAL,
    "BindCaller": OperationClass.NORMAL,
    "CallerOutageStatus": OperationClass.CRITICAL,  # the IVR's answer, from memory: deflects a call
}
ROOT_FIELDS: dict[str, OperationClass] = {
    "customerByPhone": OperationClass.CRITICAL,
    "createTicket": OperationClass.CRITICAL,
    "requestFeeAdjustment": OperationClass.NORMAL,
    "addInteractionNote": OperationClass.NORMAL,
    "callerMatch": OperationClass.CRITICAL,
    "tickets": OperationClass.SHEDDABLE,
    "outages": OperationClass.NORMAL,
    "callerOutageStatus": OperationClass.CRITICAL,
}
# Nested fields that make an operation sheddable wherever they appear: history and bills.
SHEDDABLE_FIELDS = frozenset({"bills", "payments", "interactions"})
_RANK = {OperationClass.CRITICAL: 0, OperationClass.NORMAL: 1, OperationClass.SHEDDABLE: 2}


@lru_cache(maxsize=512)
def classify(query: str, operation_name: str | None) -> OperationClass:
    """The class of one request; an unparsable document is `normal` (GraphQL reports the error)."""
    if operation_name in OPERATIONS:
        return OPERATIONS[operation_name]
    try:
        document = parse(query, no_location=True)
    except GraphQLError:
        return OperationClass.NORMAL
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    op = next((o for o in ops if o.name and o.name.value == operation_name), ops[0] if ops else None)
    if op is None:
        return OperationClass.NORMAL
    if op.name and op.name.value in OPERATIONS:  # named in the document, not in `operationName`
        return OPERATIONS[op.name.value]
    roots = [s.name.value for s in op.selection_set.selections if isinstance(s, FieldNode)]
    worst = max(
        (ROOT_FIELDS.get(name, OperationClass.NORMAL) for name in roots),
        key=_RANK.__getitem__,
        default=OperationClass.NORMAL,
    )
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if worst is not OperationClass.SHEDDABLE and _field_names(op.selection_set, fragments) & SHEDDABLE_FIELDS:
        return OperationClass.SHEDDABLE
    return worst


def _field_names(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str] | None = None,
) -> set[str]:
    """Every field name the selection reaches, through inline fragments and named ones (once each)."""
    seen = set() if seen is None else seen
    names: set[str] = set()
    for sel in selection_set.selections if selection_set else ():
        if isinstance(sel, FieldNode):
            names.add(sel.name.value)
            names |= _field_names(sel.selection_set, fragments, seen)
        elif isinstance(sel, InlineFragmentNode):
            names |= _field_names(sel.selection_set, fragments, seen)
        elif (
            isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen and sel.name.value in fragments
        ):
            seen.add(sel.name.value)
            names |= _field_names(fragments[sel.name.value].selection_set, fragments, seen)
    return names


def buckets(client: str, op_class: OperationClass, limits: dict[str, Limit]) -> list[Bucket]:
    """The three buckets one request draws from, keyed as the shared Lua script expects."""
    return [
        Bucket("rl:global", limits["global"]),
        Bucket(f"rl:client:{client}", limits["client"]),
        Bucket(f"rl:class:{op_class}", limits[str(op_class)]),
    ]


class AdmissionBuckets:
    """`buckets` for one set of limits, each (client, class) pair's built once and kept.

    A request builds three `Bucket`s and two keys otherwise (about 3 µs of the screen pop's path),
    always the same for the same caller; kept as a tuple nothing can change. Bounded: past
    `MAX_KEPT` pairs (a fleet of clients, or someone minting subjects), all are dropped and built
    again as they come."""

    MAX_KEPT = 10_000

    def __init__(self, limits: dict[str, Limit]) -> None:
        self.limits = limits
        self._kept: dict[tuple[str, OperationClass], tuple[Bucket, ...]] = {}

    def __call__(self, client: str, op_class: OperationClass) -> tuple[Bucket, ...]:
        found = self._kept.get((client, op_class))
        if found is None:
            if len(self._kept) >= self.MAX_KEPT:
                self._kept.clear()
            found = self._kept[client, op_class] = tuple(buckets(client, op_class, self.limits))
        return found


def retry_after_header(seconds: float) -> str:
    """Whole seconds, at least 1; a cost that can never fit is told to wait a minute, not forever."""
    return str(60 if math.isinf(seconds) else max(1, math.ceil(seconds)))


def rate_limited(op_class: OperationClass, retry_after_s: float) -> Response:
    """The 429 for a request its buckets refuse: coded, with when to come back (header and body)."""
    wait = retry_after_header(retry_after_s)
    body = {
        "errors": [
            {
                "message": f"rate limited ({op_class} work); retry after {wait} s",
                "extensions": {"code": "RATE_LIMITED", "retryAfter": int(wait), "class": str(op_class)},
            }
        ]
    }
    return Response(orjson.dumps(body), 429, {"Retry-After": wait}, media_type="application/json")
