"""Labelled Prometheus series the request path updates: plain dicts, turned into metrics when scraped.

Why not prometheus_client's `Counter`/`Histogram` children: each update there is four or five Python
calls and a lock (the child's `inc` or `observe`, its "is this a labelled parent?" check, the value's
locked `inc`; a histogram does the last twice), and a screen pop makes about twenty updates (the
request, the GraphQL operation, each backend call's attempt, HTTP exchange and budget decisions):
about a hundred calls a pop, for counters only one thread ever writes. Here an update is one call
on a dict keyed by the label values; the event loop's thread is the only writer, and scrapes run
on it too (`MetricsEndpoint` is an ordinary route), so no lock is needed.

The series are exposed through prometheus_client's custom-collector API, registered on the app's
own `CollectorRegistry`, with the same names, HELP, labels and buckets as the instruments they
replace; the `_created` samples prometheus_client adds to counters and histograms are not produced
(nothing reads them: the alert rules and dashboards use `_total`, `_bucket`, `_sum` and `_count`).
Label values must be bounded by the caller, as for any Prometheus series
(`gateway.observability.metric_labels`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import ClassVar

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

Labels = tuple[str, ...]


class Series(Collector):
    """One named, labelled series on an app's registry, which calls its `collect` at each scrape."""

    kind: ClassVar[str]  # the Prometheus type: counter, gauge or histogram

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        registry.register(self)

    def _check(self, labels: Labels) -> None:
        if len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name} takes {len(self.labelnames)} label values, not {len(labels)}")


class _ValueSeries(Series):
    """One number per label values; `_family` is the metric family it is exposed as."""

    _family: type[CounterMetricFamily | GaugeMetricFamily]

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry
    ) -> None:
        super().__init__(name, documentation, labelnames, registry)
        self._values: dict[Labels, float] = {}

    def _add(self, labels: Labels, amount: float = 1.0) -> None:
        values = self._values
        if labels in values:
            values[labels] += amount
        else:
            self._check(labels)
            values[labels] = amount

    def value(self, labels: Labels) -> float:
        return self._values.get(labels, 0.0)

    def collect(self) -> Iterator[Metric]:
        family = self._family(self.name, self.documentation, labels=self.labelnames)
        for labels, value in list(self._values.items()):
            family.add_metric(labels, value)
        yield family


class CounterSeries(_ValueSeries):
    """A counter per label values (`inc(labels)`), exposed as `<name>_total`."""

    kind = "counter"
    _family = CounterMetricFamily
    inc = _ValueSeries._add  # `inc(labels, amount=1.0)`: the update itself, no frame around it


class GaugeSeries(_ValueSeries):
    """A gauge per label values moved up and down (`add(labels, ±1)`)."""

    kind = "gauge"
    _family = GaugeMetricFamily
    add = _ValueSeries._add  # `add(labels, amount)`, amount ±1


class HistogramSeries(Series):
    """A histogram per label values (`observe(labels, value)`): a count per bucket, cumulated when
    scraped, the `+Inf` bucket implied; a value on a bound falls in that bound's bucket (`le`)."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        registry: CollectorRegistry,
        buckets: Sequence[float],
    ) -> None:
        if list(buckets) != sorted(buckets) or len(set(buckets)) != len(buckets):
            raise ValueError("buckets must be distinct and in increasing order")
        super().__init__(name, documentation, labelnames, registry)
        self._bounds = tuple(float(b) for b in buckets)
        # `le` spelled as prometheus_client spells it (an untyped helper of its own)
        self._les = [floatToGoString(b) for b in self._bounds] + ["+Inf"]  # type: ignore[no-untyped-call]
        self._counts: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = {}

    def observe(self, labels: Labels, value: float) -> None:
        counts = self._counts.get(labels)
        if counts is None:
            self._check(labels)
            counts = self._counts[labels] = [0] * (len(self._bounds) + 1)
            self._sums[labels] = 0.0
        counts[bisect_left(self._bounds, value)] += 1
        self._sums[labels] += value

    def count(self, labels: Labels) -> int:
        return sum(self._counts.get(labels, ()))

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, counts in list(self._counts.items()):
            cumulative = accumulate(counts)
            family.add_metric(labels, list(zip(self._les, cumulative, strict=True)), self._sums[labels])
        yield family
