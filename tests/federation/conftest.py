"""Tidegate, a Node survey subgraph and a real Apollo gateway, each its own process on 127.0.0.1.

The Node side (`package.json` here) is installed by `make test` (`npm install --prefix
tests/federation`); without it these tests fail and say so, they never skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.launch import die_with_parent, free_port, stop
from tests.conftest import Simulators
from tests.support.processes import BffProcess, start_bff

HERE = Path(__file__).parent


@dataclass
class NodeProcess:
    """A Node server from this folder: GraphQL over POST at its root URL."""

    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def post(self, query: str, token: str | None = None, variables: Mapping[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"query": query, "variables": dict(variables or {})}
        return httpx.post(self.url, json=body, headers=headers, timeout=30.0).json()

    def stop(self) -> None:
        stop([self.proc])


def node_script(script: str, *args: str) -> list[str]:
    """The command line for one of this folder's scripts; fails the test when npm never ran here."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "@apollo" / "gateway").is_dir():
        pytest.fail(
            "the federation test needs Node and `npm install --no-audit --no-fund --prefix "
            "tests/federation` (`make test` runs it)"
        )
    return [node, str(HERE / script), *args]


def start_node(script: str, *args: str, env: Mapping[str, str] | None = None) -> NodeProcess:
    """Start `script` on a free port (its first argument) and wait until it answers `{ __typename }`."""
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix=f"{Path(script).stem}-", suffix=".log")[1])
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            node_script(script, str(port), *args),
            cwd=HERE,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            preexec_fn=die_with_parent,
        )
    started = NodeProcess(port, proc, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            if started.post("{ __typename }").get("data") == {"__typename": "Query"}:
                return started
        time.sleep(0.1)
    started.stop()
    raise RuntimeError(f"{script} did not start (exit {proc.returncode}):\n{started.log()}")


@pytest.fixture(scope="module")
def bff(sims: Simulators) -> Iterator[BffProcess]:
    for name in ("billing", "crm", "gis", "workorders"):
        _ = sims[name]
    started = start_bff(sims, env={"TIDEGATE_FEDERATION_SDL": "true"})  # the router composes at start
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def surveys() -> Iterator[NodeProcess]:
    started = start_node("survey-subgraph.mjs")
    try:
        yield started
    finally:
        started.stop()


def sdl_token(bff: BffProcess) -> dict[str, str]:
    """Composition reads Tidegate's `_service { sdl }`, which needs a token like any request."""
    return {"TIDEGATE_SDL_TOKEN": bff.token("supervisor")}


@pytest.fixture(scope="module")
def gateway(bff: BffProcess, surveys: NodeProcess) -> Iterator[NodeProcess]:
    started = start_node("gateway.mjs", f"{bff.url}/graphql", surveys.url, env=sdl_token(bff))
    try:
        yield started
    finally:
        started.stop()
