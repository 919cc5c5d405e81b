"""graphql-http's server audits (the GraphQL-over-HTTP draft's MUST / SHOULD / MAY items) against
Tidegate as its own process, over real HTTP.

The Node side (`package.json` and `package-lock.json` here) is installed by `make test` (`npm ci
--prefix tests/http_audit`); without it these tests fail and say so, they never skip. The counts line
is kept and written in pytest's terminal summary, so it shows in `make test` (pytest -q) output.
"""

from __future__ import annotations

import pytest

_COUNTS = pytest.StashKey[list[str]]()


def report_line(config: pytest.Config, line: str) -> None:
    """Keep `line` for the end of the run's output (printed even under -q and when a test fails)."""
    config.stash.setdefault(_COUNTS, []).append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for line in config.stash.get(_COUNTS, []):
        terminalreporter.write_line(line)
