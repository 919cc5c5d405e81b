"""Keeping the garbage collector's pauses off the request path.

The BFF's long-lived heap (the schema and its graphql-core types, code tables, every imported module)
is built once at start-up. Left in the collector's oldest generation, every full collection scans it
again: 75-100 ms stalls of the event loop under a surge, straight into the screen pop's p99 (measured
with `gc.callbacks` against the simulators). Frozen, a full collection looks at request garbage only.

The youngest generation is collected less often than Python's default (every 700 allocations): a
request's objects are freed by reference counting as it ends, and a young collection mid-request only
re-scans objects about to die (`ServingSettings.gc_young_threshold`).
"""

from __future__ import annotations

import gc

from graphql import GraphQLError


def freeze_startup_heap(young_threshold: int | None = None) -> int:
    """Collect what start-up left behind, then exempt every surviving object from future collections;
    with `young_threshold`, collect the youngest generation after that many allocations (the older
    generations keep their thresholds). Returns how many objects were frozen. Call once per process,
    after the app is built."""
    gc.collect()
    gc.freeze()
    if young_threshold is not None:
        _, middle, old = gc.get_threshold()
        gc.set_threshold(young_threshold, middle, old)
    return gc.get_freeze_count()


def release_frames(errors: list[GraphQLError]) -> None:
    """Drop the errors' tracebacks once they are written out. Each holds graphql-core's frames, whose
    execution context holds the errors: a reference cycle per error that only the cyclic GC frees.
    A surge of partial answers (a dozen timed-out fields each) made gen-2 collections of ~1,000 frames
    per request that stalled the event loop 100-180 ms; freed here by reference counting instead."""
    for error in errors:
        error.__traceback__ = None
        if error.original_error is not None:
            error.original_error.__traceback__ = None
