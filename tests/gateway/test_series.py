"""`gateway.observability.series` exposes exactly what prometheus_client's own instruments would for
the same updates: each series and its twin, fed the same values, scraped and compared sample by
sample (prometheus_client's `_created` samples aside, which the series do not produce)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from gateway.observability.metrics import BUCKETS
from gateway.observability.series import CounterSeries, GaugeSeries, HistogramSeries
from tests.support.prom import Scrape

LABELS = ["backend", "outcome"]
# On a bound, between bounds, below the first, past the last, and negative.
VALUES = [0.0, 0.005, 0.0051, 0.3, 0.29999, 0.31, 10.0, 10.5, 1e9, -1.0]


def _samples(registry: CollectorRegistry) -> list[tuple[str, tuple[tuple[str, str], ...], float]]:
    scrape = Scrape(generate_latest(registry).decode())
    return sorted(
        (name, tuple(sorted(labels.items())), value)
        for name, labels, value in scrape.samples
        if not name.endswith("_created")
    )


def _texts(registry: CollectorRegistry) -> list[str]:
    """HELP and TYPE lines: the same documentation and kinds."""
    return sorted(line for line in generate_latest(registry).decode().splitlines() if line.startswith("#"))


def test_a_histogram_series_exposes_what_prometheus_clients_histogram_does() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    histogram = Histogram("latency_seconds", "Latency.", LABELS, buckets=BUCKETS, registry=theirs)
    series = HistogramSeries("latency_seconds", "Latency.", LABELS, ours, BUCKETS)
    for i, value in enumerate(VALUES):
        labels = ("billing", "ok" if i % 3 else "BACKEND_TIMEOUT")
        histogram.labels(*labels).observe(value)
        series.observe(labels, value)
    assert _samples(ours) == _samples(theirs)
    assert [line for line in _texts(ours) if "_created" not in line] == [
        line for line in _texts(theirs) if "_created" not in line
    ]
    assert series.count(("billing", "ok")) == 6 and series.count(("crm", "ok")) == 0


def test_a_counter_and_a_gauge_series_expose_what_prometheus_clients_do() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    counter = Counter("calls", "Calls.", LABELS, registry=theirs)
    gauge = Gauge("in_flight", "In flight.", ["route"], registry=theirs)
    counted = CounterSeries("calls", "Calls.", LABELS, ours)
    moved = GaugeSeries("in_flight", "In flight.", ["route"], ours)
    for labels, amount in [(("billing", "ok"), 1.0), (("crm", "ok"), 2.5), (("billing", "ok"), 1.0)]:
        counter.labels(*labels).inc(amount)
        counted.inc(labels, amount)
    for route, step in [
        ("/graphql", 1),
        ("/graphql", 1),
        ("/graphql", -1),
        ("/metrics", 1),
        ("/metrics", -1),
    ]:
        gauge.labels(route).inc(step)
        moved.add((route,), step)
    assert _samples(ours) == _samples(theirs)
    assert counted.value(("billing", "ok")) == 2.0 and moved.value(("/graphql",)) == 1


def test_label_values_must_match_the_label_names() -> None:
    series = CounterSeries("calls", "Calls.", LABELS, CollectorRegistry())
    with pytest.raises(ValueError, match="takes 2 label values"):
        series.inc(("billing",))
    with pytest.raises(ValueError, match="increasing"):
        HistogramSeries("h", "H.", LABELS, CollectorRegistry(), [0.2, 0.1])
