"""Hive Gateway in front of a fleet: `tidegate serve --workers 2` on one port and one real Redis (two
replicas behind one URL), the federation test's survey subgraph, and the supergraph composed offline
from the committed SDL (`bench/router.py` starts the Node side, as `make router` does).

The Node side is installed by `make test` (`npm ci --prefix deploy/router` and `--prefix
tests/federation`); without it these tests fail and say so, they never skip.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.router import Child, compose, start_router, start_survey
from tests.conftest import Simulators
from tests.support.processes import BffProcess, start_bff
from tests.support.redis_server import RedisProcess

CACHE_KEY = base64.urlsafe_b64encode(bytes(range(64, 96))).decode()
# The work-order system's webhook key: the tests post its signed status changes to a replica.
WEBHOOK_KEY = b"tidegate-router-webhook-key-32by"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(WEBHOOK_KEY).decode()


@dataclass
class Fleet:
    """The replicas (one URL, two workers), the router in front of them and the survey subgraph."""

    bff: BffProcess
    router: Child
    survey: Child
    sims: Simulators

    @property
    def graphql(self) -> str:
        return f"{self.router.url}/graphql"

    def post(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(self.graphql, json=body, headers=headers or {}, timeout=30)


@pytest.fixture(scope="module")
def fleet(sims: Simulators, redis_server: RedisProcess) -> Iterator[Fleet]:
    for name in ("billing", "crm", "gis", "workorders"):
        _ = sims[name]
    env = {
        "TIDEGATE_REDIS_URL": redis_server.url,
        "TIDEGATE_WORKERS": "2",
        "TIDEGATE_CACHE_KEY": CACHE_KEY,  # one key for both workers: each opens the other's pops
        # Production's rule: ids only, except the apps whose traffic comes through the router.
        "TIDEGATE_PERSISTED_ONLY": "true",
        "TIDEGATE_PERSISTED_FREE_FORM_CLIENTS": "workbench",
        "TIDEGATE_WORKORDERS_WEBHOOK_SECRETS": WEBHOOK_SECRET,
    }
    bff = start_bff(sims, env)
    survey: Child | None = None
    router: Child | None = None
    try:
        survey = start_survey()
        supergraph = Path(tempfile.mkdtemp(prefix="supergraph-")) / "supergraph.graphql"
        compose(supergraph, f"{bff.url}/graphql", survey.url)
        router = start_router(supergraph)
        yield Fleet(bff, router, survey, sims)
    finally:
        for child in (router, survey):
            if child is not None:
                child.stop()
        bff.stop()
