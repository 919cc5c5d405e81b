"""The persisted-query manifest: the operations in `gql/*.graphql`, by the sha256 of their body.

Written by `tidegate pq build` in Apollo's persisted query manifest format
(`{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "body", "name",
"type"}]}`), committed beside the operations, and checked for staleness by the tests. Each body is the
file's document printed canonically by graphql-core (comments and layout dropped), so the id is the
same whoever prints it; a file holds exactly one named operation and any fragments it uses.

Each operation is listed twice (once when the two forms coincide): as written, and as Apollo Client
sends it. Apollo Client's cache adds `__typename` to every selection set below the operation's root
before its persisted-query link hashes the printed document, so a manifest holding only the written
form answers PERSISTED_QUERY_NOT_IN_LIST to every real Apollo client. The written form comes first:
its ids are the ones pinned in docs and tests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

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


class _AddTypename(Visitor):
    """Apollo Client's `addTypenameToDocument`, rule for rule, so our ids are the ones it computes:
    every selection set except an operation's root gets a trailing `__typename`, unless it already
    selects `__typename` or another `__` (introspection) field, or belongs to an `@export`ed field."""

    def enter_selection_set(
        self, node: SelectionSetNode, _key: Any, parent: Any, *_: Any
    ) -> SelectionSetNode | None:
        if isinstance(parent, OperationDefinitionNode):
            return None
        if any(isinstance(s, FieldNode) and s.name.value.startswith("__") for s in node.selections):
            return None
        if isinstance(parent, FieldNode) and any(d.name.value == "export" for d in parent.directives or ()):
            return None
        typename = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())
        return SelectionSetNode(selections=(*node.selections, typename))


def apollo_form(op: PersistedOperation) -> PersistedOperation:
    """The operation as Apollo Client sends it (`__typename` added), under that text's own id."""
    document: DocumentNode = visit(parse(op.body, no_location=True), _AddTypename())
    body = print_ast(document)
    return PersistedOperation(document_id(body), body, op.name, op.type)


def build_manifest(directory: Path = GQL_DIR) -> dict[str, Any]:
    operations = [operation_of(path) for path in sorted(directory.glob("*.graphql"))]
    names = [op.name for op in operations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ManifestError(f"operation names must be unique: {duplicates}")
    transformed = [apollo_form(op) for op in operations]
    listed = operations + [t for t, op in zip(transformed, operations, strict=True) if t.id != op.id]
    return {
        "format": FORMAT,
        "version": 1,
        "operations": [{"id": op.id, "body": op.body, "name": op.name, "type": op.type} for op in listed],
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
