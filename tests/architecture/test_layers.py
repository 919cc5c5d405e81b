"""The house rules, as the import graph states them (issue 16).

    gateway ─▶ schema ─▶ services ─▶ domain (the model and its ports) ◀─ backends (the adapters)
       │                    │                                               │
       └────────────────────┴──────────────▶ infra (the platform) ◀────────┘

- `domain` imports nothing first-party and no I/O library: every layer may use it, it uses none.
- `infra` (breakers, bulkheads, budgets, caches, stores, pub/sub, the HTTP stack) knows no water: it
  imports only itself. Anyone above may use it.
- `backends` (one adapter package per back office) implement `domain.ports`; they never see GraphQL,
  the services or the gateway.
- `services` talk to the back offices through the ports only: no adapter, no HTTP client.
- `schema` is the GraphQL face of the services: no adapter, no HTTP client, no gateway.
- `gateway` is the composition root: it may open the adapters, but only through their one entry point
  (`backends.registry`), never an adapter's internals; it may start the simulators only in the demo
  commands (`gateway/demo.py`, and the CLI's `demo` and `simulate`, which import them lazily).
- `simulators` share nothing with the product: they are the back offices' stand-ins.

Imports inside functions count too (`tests/architecture/test_import_graph.py` also forbids hiding one
outside the gateway). A test at the bottom shows the checker catching a planted violation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FIRST_PARTY = {"gateway", "schema", "services", "backends", "infra", "domain", "simulators", "gql", "bench"}
IO_LIBRARIES = {"strawberry", "graphql", "starlette", "httpx", "aiohttp", "redis", "pydantic", "uvicorn"}
# Which first-party packages each layer may import (itself included).
MAY_IMPORT: dict[str, set[str]] = {
    "domain": {"domain"},
    "infra": {"infra"},
    "backends": {"backends", "domain", "infra"},
    "services": {"services", "domain", "infra"},
    "schema": {"schema", "services", "domain", "infra", "gql"},
    "gateway": {"gateway", "schema", "services", "domain", "infra", "gql", "backends", "simulators"},
    "simulators": {"simulators"},
}
# Third-party libraries a layer must not touch: it is the wrong room for them.
MUST_NOT_USE: dict[str, set[str]] = {
    "domain": IO_LIBRARIES,
    "infra": {"strawberry", "graphql", "starlette", "uvicorn"},
    "backends": {"strawberry", "graphql", "starlette", "uvicorn"},
    "services": {"httpx", "aiohttp", "starlette", "uvicorn"},
    "schema": {"httpx", "aiohttp", "starlette", "uvicorn", "redis"},
}
GATEWAY_MAY_OPEN = {"backends", "backends.registry"}  # the adapters' one entry point
DEMO_MODULES = {"gateway/demo.py", "gateway/cli.py"}  # the demo commands start the simulators


def imports(source: str) -> set[str]:
    """Every absolute import of a module, at any depth (function bodies included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names if node.module == "backends"}
    return names


def violations(layer: str, relative: str, source: str) -> list[str]:
    """What one module of `layer` imports that the house rules forbid."""
    found: list[str] = []
    for name in sorted(imports(source)):
        top = name.split(".")[0]
        if top in FIRST_PARTY and top not in MAY_IMPORT[layer]:
            found.append(f"{name} (a {layer} module may not import {top})")
        elif top in MUST_NOT_USE.get(layer, set()):
            found.append(f"{name} (not a {layer} concern)")
        elif layer == "gateway" and top == "backends" and name not in GATEWAY_MAY_OPEN:
            found.append(f"{name} (the gateway opens adapters through backends.registry only)")
        elif layer == "gateway" and top == "simulators" and relative not in DEMO_MODULES:
            found.append(f"{name} (simulators only in the demo commands)")
    return found


@pytest.mark.parametrize("layer", sorted(MAY_IMPORT))
def test_imports_follow_the_house_rules(layer: str) -> None:
    offenders = {}
    for path in sorted((ROOT / layer).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        found = violations(layer, relative, path.read_text(encoding="utf-8"))
        if found:
            offenders[relative] = found
    assert offenders == {}


@pytest.mark.parametrize(
    ("layer", "source"),
    [
        ("services", "from backends.billing.client import BillingClient"),  # an adapter, not the port
        ("infra", "from domain.records import Account"),  # the platform knows no water
        ("backends", "def f():\n    from services import calls"),  # upward, hidden in a function
        ("domain", "import httpx"),  # the model does no I/O
        ("schema", "from gateway.http.errors import error_response"),  # upward
        ("gateway", "from backends.workorders import mapping"),  # an adapter's internals
        ("gateway", "from simulators.launch import stop"),  # outside the demo commands
    ],
)
def test_the_checker_catches_a_planted_violation(layer: str, source: str) -> None:
    assert violations(layer, f"{layer}/planted.py", source)


def test_the_demo_command_may_start_the_simulators() -> None:
    assert violations("gateway", "gateway/demo.py", "from simulators.launch import stop") == []


def test_the_gateway_is_grouped_by_concern() -> None:
    """At most 15 modules directly under gateway/: the rest live in a room that names their concern."""
    top = sorted(p.name for p in (ROOT / "gateway").glob("*.py"))
    assert len(top) <= 15, top
