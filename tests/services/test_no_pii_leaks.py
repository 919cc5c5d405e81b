"""Property: an agent on a call, whatever fields they ask for, never sees a full ID number or mobile.

Hypothesis walks the schema from `customerByPhone` and draws random selections of readable fields;
every response and every log line captured while answering must be free of both.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLSchema, get_named_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.registry import BACKENDS, open_backends
from infra.http.config import BackendConfig
from schema import build_schema
from services.access import Access
from services.calls import CallRegistry
from services.context import build_context
from tests.conftest import Simulators
from tests.services.test_least_privilege import AGENT
from tests.support.world import seeded_world

FULL_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
FULL_MOBILE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
SCHEMA = build_schema()
GRAPHQL: GraphQLSchema = SCHEMA._schema


def _selectable(obj: GraphQLObjectType) -> list[str]:
    """Fields a client can ask for without arguments it must supply."""
    return [
        name
        for name, f in obj.fields.items()
        if all(not isinstance(a.type, GraphQLNonNull) or a.default_value is not None for a in f.args.values())
    ]


@st.composite
def selection(draw: st.DrawFn, obj: GraphQLObjectType, depth: int) -> str:
    names = draw(st.lists(st.sampled_from(_selectable(obj)), min_size=1, max_size=6, unique=True))
    parts = []
    for name in names:
        inner = get_named_type(obj.fields[name].type)
        if isinstance(inner, GraphQLObjectType):
            parts.append(f"{name} {{ {draw(selection(inner, depth - 1))} }}" if depth > 0 else "__typename")
        else:
            parts.append(name)
    return " ".join(parts)


CUSTOMER = GRAPHQL.get_type("Customer")
assert isinstance(CUSTOMER, GraphQLObjectType)


async def _ask(urls: dict[str, str], query: str, phone: str) -> dict[str, Any]:
    backends = open_backends({n: BackendConfig(n, urls[n]) for n in BACKENDS})
    call = CallRegistry().answered("A1001", "call-prop", phone)
    try:
        result = await SCHEMA.execute(
            query,
            variable_values={"p": phone},
            context_value=build_context(backends, access=Access(AGENT, call)),
        )
    finally:
        await backends.aclose()
    return {"data": result.data, "errors": [e.formatted for e in result.errors or []]}


@pytest.fixture(scope="module")
def urls(sims: Simulators) -> dict[str, str]:
    return {n: sims[n].url for n in BACKENDS}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=selection(CUSTOMER, 3))
def test_no_full_id_or_mobile_reaches_an_agent(
    fields: str, urls: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    world = seeded_world()
    caller = next(
        c for c in world.customers if c.mobile and c.id_card and len(world.accounts_of[c.customer_no]) > 1
    )
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        answer = asyncio.run(
            _ask(
                urls,
                f"query($p: String!) {{ customerByPhone(phone: $p) {{ {fields} }} }}",
                caller.mobile or "",
            )
        )
    text = json.dumps(answer, ensure_ascii=False) + "\n" + caplog.text
    assert answer["data"] is not None, answer
    assert not FULL_ID.search(text), FULL_ID.search(text)
    assert not FULL_MOBILE.search(text), FULL_MOBILE.search(text)
