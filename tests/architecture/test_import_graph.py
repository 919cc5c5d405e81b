"""No circle among Tidegate's modules, and no first-party import hidden inside a function.

An import inside a function hides a dependency from the module's head and from this graph (it is how a
circle is usually papered over), so outside the gateway every first-party import sits at module level:
only the gateway's CLI loads a subcommand's modules when that subcommand runs. Imports under
`if TYPE_CHECKING:` are for the type checker only and never run: they are left out of both rules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGES = ("gateway", "schema", "services", "backends", "infra", "domain", "gql", "simulators", "bench")
# Where a hidden first-party import is a defect: everywhere but the gateway, the composition root, whose
# CLI loads a subcommand's modules only when that subcommand runs (bench and the simulators are tools
# run from a checkout and are not held to it either).
NO_HIDDEN = ("schema", "services", "backends", "infra", "domain", "gql")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


MODULES = _modules()


def _targets(node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The first-party modules an import statement loads: `from p import m` names the module `p.m`
    when `m` is one, else `p` itself."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name in MODULES)
    elif node.module and node.level == 0:
        for alias in node.names:
            child = f"{node.module}.{alias.name}"
            if child in MODULES:
                yield child
            elif node.module in MODULES:
                yield node.module


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(imported at module level, imported inside a function), type-checking-only imports left out."""
    top: set[str] = set()
    hidden: set[str] = set()

    def visit(body: list[ast.stmt], in_function: bool) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse, in_function)
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                (hidden if in_function else top).update(_targets(node))
            inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    visit([child], inner)
                elif isinstance(child, ast.ExceptHandler):
                    visit(child.body, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")).body, False)
    return top, hidden


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def test_no_module_level_circle() -> None:
    graph = {name: _imports(path)[0] for name, path in MODULES.items()}
    assert _circles(graph) == []


def test_the_circle_finder_finds_one() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_first_party_import_hidden_in_a_function_outside_the_gateway() -> None:
    hidden = {
        (name, target)
        for name, path in MODULES.items()
        if name.split(".")[0] in NO_HIDDEN
        for target in _imports(path)[1]
    }
    assert hidden == set()


def test_the_hidden_import_finder_finds_one(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import schema\n\ndef f() -> None:\n    from schema import refs\n", encoding="utf-8")
    assert _imports(module) == ({"schema"}, {"schema.refs"})
