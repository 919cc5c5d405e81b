"""Ordinary but wrong arguments get a coded error, never an internal one (issue 15 #5, the cases the
schema fuzz found: tests/gateway/test_schema_fuzz.py runs the generated ones)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError

from tests.services.conftest import Run
from tests.support.world import seeded_world


def _codes(errors: list[GraphQLError] | None) -> list[Any]:
    return [(e.extensions or {}).get("code") for e in errors or []]


@pytest.mark.parametrize(
    "raw", ["", " ", "KH", "KH1", "KH000000001", "-2048", "韡~", "KH0000000１", "AB00000001"]
)
async def test_a_malformed_customer_number_is_bad_user_input(run: Run, raw: str) -> None:
    result = await run("query($id: ID!) { customer(id: $id) { id } }", {"id": raw})
    assert _codes(result.errors) == ["BAD_USER_INPUT"], result.errors
    assert result.data == {"customer": None}


async def test_a_customer_number_as_typed_is_made_canonical(run: Run) -> None:
    customer_no = f"KH{seeded_world().customers[3].customer_no:08d}"
    result = await run("query($id: ID!) { customer(id: $id) { id } }", {"id": f"  {customer_no.lower()} "})
    assert result.errors is None and result.data == {"customer": {"id": customer_no}}


async def test_outages_without_active_are_all_of_them(run: Run) -> None:
    every = await run("{ outages { id status } }")
    assert every.errors is None, every.errors  # was INTERNAL_SERVER_ERROR: a dataloader takes no None key
    split = await run("{ now: outages(active: true) { id } rest: outages(active: false) { id } }")
    assert split.errors is None and split.data is not None and every.data is not None
    assert sorted(o["id"] for o in every.data["outages"]) == sorted(
        o["id"] for o in split.data["now"] + split.data["rest"]
    )
    assert len(every.data["outages"]) == len(seeded_world().outages)
    explicit_null = await run("{ outages(active: null) { id } }")
    ids = [o["id"] for o in every.data["outages"]]
    assert explicit_null.errors is None and explicit_null.data == {"outages": [{"id": i} for i in ids]}
