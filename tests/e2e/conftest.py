"""One BFF process per test module, on the shared simulators (others start their own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Simulators
from tests.support.processes import BffProcess, start_bff
from tests.support.redis_cluster import RedisClusterProcesses
from tests.support.redis_server import RedisProcess


@pytest.fixture(scope="module")
def bff(sims: Simulators) -> Iterator[BffProcess]:
    for name in ("billing", "crm", "gis", "workorders"):
        _ = sims[name]
    started = start_bff(sims)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(params=["redis", "cluster"])
def fleet_redis(request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings that point a fleet at its shared Redis: one server of the module's own, or the
    session's three-master Redis Cluster (emptied first: an earlier test's buckets and fleet members
    must not count). The same fleet test runs against both."""
    if request.param == "redis":
        server: RedisProcess = request.getfixturevalue("redis_server")
        return {"TIDEGATE_REDIS_URL": server.url}
    cluster: RedisClusterProcesses = request.getfixturevalue("redis_cluster")
    cluster.flushall()
    return {"TIDEGATE_REDIS_CLUSTER_NODES": cluster.addresses}
