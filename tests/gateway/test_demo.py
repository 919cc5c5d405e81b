"""`tidegate demo` as a real process tree: simulators and BFF start, all stop, no orphans."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import httpx
import pytest

from simulators.kit.options import DEFAULT_PORTS
from tests.support.demo_stack import start_demo


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _start_demo() -> tuple[subprocess.Popen[str], dict[str, tuple[str, int]], list[str]]:
    run = start_demo()
    return run.proc, run.children, run.lines


@pytest.mark.slow
def test_demo_starts_everything_and_ctrl_c_stops_everything() -> None:
    proc, children, lines = _start_demo()
    try:
        assert set(children) == {*DEFAULT_PORTS, "bff"}, lines
        for name, (url, _pid) in children.items():
            if name != "bff":
                assert httpx.get(f"{url}/_sim/health").json()["status"] == "ok"
        bff_url = children["bff"][0]
        assert bff_url.endswith("/graphql")
        (token,) = [m[1] for line in lines if (m := re.match(r"\s+agent token\s+(\S+)", line))]
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.post(bff_url, json={"query": "{ __typename }"}, headers=auth).json() == {
            "data": {"__typename": "Query"}
        }
        assert httpx.post(bff_url, json={"query": "{ __typename }"}).status_code == 401
        page = httpx.get(bff_url, headers={"Accept": "text/html"})  # GraphiQL, offline: demo only
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        assert "http://" not in page.text and "https://" not in page.text
        assert "query ScreenPop" in page.text  # the example operations from gql/
        assert httpx.get(bff_url.replace("/graphql", "/graphiql/graphiql.min.js")).status_code == 200
        (board_url,) = [m[1] for line in lines if (m := re.search(r"supervisor's board\s+(\S+)", line))]
        board = httpx.get(board_url)  # the supervisor's board page, bundled at install time
        assert board.status_code == 200 and "/board/assets/board.js" in board.text
        (workbench,) = [m[1] for line in lines if (m := re.match(r"Agent workbench: (\S+)", line))]
        assert workbench == bff_url.replace("/graphql", "/workbench")
        assert '"demo":true' in httpx.get(workbench).text  # sign-in and ring-me: the demo's issuer
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        deadline = time.monotonic() + 5  # the reader thread drains the pipe after exit
        while "demo stopped\n" not in lines and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "demo stopped\n" in lines
        for name, (_url, pid) in children.items():
            assert not _alive(pid), f"{name} pid {pid} outlived the demo"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
def test_children_die_with_a_killed_demo() -> None:
    proc, children, lines = _start_demo()
    assert set(children) == {*DEFAULT_PORTS, "bff"}, lines
    proc.kill()  # no chance to clean up: the kernel's parent-death signal must do it
    proc.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for _u, pid in children.values()):
        time.sleep(0.2)
    survivors = [pid for _u, pid in children.values() if _alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors
