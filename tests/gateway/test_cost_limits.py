"""`check_cost`: every cap with its code, cheapest first, on the real schema; the hostile documents of
issue 15 refused in time proportional to their size (before: minutes for 2^30)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, specified_rules

from bench.documents import doubling, worst_allowed
from gateway.http.extensions import limit_rules
from gateway.limits.cost_limits import CostLimits, check_cost
from gateway.limits.document_cost import ListSizes
from gateway.persisted.queries import schema_validator
from gateway.settings import Settings
from schema.build import build_schema

GQL = Path(__file__).resolve().parents[2] / "gql"


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def codes(errors: list[GraphQLError]) -> list[str]:
    return [str((e.extensions or {})["code"]) for e in errors]


def refused(schema: GraphQLSchema, text: str, **limits: int) -> list[GraphQLError]:
    _, errors = check_cost(parse(text), schema, CostLimits(**limits))  # type: ignore[arg-type]
    return errors


POP = 'query Pop { customer(id: "1") { id name accounts { accountNo } } }'  # depth 2, 5 fields


@pytest.mark.parametrize(
    ("cap", "figure", "code", "message"),
    [
        ("max_depth", 2, "QUERY_TOO_DEEP", "'Pop' exceeds maximum operation depth of 1"),
        ("max_fields", 5, "TOO_MANY_FIELDS", "'Pop' selects 5 fields once its fragments are expanded"),
        ("max_cost", 14, "QUERY_TOO_COSTLY", "'Pop' would cost 14 (each field 1"),  # 1 + 1 + 1 + (1 + 10 * 1)
    ],
)
def test_each_cap_has_its_code(schema: GraphQLSchema, cap: str, figure: int, code: str, message: str) -> None:
    (error,) = refused(schema, POP, **{cap: figure - 1})
    assert codes([error]) == [code] and error.message.startswith(message)
    assert refused(schema, POP, **{cap: figure}) == []  # at the limit: admitted


def test_spreads_and_aliases_are_counted_expanded(schema: GraphQLSchema) -> None:
    text = "query S { ...F ...F ...F } fragment F on Query { a: __typename }"
    assert codes(refused(schema, text, max_spreads=2, max_aliases=2)) == [
        "TOO_MANY_SPREADS",
        "TOO_MANY_ALIASES",
    ]
    assert refused(schema, text, max_spreads=3, max_aliases=3) == []


def test_too_many_fragments_is_refused_before_anything_is_walked(schema: GraphQLSchema) -> None:
    text = "{ __typename } " + " ".join(f"fragment F{i} on Query {{ ...F{i} }}" for i in range(4))
    (error,) = refused(schema, text, max_fragments=3)  # each one a cycle: never looked at
    assert codes([error]) == ["TOO_MANY_FRAGMENTS"]
    assert error.message == "A document may define at most 3 fragments; this one defines 4."


def test_a_cycle_is_refused_as_graphql_core_would(schema: GraphQLSchema) -> None:
    errors = refused(schema, "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
    assert codes(errors) == ["GRAPHQL_VALIDATION_FAILED"]
    assert errors[0].message.startswith("Cannot spread fragment '") and errors[0].locations


def _calls(
    validate: Callable[[DocumentNode], list[GraphQLError]], document: DocumentNode
) -> tuple[int, list[GraphQLError]]:
    """The Python function calls one validation makes (a count, not a time: the same on any machine)."""
    calls = 0

    def profile(_frame: object, event: str, _arg: object) -> None:
        nonlocal calls
        calls += event == "call"

    sys.setprofile(profile)
    try:
        errors = validate(document)
    finally:
        sys.setprofile(None)
    return calls, errors


@pytest.mark.parametrize("n", [20, 30])
def test_the_doubling_documents_are_refused_in_linear_work(schema: GraphQLSchema, n: int) -> None:
    """Issue 15: 2^20 blocked the loop for 4.7 s, 2^30 for over ten minutes. Counted in function calls,
    the pass grows by a few calls per doubling fragment (about 180 calls in all for 2^20, 240 for
    2^30); a walk that expanded the fragments would double its count with each one."""
    validator = schema_validator(schema, (*specified_rules, *limit_rules(Settings())), CostLimits())
    calls, errors = _calls(validator, parse(doubling(n)))
    fewer, _ = _calls(validator, parse(doubling(n - 5)))
    assert codes(errors) == ["TOO_MANY_SPREADS", "TOO_MANY_FIELDS", "QUERY_TOO_COSTLY"]
    assert f"{2**n} fields" in errors[1].message
    assert 0 < calls - fewer <= 5 * 20  # five more doubling fragments: a bounded number of calls each
    assert calls <= 2_000


def test_the_worst_allowed_document_and_every_gql_document_pass(schema: GraphQLSchema) -> None:
    settings = Settings()
    limits = CostLimits.from_settings(settings)
    worst = parse(worst_allowed(limits, settings.limits.max_tokens), max_tokens=settings.limits.max_tokens)
    cost, errors = check_cost(worst, schema, limits)
    assert errors == [] and cost is not None
    (op,) = cost.operations
    assert (op.figures.depth, op.figures.aliases, op.figures.fields) == (11, 30, 300)
    assert op.figures.spreads == limits.max_fragments
    for path in sorted(GQL.glob("*.graphql")):
        assert check_cost(parse(path.read_text()), schema, limits)[1] == [], path.name


def test_list_sizes_come_from_the_settings(schema: GraphQLSchema) -> None:
    limits = CostLimits.from_settings(Settings(cost_page_cap=7, cost_list_size=3))
    assert limits.sizes == ListSizes(page_cap=7, list_size=3)
    text = 'query Q { customer(id: "1") { accounts { accountNo } tickets(first: 50) { id } } }'
    cost, _ = check_cost(parse(text), schema, limits)
    assert cost is not None and cost.operations[0].figures.cost == 1 + (1 + 3 * 1) + (1 + 7 * 1)
