"""`TIDEGATE_*` variables that are no setting: a warning each, naming the closest one (a misspelled
`TIDEGATE_MAX_QUERY_DEPT` would otherwise be silently ignored, and the default silently used)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from gateway.settings.component import ENV_PREFIX
from gateway.settings.problems import fields

# Read by tools around Tidegate, not by its settings: known, so never warned about.
OTHER_VARIABLES = frozenset(
    {
        "TIDEGATE_BOARD_SCREENSHOT",  # tests/e2e/test_board_browser.py saves docs/images/board.png there
        "TIDEGATE_SDL_TOKEN",  # tests/federation/gateway.mjs: the router's token for the BFF
    }
)


def known_variables() -> frozenset[str]:
    return frozenset(variable for variable, _ in fields().values()) | OTHER_VARIABLES


def unknown_variable_warnings(environ: Mapping[str, str] | Iterable[str]) -> list[str]:
    """One `tidegate: warning: ...` line per `TIDEGATE_*` name that no setting reads (names compared
    in upper case, as pydantic-settings reads them)."""
    known = known_variables()
    suffixes = sorted(name.removeprefix(ENV_PREFIX) for name in known)
    lines = []
    for name in sorted(environ):
        variable = name.upper()
        if not variable.startswith(ENV_PREFIX) or variable in known:
            continue
        # Compared without the prefix every name shares (else TIDEGATE_FOO is "close" to TIDEGATE_PORT).
        close = difflib.get_close_matches(variable.removeprefix(ENV_PREFIX), suffixes, n=1, cutoff=0.6)
        hint = (
            f"did you mean {ENV_PREFIX}{close[0]}?" if close else "docs/configuration.md lists the settings"
        )
        lines.append(f"tidegate: warning: {name} is not a setting; {hint}")
    return lines
