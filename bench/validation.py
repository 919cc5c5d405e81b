"""Validation time of the worst document the cost limits admit, of the screen pop, and of refusing
issue 15's 2^30 document, all through the same code path: the validator every request's document
meets (`gateway.persisted.queries.schema_validator`: the one-pass cost check, then graphql-core's
rules and the gateway's), on the real schema with default settings, uncached (a cache hit is a
lookup, not a validation).

Also `loop_max_gap_ms`: the longest the event loop went without running a 1 ms ticker while the
worst allowed document was validated the way the BFF validates a large one (in a worker thread),
beside `loop_max_gap_idle_ms`, the same with nothing validating (the machine's scheduling noise).

    python -m bench.validation --seconds 10

prints one JSON object (times in microseconds: p50, p99, n per document; and the document's parse,
which the BFF does before validating it, off the loop for a long text).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from graphql import DocumentNode, GraphQLError, parse, specified_rules

from bench.documents import doubling, worst_allowed
from gateway.http.extensions import limit_rules
from gateway.limits.cost_limits import CostLimits, check_cost
from gateway.persisted.queries import schema_validator
from gateway.settings import Settings
from schema.build import build_schema

SCREEN_POP = Path(__file__).resolve().parents[1] / "gql" / "screen_pop.graphql"


def timings(
    validate: Callable[[DocumentNode], object], document: DocumentNode, seconds: float
) -> list[float]:
    """Microseconds per validation, for `seconds` (at least three runs)."""
    found: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(found) < 3 or time.perf_counter() < deadline:
        started = time.perf_counter()
        validate(document)
        found.append((time.perf_counter() - started) * 1e6)
    return found


def reparse(text: str, max_tokens: int, _document: DocumentNode) -> DocumentNode:
    return parse(text, max_tokens=max_tokens)


def summary(found: list[float]) -> dict[str, float | int]:
    ordered = sorted(found)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_us": round(statistics.median(ordered), 1), "p99_us": round(p99, 1), "n": len(ordered)}


async def loop_gaps_ms(
    validate: Callable[[DocumentNode], list[GraphQLError]], document: DocumentNode
) -> dict[str, float]:
    """The longest gap between ticks of a 1 ms ticker: while `validate` runs three times in a worker
    thread (as the BFF validates a large document), and for as long with nothing to validate (the
    machine's own scheduling noise: a busy machine alone makes gaps of tens of milliseconds)."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    for _ in range(3):
        await asyncio.to_thread(validate, document)
    busy = max(gaps, default=0.0)
    gaps.clear()
    await asyncio.sleep(time.perf_counter() - started)
    done.set()
    await task
    return {"loop_max_gap_ms": round(busy * 1000, 2), "loop_max_gap_idle_ms": round(max(gaps) * 1000, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="in all, shared by the three documents")
    args = parser.parse_args(argv)
    settings = Settings()
    limits = CostLimits.from_settings(settings)
    schema = build_schema()._schema
    validate = schema_validator(schema, (*specified_rules, *limit_rules(settings)), limits)
    texts = {
        "worst_allowed": worst_allowed(limits, settings.limits.max_tokens),
        "screen_pop": SCREEN_POP.read_text(),
        "doubling_2_30": doubling(30),
    }
    documents = {name: parse(text, max_tokens=settings.limits.max_tokens) for name, text in texts.items()}
    result: dict[str, Any] = {"benchmark": "validation", "seconds": args.seconds}
    share = args.seconds / len(documents)
    for name, document in documents.items():
        cost, errors = check_cost(document, schema, limits)
        figures = cost.operations[0].figures if cost is not None and cost.operations else None
        parses = summary(timings(partial(reparse, texts[name], settings.limits.max_tokens), document, 0))
        result[name] = {
            **summary(timings(validate, document, share)),
            "bytes": len(texts[name].encode()),
            "parse_p50_us": parses["p50_us"],
            "refused": sorted({str((e.extensions or {}).get("code")) for e in errors}),
            "figures": None if figures is None else {k: getattr(figures, k) for k in figures.__slots__},
        }
    result |= asyncio.run(loop_gaps_ms(validate, documents["worst_allowed"]))
    result["limits"] = {
        "max_query_depth": limits.max_depth,
        "max_aliases": limits.max_aliases,
        "max_fragments": limits.max_fragments,
        "max_spreads": limits.max_spreads,
        "max_fields": limits.max_fields,
        "max_cost": limits.max_cost,
        "max_tokens": settings.limits.max_tokens,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
