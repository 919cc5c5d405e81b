"""Imports flow one way: gateway -> schema -> resolvers -> backends -> domain; simulators share nothing
with us. `domain` is the model and its ports: it imports nothing first-party and no I/O library, so any
layer may depend on it and it depends on none (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FORBIDDEN = {
    "backends": {"strawberry", "graphql", "schema", "services", "gateway", "simulators", "starlette"},
    "services": {"schema", "gateway", "simulators", "httpx", "aiohttp"},
    "schema": {"gateway", "simulators", "httpx", "aiohttp"},
    "simulators": {"domain", "backends", "services", "schema", "gateway"},
    "domain": {
        *("backends", "services", "schema", "gateway", "simulators", "bench"),
        *("strawberry", "graphql", "starlette", "httpx", "aiohttp", "redis", "pydantic"),
    },
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_one_way(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & FORBIDDEN[package]
    }
    assert offenders == {}
