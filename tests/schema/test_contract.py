"""The public contract: the committed SDL is current, and every operation in gql/ validates against it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from graphql import get_named_type, parse, validate

from domain.timestamps import SHANGHAI
from schema import build_schema
from schema.scalars import serialize_datetime
from schema.sdl import SDL_PATH, printed_sdl

GQL = Path(__file__).parents[2] / "gql"


def test_committed_sdl_is_current() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == printed_sdl(), "run `tidegate sdl --write` and commit it"


@pytest.mark.parametrize("document", sorted(GQL.glob("*.graphql")), ids=lambda p: p.name)
def test_every_operation_validates(document: Path) -> None:
    errors = validate(build_schema()._schema, parse(document.read_text(encoding="utf-8")))
    assert errors == []


def test_every_coded_enum_has_unknown() -> None:
    schema = build_schema()._schema
    # Enums that only parameterise our directives (MaskKind) are policy, not codes from a backend.
    policy = {get_named_type(a.type).name for d in schema.directives for a in d.args.values()}
    coded = [
        t
        for name, t in schema.type_map.items()
        if hasattr(t, "values") and not name.startswith("__") and name not in policy
    ]
    assert coded
    assert all("UNKNOWN" in t.values for t in coded), [t.name for t in coded if "UNKNOWN" not in t.values]


def test_datetime_always_carries_its_offset() -> None:
    serialize = serialize_datetime
    assert serialize(datetime(2026, 11, 26, 10, 15, tzinfo=SHANGHAI)) == "2026-11-26T10:15:00+08:00"
    assert serialize(datetime(1988, 7, 1, 12, 0, tzinfo=SHANGHAI)) == "1988-07-01T12:00:00+09:00"  # 夏令时
    with pytest.raises(ValueError, match="offset"):
        serialize(datetime(2026, 11, 26, 10, 15))
