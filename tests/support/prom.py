"""Read a `/metrics` page the way Prometheus does (its own parser), and pick samples by labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """Every sample of one scrape, as (sample name, labels) -> value."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: list[tuple[str, dict[str, str], float]] = [
            (sample.name, dict(sample.labels), sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        """The sum over samples named `name` whose labels include `labels` (0 when none match)."""
        return sum(v for n, got, v in self.samples if n == name and labels.items() <= got.items())

    def has(self, name: str, **labels: str) -> bool:
        return any(n == name and labels.items() <= got.items() for n, got, _ in self.samples)

    def label_values(self) -> set[str]:
        return {value for _, labels, _ in self.samples for value in labels.values()}
