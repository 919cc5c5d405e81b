"""Every customer-linked read passes `services.authorize`, the one access point (issue 15).

Read from the source, not the running code: a resolver function that loads customer-linked records
(a loader whose values are `Ticket`, `Customer`, `Account`, `Interaction`, ..., or a back-office call
that returns them) must call a function of `services.authorize`, or call a resolver that does
(`interactions` calls `profile`, which calls `require_customer`). A private helper with no check
of its own passes when every resolver that calls it passes and no schema module calls it directly.
The schema layer never touches loaders or backends itself, so there is no way around the resolvers.

What this cannot see: the order of the calls inside a function (a check after the load), and
reads through objects handed in from elsewhere. The tests under tests/services cover behaviour.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).parents[2]
RESOLVERS = ROOT / "services"
# The domain records that belong to a customer: who they are, what they owe, what they reported.
LINKED_TYPES = {"Account", "Bill", "Customer", "DirectDebit", "Interaction", "Meter", "Payment"}
LINKED_TYPES |= {"ServiceConnection", "Ticket"}
# Back-office calls that return those records (a client method read without a loader).
LINKED_CALLS = {
    "crm": {"contacts_by_phone", "contacts_by_customer_no", "interactions", "note_by_reference"},
    "billing": {"accounts_by_phone", "accounts", "bills", "payments", "meter", "direct_debit"},
    "workorders": {"tickets", "open_tickets", "ticket", "tickets_by_customers", "ticket_by_client_ref"},
    "gis": {"service_connections"},
}
LOADS = {"load", "load_many"}
NOT_READS = {"loaders.py", "authorize.py", "pop_snapshot.py"}  # the loaders, the point, a cache copy


def linked_loaders() -> set[str]:
    """The loaders in `Loaders` whose values name a customer-linked record type."""
    tree = ast.parse((RESOLVERS / "loaders.py").read_text(encoding="utf-8"))
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    found: set[str] = set()
    for node in classes["Loaders"].body:  # each loader is made on first use, then kept
        if not (isinstance(node, ast.FunctionDef) and node.returns is not None):
            continue
        if not any(ast.unparse(d) == "_made_on_first_use" for d in node.decorator_list):
            continue
        made = node.returns
        text = ast.unparse(made)
        if isinstance(made, ast.Name) and made.id in classes:  # a loader class of its own
            text = " ".join(ast.unparse(b) for b in classes[made.id].bases)
        if any(
            name in text.replace("[", " ").replace("]", " ").replace(",", " ").split()
            for name in LINKED_TYPES
        ):
            found.add(node.name)
    return found


@dataclass
class Function:
    module: str
    name: str
    calls: set[tuple[str, str]] = field(default_factory=set)  # (module, function), resolvers only
    reads: list[str] = field(default_factory=list)  # what customer-linked data it reads


def _chain(node: ast.expr) -> list[str]:
    """`ctx.loaders.ticket_by_id.load` -> ["ctx", "loaders", "ticket_by_id", "load"]."""
    out: list[str] = []
    while isinstance(node, ast.Attribute):
        out.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        out.append(node.id)
    return out[::-1]


def _imports(tree: ast.Module) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """Module aliases (`from services import network`) and imported functions, resolvers only."""
    modules: dict[str, str] = {}
    functions: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "services":
            modules |= {a.asname or a.name: a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("services."):
            source = (node.module or "").split(".", 1)[1]
            functions |= {a.asname or a.name: (source, a.name) for a in node.names}
    return modules, functions


def sources() -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(RESOLVERS.glob("*.py"))}


def functions(loaders: set[str], code: dict[str, str]) -> dict[tuple[str, str], Function]:
    """Every top-level function of services/ (nested functions and lambdas count as their parent's)."""
    out: dict[tuple[str, str], Function] = {}
    for module, text in code.items():
        tree = ast.parse(text)
        aliases, imported = _imports(tree)
        local = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        for top in tree.body:
            if not isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            fn = out[(module, top.name)] = Function(module, top.name)
            for node in ast.walk(top):
                if not isinstance(node, ast.Call):
                    continue
                chain = _chain(node.func)
                if len(chain) == 1 and chain[0] in local:
                    fn.calls.add((module, chain[0]))
                elif len(chain) == 1 and chain[0] in imported:
                    fn.calls.add(imported[chain[0]])
                elif len(chain) == 2 and chain[0] in aliases:
                    fn.calls.add((aliases[chain[0]], chain[1]))
                if f"{module}.py" in NOT_READS:
                    continue
                if len(chain) >= 3 and chain[-3] == "loaders" and chain[-2] in loaders and chain[-1] in LOADS:
                    fn.reads.append(f"loaders.{chain[-2]}")
                if (
                    len(chain) >= 3
                    and chain[-3] == "backends"
                    and chain[-1] in LINKED_CALLS.get(chain[-2], ())
                ):
                    fn.reads.append(f"backends.{chain[-2]}.{chain[-1]}")
    return out


def the_point() -> set[tuple[str, str]]:
    tree = ast.parse((RESOLVERS / "authorize.py").read_text(encoding="utf-8"))
    return {
        ("authorize", n.name)
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
    }


def passing(table: dict[tuple[str, str], Function]) -> set[tuple[str, str]]:
    """Functions that call the access point, directly or through a resolver that does."""
    passed = the_point()
    changed = True
    while changed:
        changed = False
        for key, fn in table.items():
            if key not in passed and fn.calls & passed:
                passed.add(key)
                changed = True
    return passed


def called_from_schema() -> set[tuple[str, str]]:
    """Resolver functions the schema layer calls: entry points, which must pass themselves."""
    out: set[tuple[str, str]] = set()
    for path in (ROOT / "schema").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases, imported = _imports(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id in aliases:
                    out.add((aliases[node.value.id], node.attr))
            elif isinstance(node, ast.Name) and node.id in imported:
                out.add(imported[node.id])
    return out


def unchecked_reads(table: dict[tuple[str, str], Function]) -> dict[str, list[str]]:
    passed = passing(table)
    entry = called_from_schema()
    callers: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for key, fn in table.items():
        for callee in fn.calls:
            callers.setdefault(callee, set()).add(key)

    def covered(key: tuple[str, str], seen: frozenset[tuple[str, str]]) -> bool:
        if key in passed:
            return True
        if key in entry or key in seen or not callers.get(key):
            return False  # an entry point, a cycle, or nobody calls it: it must check for itself
        return all(covered(c, seen | {key}) for c in callers[key])

    return {
        f"services/{fn.module}.py:{fn.name}": fn.reads
        for key, fn in table.items()
        if fn.reads and not covered(key, frozenset())
    }


def test_the_loaders_of_customer_records_are_found() -> None:
    """The rule reads the loaders' own types, so a new loader of tickets is covered without an edit."""
    found = linked_loaders()
    assert {"ticket_by_id", "open_tickets", "tickets_by_customer", "customer_by_no"} <= found
    assert {"segment_by_id", "segments_near", "outages"}.isdisjoint(found)


def test_every_customer_linked_read_passes_the_access_point() -> None:
    table = functions(linked_loaders(), sources())
    assert [k for k, f in table.items() if f.reads], "the rule found no reads at all: it is broken"
    assert unchecked_reads(table) == {}


OLD_OPEN_TICKETS_ON = """
@guarded
async def open_tickets_on(ctx: RequestContext, segment: PipeSegment) -> list[Ticket]:
    tickets = await ctx.loaders.open_tickets.load("all")
    return [
        t
        for t in tickets
        if t.location is not None and metres_to_path(t.location, segment.path) <= NEAR_TICKET_M
    ][:50]
"""


def test_the_rule_catches_the_read_issue_15_found() -> None:
    """The old `open_tickets_on` (finding 2: every open ticket near a main, no call check) fails it."""
    code = sources()
    code["network"] += OLD_OPEN_TICKETS_ON  # the later definition is the one the module keeps
    table = functions(linked_loaders(), code)
    assert unchecked_reads(table) == {"services/network.py:open_tickets_on": ["loaders.open_tickets"]}


def test_the_backend_calls_named_here_exist() -> None:
    """A renamed client method must not silently drop out of the rule."""
    for system, methods in LINKED_CALLS.items():
        source = (ROOT / "backends" / system / "client.py").read_text(encoding="utf-8")
        for method in methods:
            assert f"def {method}(" in source, f"{system}.{method}"


def test_the_schema_never_reads_backends_or_loaders_itself() -> None:
    offenders = [
        f"{path.name}:{node.lineno}"
        for path in (ROOT / "schema").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in {"loaders", "backends"}
    ]
    assert offenders == []
