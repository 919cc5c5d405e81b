"""Turn a simulator's fault knobs and read its counters (its `/_sim` admin API)."""

from __future__ import annotations

from typing import Any

import httpx


def set_faults(url: str, **knobs: Any) -> None:
    httpx.patch(f"{url}/_sim/faults", json=knobs).raise_for_status()


def reset_stats(url: str) -> None:
    httpx.post(f"{url}/_sim/stats/reset").raise_for_status()


def stats(url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{url}/_sim/stats").json()
    return body
