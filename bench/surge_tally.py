"""What one surge request came to; a mode's tables (by class, operation and phase; billing's own); the checks.

Success, as the surge benchmark counts it: HTTP 200, `data` with the operation's root field set
(a non-empty list for `customerByPhone`), and none of its errors `RATE_LIMITED`,
`INTERNAL_SERVER_ERROR` or a transport failure. A success with field errors (a screen pop whose
account fields hit the deadline: `BACKEND_TIMEOUT`, `BACKEND_UNAVAILABLE`) is *partial*, which is
designed behaviour; one with no errors at all is *complete*. So success = partial + complete.

Why a request was partial, per phase and operation (`phases.<phase>.partials`): each error's
*cause* is the field under the root that it cost (the path's first name after the root: `accounts`
for `customerByPhone.0.accounts.1.balance`), the backend it names and its code, e.g.
`accounts: billing BACKEND_TIMEOUT`; `by_field` counts the partial requests each cause touched
(a request with two counts under both), `by_backend` the same by backend and code only
(`billing BACKEND_TIMEOUT`), `only_backend` the partial requests that one backend-and-code alone
made partial (a screen pop's `accounts` and `idCard` both wait for billing: one backend cause). Partial
shares are split by first and repeat callers (a repeat caller's accounts may be in the cache, and a
cached copy, even a stale one, answers in full), and the latencies of the partial requests show
where the deadline cut them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from prometheus_client.parser import text_string_to_metric_families

from bench.loadgen import percentile
from bench.surge_mix import Kind

FATAL = frozenset({"RATE_LIMITED", "INTERNAL_SERVER_ERROR", "INTERNAL", "CLIENT_TIMEOUT", "CONNECTION_ERROR"})
CLASSES = ("critical", "normal", "sheddable")


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Kind
    phase: str
    latency_ms: float  # from the scheduled arrival, so a late send counts against the answer
    codes: tuple[str, ...]  # each error's code: GraphQL `extensions.code`, or HTTP/transport level
    success: bool
    stale: bool
    causes: frozenset[str] = field(default_factory=frozenset)  # `field: backend CODE` of each error
    repeat: bool = False  # the caller called before in this run

    @property
    def partial(self) -> bool:
        return self.success and bool(self.codes)

    @property
    def complete(self) -> bool:
        return self.success and not self.codes


def failed(kind: Kind, phase: str, latency_ms: float, code: str, *, repeat: bool = False) -> Outcome:
    """No HTTP answer: `CLIENT_TIMEOUT` or `CONNECTION_ERROR`."""
    return Outcome(kind, phase, latency_ms, (code,), False, False, frozenset({code}), repeat)


def cause(error: dict[str, Any]) -> str:
    """`field: backend CODE`: the field under the root the error cost, and who failed it how."""
    path = error.get("path")
    names = [p for p in path[1:] if isinstance(p, str)] if isinstance(path, list) else []
    extensions = error.get("extensions") or {}
    where = names[0] if names else (str(path[0]) if isinstance(path, list) and path else "(request)")
    backend = extensions.get("backend")
    return f"{where}: {backend + ' ' if backend else ''}{extensions.get('code', 'NO_CODE')}"


def judge(
    kind: Kind, phase: str, latency_ms: float, status: int, body: bytes, *, repeat: bool = False
) -> Outcome:
    """Read one HTTP answer the way an agent's workbench would."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict):
        code = "RATE_LIMITED" if status == 429 else f"HTTP_{status}"
        return Outcome(kind, phase, latency_ms, (code,), False, False, frozenset({code}), repeat)
    errors = [e for e in doc.get("errors") or [] if isinstance(e, dict)]
    codes = tuple(str((e.get("extensions") or {}).get("code", "NO_CODE")) for e in errors)
    causes = frozenset(cause(e) for e in errors)
    if not codes and status != 200:
        codes = ("RATE_LIMITED" if status == 429 else f"HTTP_{status}",)
        causes = frozenset(codes)
    data = doc.get("data")
    root = data.get(kind.root) if isinstance(data, dict) else None
    success = status == 200 and root is not None and root != [] and not FATAL.intersection(codes)
    extensions = doc.get("extensions")
    stale = (
        isinstance(extensions, dict)
        and isinstance(extensions.get("stale"), list)
        and bool(extensions["stale"])
    )
    return Outcome(kind, phase, latency_ms, codes, success, stale, causes, repeat)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _group(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    n = len(outcomes)
    latencies = [o.latency_ms for o in outcomes]
    return {
        "requests": n,
        "success_rate": _share(sum(o.success for o in outcomes), n),
        "partial_share": _share(sum(o.partial for o in outcomes), n),
        "complete_share": _share(sum(o.complete for o in outcomes), n),
        "stale_share": _share(sum(o.stale for o in outcomes), n),
        "p50_ms": round(percentile(latencies, 0.5), 1) if n else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if n else None,
    }


def _keyed(groups: dict[str, dict[str, Any]], metric: str) -> dict[str, Any]:
    return {key: group[metric] for key, group in groups.items()}


def _by(outcomes: Iterable[Outcome], key: str) -> dict[str, dict[str, Any]]:
    split: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        split[o.kind.op_class if key == "class" else o.kind.operation].append(o)
    order = CLASSES if key == "class" else sorted(split)
    return {k: _group(split[k]) for k in order if k in split}


def _failures(outcomes: Iterable[Outcome]) -> dict[str, dict[str, int]]:
    """Why requests failed, per operation: each failed request's codes (`NO_DATA`: none, no root field)."""
    why: dict[str, Counter[str]] = defaultdict(Counter)
    for o in outcomes:
        if not o.success:
            why[o.kind.operation].update(set(o.codes) or {"NO_DATA"})
    return {op: dict(why[op].most_common()) for op in sorted(why)}


def _partials(outcomes: Sequence[Outcome]) -> dict[str, dict[str, Any]]:
    """Per operation with partial answers: how many, from what cause, for whom, and how late."""
    split: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        split[o.kind.operation].append(o)
    out: dict[str, dict[str, Any]] = {}
    for op in sorted(split):
        partial = [o for o in split[op] if o.partial]
        if not partial:
            continue
        by_field: Counter[str] = Counter()
        by_backend: Counter[str] = Counter()
        only: Counter[str] = Counter()
        for o in partial:
            by_field.update(o.causes)
            backends = {c.partition(": ")[2] or c for c in o.causes}
            by_backend.update(backends)
            if len(backends) == 1:
                only.update(backends)
        callers = {
            who: [o for o in split[op] if o.repeat is (who == "repeat")] for who in ("first", "repeat")
        }
        latencies = [o.latency_ms for o in partial]
        out[op] = {
            "requests": len(split[op]),
            "partial": len(partial),
            "partial_share": _share(len(partial), len(split[op])),
            "by_field": dict(by_field.most_common()),
            "by_backend": dict(by_backend.most_common()),
            "only_backend": dict(only.most_common()),
            "partial_share_by_caller": {
                who: _share(sum(o.partial for o in group), len(group)) for who, group in callers.items()
            },
            "partial_p50_ms": round(percentile(latencies, 0.5), 1),
            "partial_p99_ms": round(percentile(latencies, 0.99), 1),
        }
    return out


def _codes(outcomes: Iterable[Outcome]) -> tuple[dict[str, int], dict[str, int]]:
    per_error: Counter[str] = Counter()
    per_request: Counter[str] = Counter()
    for o in outcomes:
        per_error.update(o.codes)
        per_request.update(set(o.codes))
    return dict(per_error.most_common()), dict(per_request.most_common())


def tables(outcomes: Sequence[Outcome], phases: Sequence[str]) -> dict[str, Any]:
    """The client side of a mode's block: every figure keyed by class, then by operation, then by phase."""
    classes, operations = _by(outcomes, "class"), _by(outcomes, "operation")
    errors_by_code, requests_by_error_code = _codes(outcomes)
    out: dict[str, Any] = {"requests": _keyed(classes, "requests")}
    for metric in ("success_rate", "partial_share", "complete_share", "p50_ms", "p99_ms"):
        out[metric] = _keyed(classes, metric)
    out["stale_share"] = _share(sum(o.stale for o in outcomes), len(outcomes))
    out["stale_share_by_class"] = _keyed(classes, "stale_share")
    out["errors_by_code"] = errors_by_code
    out["requests_by_error_code"] = requests_by_error_code
    out["failures_by_operation"] = _failures(outcomes)
    for metric in ("requests", "success_rate", "partial_share", "p50_ms", "p99_ms"):
        out[f"{metric}_by_operation"] = _keyed(operations, metric)
    out["phases"] = {}
    for phase in phases:
        in_phase = [o for o in outcomes if o.phase == phase]
        by_class, by_op = _by(in_phase, "class"), _by(in_phase, "operation")
        out["phases"][phase] = {
            "requests": _keyed(by_class, "requests"),
            "success_rate": _keyed(by_class, "success_rate"),
            "p50_ms": _keyed(by_class, "p50_ms"),
            "p99_ms": _keyed(by_class, "p99_ms"),
            "p99_ms_by_operation": _keyed(by_op, "p99_ms"),
            "partial_share_by_operation": _keyed(by_op, "partial_share"),
            "errors_by_code": _codes(in_phase)[0],
            "partials": _partials(in_phase),
        }
    return out


def billing_tables(
    stats: dict[str, Any], capacity: int | None, began: float, phases: Sequence[tuple[str, float, float]]
) -> dict[str, Any]:
    """Billing's side of a mode, from its own counters; per phase by wall-clock second."""
    by_phase: dict[str, Any] = {}
    start = began
    for phase, seconds, _ in phases:
        seconds_in = [s for s in stats["per_second"] if start - 0.5 <= s["t"] < start + seconds - 0.5]
        by_phase[phase] = {
            "calls": sum(s["calls"] for s in seconds_in),
            "failed": sum(s["errors"] for s in seconds_in),
            "peak_calls_in_a_second": max((s["calls"] for s in seconds_in), default=0),
        }
        start += seconds
    return {
        "billing_capacity": capacity,
        "billing_peak_concurrency": stats["peak_in_flight"],
        "billing_peak_in_pool": stats["peak_concurrency"],
        "billing_peak_rps": stats["peak_rps"],
        "billing_calls": stats["requests"],
        "billing_failed_by_kind": stats["errors_by_kind"],
        "billing_calls_by_operation": {op: s["requests"] for op, s in stats["operations"].items()},
        # As billing served them (its pool's queue and its contention included), whole run.
        "billing_latency_ms_by_operation": {op: s["latency_ms"] for op, s in stats["operations"].items()},
        "billing_by_phase": by_phase,
    }


def billing_alone_late(every: dict[str, Any], cut_ms: float, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """How many screen pops billing alone makes late, whatever the BFF does, beside how many were.

    A pop without a ring asks billing's `GetAccounts` only once the CRM's phone search has named the
    accounts, and is cut `cut_ms` after it arrived. So a `GetAccounts` call that billing itself took
    longer than the cut less the search's median to serve (its pool's queue and its contention
    included, as billing measured it) cannot reach that pop in time even from an instant BFF.
    `over_budget_share` is the share of the run's `GetAccounts` calls that did (every caller's:
    billing serves a history's the way it serves a pop's), an estimate of the partial share of
    first-time callers' pops owed to billing alone (`first_caller_pops_partial_share`, measured;
    repeat callers may be answered from the cache). Rung pops (`--ring-s`) ask billing at the ring,
    not within the answered query's cut, so for them the estimate does not apply. Billing keeps its
    latest 1,000 service times per operation: `calls` says how many this is taken over."""
    search = every.get("crm", {}).get("operations", {}).get("searchContacts")
    accounts = every.get("billing", {}).get("operations", {}).get("GetAccounts")
    if not search or not accounts or not accounts.get("latencies_ms"):
        return {}
    search_p50 = float(search["latency_ms"]["p50"])
    budget = cut_ms - search_p50
    times = accounts["latencies_ms"]
    first = [o for o in outcomes if o.kind.name == "screen_pop" and not o.repeat]
    return {
        "pop_cut_ms": cut_ms,
        "crm_search_p50_ms": search_p50,
        "budget_ms": round(budget, 1),
        "calls": len(times),
        "over_budget_share": _share(sum(ms > budget for ms in times), len(times)),
        "first_caller_pops": len(first),
        "first_caller_pops_partial_share": _share(sum(o.partial for o in first), len(first)),
    }


def ring_pops(exposition: str) -> dict[str, Any]:
    """Ring-time pops as the BFF counted them (`tidegate_ring_pop_duration_seconds`): from each CTI
    ring to the pop pushed to the agent, which is the screen pop's own promise (300 ms from the ring),
    where the agent's answered query is timed from the answer. Shares within a time are exact at a
    bucket's bound (0.3 s is one); the percentiles are the bound of the bucket they fall in."""
    bounds: dict[float, float] = {}  # le -> pops at most that long, every outcome together
    by_outcome: dict[str, int] = {}
    for family in text_string_to_metric_families(exposition):
        if family.name != "tidegate_ring_pop_duration_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                le = float(sample.labels["le"])
                bounds[le] = bounds.get(le, 0.0) + sample.value
            elif sample.name.endswith("_count") and sample.value:
                by_outcome[sample.labels["outcome"]] = int(sample.value)
    pushed = sum(by_outcome.values())
    if not pushed:
        return {"pushed": 0}
    ordered = sorted(bounds.items())

    def at_most_ms(q: float) -> float | None:
        bound = next(le for le, n in ordered if n >= q * pushed)
        return None if bound == float("inf") else round(bound * 1000, 1)

    return {
        "pushed": pushed,
        "by_outcome": dict(sorted(by_outcome.items())),
        "partial_share": _share(by_outcome.get("partial", 0), pushed),
        "within_300ms_share": _share(int(bounds.get(0.3, 0.0)), pushed),
        "p50_ms_at_most": at_most_ms(0.5),
        "p99_ms_at_most": at_most_ms(0.99),
    }


def checks(result: dict[str, Any]) -> dict[str, Any]:
    """The issue's promises, judged on the protected run (machines are noisy: not asserted): billing
    within capacity, critical success, screen-pop p99 and partial share."""
    out: dict[str, Any] = {}
    if (p := result.get("protected")) is not None:
        cap = p["billing_capacity"]
        out["billing_within_capacity"] = cap is not None and p["billing_peak_concurrency"] <= cap
        critical = p["success_rate"].get("critical")
        out["critical_success_ok"] = critical is not None and critical >= 0.999
        pop = p["p99_ms_by_operation"].get("ScreenPop")
        out["screen_pop_p99_ok"] = pop is not None and pop <= 300
        partial = p["partial_share_by_operation"].get("ScreenPop")
        out["screen_pop_partial_ok"] = partial is not None and partial <= 0.2
    if (u := result.get("unprotected")) is not None and u["billing_capacity"] is not None:
        out["unprotected_over_capacity"] = u["billing_peak_concurrency"] > u["billing_capacity"]
    return out
