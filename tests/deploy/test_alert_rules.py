"""The alert rules and the exporter agree: every series and label a rule selects or groups by is one
the BFF exports. promtool (`make alert-rules`) tests the rules against series written by hand; this
test is what stops those hand-written series drifting from `gateway.observability.metrics` (a renamed
label would leave an alert that never fires, and nothing else would say so)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client.metrics import MetricWrapperBase

from gateway.observability.metric_labels import ClientNames, OperationNames
from gateway.observability.metrics import Metrics
from gateway.observability.series import Series

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
# Labels Prometheus adds itself (target labels, histogram buckets), and the scrape-health series.
SCRAPE_LABELS = {"job", "instance", "le"}
SCRAPE_SERIES = {"up"}
SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def exported() -> dict[str, set[str]]:
    """Series name (as scraped) -> its label names, for every instrument of the BFF's registry."""
    metrics = Metrics(OperationNames(set(), 0), ClientNames(set()))
    found: dict[str, set[str]] = {}
    for instrument in vars(metrics).values():
        if isinstance(instrument, Series):  # the request path's own (`gateway.observability.series`)
            name, labels, kind = instrument.name, set(instrument.labelnames), instrument.kind
        elif isinstance(instrument, MetricWrapperBase):
            # prometheus_client has no public accessor for an instrument's name, type and label names.
            name, labels, kind = instrument._name, set(instrument._labelnames), str(instrument._type)
        else:
            continue
        scraped = {
            "counter": [f"{name}_total"],
            "histogram": [f"{name}_{suffix}" for suffix in ("bucket", "count", "sum")],
        }
        for series in scraped.get(kind, [name]):
            found[series] = labels
    return found


def rules() -> list[tuple[str, str]]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [(rule["alert"], rule["expr"]) for group in doc["groups"] for rule in group["rules"]]


def test_every_series_a_rule_selects_is_exported_with_the_labels_it_uses() -> None:
    series = exported()
    checked = 0
    for alert, expr in rules():
        selected = [(name, body) for name, body in SELECTOR.findall(expr) if name not in SCRAPE_SERIES]
        assert selected or "up{" in expr, f"{alert}: no series found in its expression"
        names = {name for name, _ in selected}
        for name, body in selected:
            assert name in series, f"{alert} selects {name}, which the BFF does not export"
            unknown = set(MATCHER.findall(body)) - series[name] - SCRAPE_LABELS
            assert not unknown, f"{alert} matches {name} on labels it does not have: {sorted(unknown)}"
            checked += 1
        for grouping in GROUPING.findall(expr):
            labels = {label.strip() for label in grouping.split(",") if label.strip()}
            carried = set().union(*(series[name] for name in names)) if names else set()
            unknown = labels - carried - SCRAPE_LABELS
            assert not unknown, f"{alert} groups by labels no selected series has: {sorted(unknown)}"
    assert checked >= 10  # the rules were read: a parse that finds nothing must not pass


def test_the_check_itself_catches_a_renamed_label() -> None:
    series = exported()
    drifted = 'sum by (backend) (tidegate_circuit_breaker_state{state="closed",breaker="billing"})'
    ((name, body),) = SELECTOR.findall(drifted)
    assert set(MATCHER.findall(body)) - series[name] - SCRAPE_LABELS == {"breaker"}
