from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.support.processes import SimProcess, start_simulator
from tests.support.redis_cluster import RedisClusterProcesses, start_cluster
from tests.support.redis_server import RedisProcess, start_redis

SERVICES = ("billing", "crm", "gis", "workorders")

# Tests that run real processes against each other (simulators, BFFs, Redis, a router, a browser).
# On CI's two cores the whole suite's processes compete, and some of these tests keep production's
# 300 ms deadlines; one that loses that race is run once more (pytest-rerunfailures, reported as
# "rerun" in the summary). A test that fails twice fails the run. Unit tests are never rerun.
RERUN_DIRS = ("e2e", "workbench", "router", "federation", "bench", "http_audit")
PROCESS_FIXTURES = frozenset({"sims", "clean_sims", "redis_server", "redis_cluster"})
# In a module's source: it starts processes itself, or asks for a process fixture by name.
PROCESS_STARTERS = (
    "start_simulator(",
    "start_bff(",
    "start_demo(",
    "start_redis(",
    "start_cluster(",
    "shared_client(",
    'getfixturevalue("redis',
)
_TESTS = Path(__file__).parent


def _runs_processes(item: pytest.Item) -> bool:
    path = Path(str(item.path))
    if path.relative_to(_TESTS).parts[0] in RERUN_DIRS:
        return True
    if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    module = getattr(item, "module", None)
    return module is not None and _starts_processes(module)


@functools.cache
def _starts_processes(module: ModuleType) -> bool:
    source = inspect.getsource(module)
    return any(starter in source for starter in PROCESS_STARTERS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _runs_processes(item):
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=1))


class Simulators(dict[str, SimProcess]):
    """The four simulators as real processes, each started the first time a test asks for it."""

    def __missing__(self, service: str) -> SimProcess:
        if service not in SERVICES:
            raise KeyError(service)
        sim = start_simulator(service)
        self[service] = sim
        return sim

    def stop_all(self) -> None:
        for sim in self.values():
            sim.stop()


@pytest.fixture(scope="session", autouse=True)
def _audit_to_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """In-process apps write their audit trail to a scratch file, never into the work tree."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TIDEGATE_AUDIT_PATH", str(tmp_path_factory.mktemp("audit") / "audit.jsonl"))
    yield
    mp.undo()


@pytest.fixture(scope="session", autouse=True)
def _no_outage_index_at_start() -> Iterator[None]:
    """The BFFs the suite starts would build the IVR's outage index at start-up, reading the GIS,
    billing and the CRM in the background: tests that count back-office calls or trace spans would
    count those too. Off here and only here (it is then built on the first IVR look-up); the tests of
    the index start it themselves (tests/services/test_outage_impact.py)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TIDEGATE_OUTAGE_INDEX", "false")
    yield
    mp.undo()


@pytest.fixture(scope="session", autouse=True)
def _free_form_documents() -> Iterator[None]:
    """The suite sends free-form documents as agents (in process and to the BFF processes it starts,
    which inherit the environment), so it turns production's persisted-only default off, here and
    only here. Tests of persisted-only mode pass `persisted_only=True`; tests of the default clear
    this variable (tests/gateway/test_settings.py)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TIDEGATE_PERSISTED_ONLY", "false")
    yield
    mp.undo()


@pytest.fixture(scope="session")
def sims() -> Iterator[Simulators]:
    """Shared by the whole session: seed 4242, 2,000 customers, as of 2026-11-26, instant latency."""
    started = Simulators()
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture
def clean_sims(sims: Simulators) -> Iterator[Simulators]:
    """The shared simulators with faults and stats reset before and after the test."""

    def reset() -> None:
        for sim in sims.values():
            pool = {"pool_size": 20} if sim.service == "billing" else {}
            httpx.put(f"{sim.url}/_sim/faults", json={"latency_scale": 0.0, **pool}).raise_for_status()
            httpx.post(f"{sim.url}/_sim/stats/reset").raise_for_status()

    reset()
    yield sims
    reset()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisProcess]:
    """A real redis-server per test module that asks for one (a module may stop and restart it)."""
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterProcesses]:
    """A real three-master Redis Cluster for the whole session (started the first time a test asks):
    the store contract suites run against it as against a single server."""
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()
