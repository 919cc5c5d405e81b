"""`tidegate serve` for `bench/observability.py`, with the one seam the CLI lacks: spans to a drain.

The same steps as `gateway.cli serve` (settings from `TIDEGATE_*`, logging, `create_app`, then
`gateway.http.serving.run`), so every leg of the benchmark runs the production serving path.
`--drop-spans` passes `create_app` a `SpanExporter` that drops every span: tracing is then on with
every span recorded (`SimpleSpanProcessor`, sampled at 1.0), and what the leg costs is making the
spans, not shipping them (an OTLP collector's cost is its own).

    python -m bench.observed_server --port 8200 [--drop-spans]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from gateway.app import create_app
from gateway.http.serving import run
from gateway.observability.logging import configure_logging
from gateway.settings import Settings


class DroppingExporter(SpanExporter):
    """Takes every finished span and keeps none."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--drop-spans", action="store_true", help="tracing on, every span to a drain")
    args = parser.parse_args(argv)
    settings = Settings(port=args.port)
    configure_logging(settings.serving.log_level)
    app = create_app(settings, span_exporter=DroppingExporter() if args.drop_spans else None)
    run(app, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
