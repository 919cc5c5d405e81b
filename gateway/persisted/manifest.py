"""The persisted-query manifest: the operations in `gql/*.graphql`, by the sha256 of their body.

Written by `tidegate pq build` in Apollo's persisted query manifest format
(`{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "body", "name",
"type"}]}`), committed beside the operations, and checked for staleness by the tests. Each body is the
file's document printed canonically by graphql-core (comments and layout dropped), so the id is the
same whoever prints it; a file holds exactly one named operation and any fragments it uses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, print_ast

from gql import GQL_DIR

MANIFEST_PATH = GQL_DIR / "manifest.json"
FORMAT = "apollo-persisted-query-manifest"


class ManifestError(ValueError):
    """A document or manifest that cannot serve as the safelist (names the file and the problem)."""


@dataclass(frozen=True, slots=True)
class PersistedOperation:
    id: str  # sha256 hex of `body`
    body: str
    name: str
    type: str  # "query" | "mutation" | "subscription"


def document_id(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def operation_of(path: Path) -> PersistedOperation:
    """The one named operation in a `.graphql` file, canonically printed."""
    try:
        document = parse(path.read_text(encoding="utf-8"), no_location=True)
    except Exception as exc:
        raise ManifestError(f"{path.name}: {exc}") from exc
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    others = [
        d for d in document.definitions if not isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    if len(operations) != 1 or others:
        raise ManifestError(
            f"{path.name}: expected exactly one operation (and fragments), found {len(operations)}"
        )
    (operation,) = operations
    if operation.name is None:
        raise ManifestError(f"{path.name}: the operation needs a name")
    body = print_ast(document)
    return PersistedOperation(document_id(body), body, operation.name.value, operation.operation.value)


def build_manifest(directory: Path = GQL_DIR) -> dict[str, Any]:
    operations = [operation_of(path) for path in sorted(directory.glob("*.graphql"))]
    names = [op.name for op in operations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ManifestError(f"operation names must be unique: {duplicates}")
    return {
        "format": FORMAT,
        "version": 1,
        "operations": [{"id": op.id, "body": op.body, "name": op.name, "type": op.type} for op in operations],
    }


def manifest_text(manifest: dict[str, Any]) -> str:
    return orjson.dumps(manifest, option=orjson.OPT_INDENT_2).decode() + "\n"


def load_manifest(path: Path = MANIFEST_PATH) -> list[PersistedOperation]:
    """The manifest's operations, each id checked against its body (a hand-edited body fails here)."""
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != 1:
        raise ManifestError(f"{path}: not an {FORMAT} version 1")
    found: list[PersistedOperation] = []
    for entry in doc.get("operations") or []:
        try:
            op = PersistedOperation(
                str(entry["id"]), str(entry["body"]), str(entry["name"]), str(entry["type"])
            )
        except (KeyError, TypeError) as exc:
            raise ManifestError(f"{path}: malformed operation entry {entry!r}") from exc
        if document_id(op.body) != op.id:
            raise ManifestError(f"{path}: {op.name}'s id is not the sha256 of its body")
        found.append(op)
    return found
