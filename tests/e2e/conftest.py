"""One BFF process per test module, on the shared simulators (others start their own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Simulators
from tests.support.processes import BffProcess, start_bff


@pytest.fixture(scope="module")
def bff(sims: Simulators) -> Iterator[BffProcess]:
    for name in ("billing", "crm", "gis", "workorders"):
        _ = sims[name]
    started = start_bff(sims)
    try:
        yield started
    finally:
        started.stop()
