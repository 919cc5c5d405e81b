"""A field's path as the audit trail spells it (`customerByPhone.tickets.0.description`).

Sibling fields share their parent's `Path` object (graphql-core and the compiled walk both extend the
parent's), so a path is spelled from its parent's spelling, remembered for the request: one join per
revealed field, where walking and joining the whole path each time cost about 4 µs for a five-deep
path, and a screen pop audits about fifteen.
"""

from __future__ import annotations

from graphql.pyutils import Path

# id(path) -> (path, spelling): the path is held so that its id cannot be reused while remembered.
Spellings = dict[int, tuple[object, str]]

# A websocket's context lives as long as its connection, and every subscription event brings new
# paths: past this many, what is remembered is forgotten (and spelled again as it comes).
MAX_SPELLINGS = 4096


def dotted(path: Path, known: Spellings) -> str:
    """`".".join(map(str, path.as_list()))`, each prefix spelled once per `known` (one request's)."""
    found = known.get(id(path))
    if found is not None:
        return found[1]
    prev = path.prev
    spelled = str(path.key) if prev is None else f"{dotted(prev, known)}.{path.key}"
    if len(known) >= MAX_SPELLINGS:
        known.clear()
    known[id(path)] = (path, spelled)
    return spelled
