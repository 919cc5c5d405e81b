"""The persisted-query manifest: current with gql/, ids that are the sha256 of their bodies."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest
from graphql import parse, validate

from gateway.cli import main
from gateway.persisted.manifest import (
    MANIFEST_PATH,
    ManifestError,
    build_manifest,
    load_manifest,
    manifest_text,
)
from schema import build_schema


def test_committed_manifest_is_current() -> None:
    assert MANIFEST_PATH.read_text(encoding="utf-8") == manifest_text(build_manifest()), (
        "run `tidegate pq build` and commit gql/manifest.json"
    )
    assert main(["pq", "build", "--check"]) == 0


def test_every_entry_is_a_valid_operation_under_its_own_hash() -> None:
    schema = build_schema()._schema
    operations = load_manifest()
    assert {op.name for op in operations} >= {"ScreenPop", "CreateTicket"}
    for op in operations:
        assert op.id == hashlib.sha256(op.body.encode()).hexdigest()
        assert validate(schema, parse(op.body)) == []
        assert op.type in {"query", "mutation", "subscription"}


def test_a_stale_manifest_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "manifest.json"
    stale.write_text(
        manifest_text({"format": "apollo-persisted-query-manifest", "version": 1, "operations": []})
    )
    monkeypatch.setattr("gateway.persisted.manifest.MANIFEST_PATH", stale)
    assert main(["pq", "build", "--check"]) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("query A { outages { id } } query B { outages { id } }", "exactly one operation"),
        ("{ outages { id } }", "needs a name"),
        ("query A { outages { id }", "Syntax Error"),
    ],
)
def test_documents_that_cannot_be_persisted(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "bad.graphql").write_text(text)
    with pytest.raises(ManifestError, match=problem):
        build_manifest(tmp_path)


def test_a_hand_edited_body_fails_to_load(tmp_path: Path) -> None:
    doc = orjson.loads(MANIFEST_PATH.read_bytes())
    doc["operations"][0]["body"] += " "
    edited = tmp_path / "manifest.json"
    edited.write_bytes(orjson.dumps(doc))
    with pytest.raises(ManifestError, match="not the sha256"):
        load_manifest(edited)
