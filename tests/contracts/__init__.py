"""One contract suite per port in `domain.ports`, run against the real adapter over its simulator and
against the in-memory fake alike (Litestar's one store suite over its memory and Redis stores).

A suite asserts what the callers rely on: shapes and keys, not-found, list bounds and order, batch
limits, what a write answers. The fake is seeded with records the adapter read from the simulator, so
both answer about the same world; a case the fake cannot honestly play is marked adapter-only.
"""

IMPLEMENTATIONS = ("adapter", "fake")  # each suite's `port` fixture is parametrised over these
