"""Real Redis Clusters and a Sentinel set on free loopback ports, for integration tests.

`start_cluster(replicas=0)`: three masters (`redis-server --cluster-enabled yes`, joined by
`redis-cli --cluster create`), ready once every node says `cluster_state:ok`. `replicas=1` adds a
replica per master, for failover: `kill_master_of(key)` SIGKILLs the master owning a key's slot and
`wait_promoted` waits until its replica has taken over. Nothing is saved; node timeouts are 1 s so a
failover takes ~2 s. `start_sentinel_set()`: one master, one replica, one sentinel watching them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.crc import key_slot

from infra.redis_client import RedisClient, cluster_client, redis_client
from simulators.launch import die_with_parent, free_port, stop
from tests.support.redis_server import RedisProcess

NODE_TIMEOUT_MS = 1000
SENTINEL_MASTER = "mymaster"


def _binary(name: str) -> str:
    binary = shutil.which(name)
    if binary is None:
        raise RuntimeError(f"{name} is not installed: `make redis-server` installs it")
    return binary


def _launch(args: Sequence[str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [_binary("redis-server"), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    client = redis.Redis(port=port, socket_timeout=0.5)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return proc
        except redis.ConnectionError:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
    stop([proc])
    raise RuntimeError(f"redis-server {' '.join(args)} did not start")


def _wait(check: object, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


@dataclass
class ClusterNodeProcess:
    port: int
    proc: subprocess.Popen[bytes]

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=0.5)

    def alive(self) -> bool:
        return self.proc.poll() is None


def _command(node: ClusterNodeProcess, *args: str) -> Any:
    """One command to one node (redis-py's `execute_command` is untyped)."""
    client: Any = node.client()
    return client.execute_command(*args)


@dataclass
class RedisClusterProcesses:
    nodes: list[ClusterNodeProcess]
    workdir: tempfile.TemporaryDirectory[str]
    killed: list[ClusterNodeProcess] = field(default_factory=list)

    @property
    def addresses(self) -> str:
        """`TIDEGATE_REDIS_CLUSTER_NODES`: every node, masters and replicas."""
        return ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def startup_nodes(self) -> tuple[tuple[str, int], ...]:
        return tuple(("127.0.0.1", node.port) for node in self.nodes)

    def live(self) -> list[ClusterNodeProcess]:
        return [node for node in self.nodes if node.alive()]

    def master_port_of(self, key: str) -> int:
        """The port of the node serving `key`'s slot now (asked of a live node)."""
        slot = key_slot(key.encode())
        for start, end, master, *_ in _command(self.live()[0], "CLUSTER SLOTS"):
            if start <= slot <= end:
                return int(master[1])
        raise LookupError(f"slot {slot} is not served")

    def flushall(self) -> None:
        for node in self.live():
            if _command(node, "ROLE")[0] == b"master":
                node.client().flushall()

    def kill_master_of(self, key: str) -> int:
        """SIGKILL the master serving `key` (its host dies); its port."""
        port = self.master_port_of(key)
        node = next(node for node in self.nodes if node.port == port)
        node.proc.kill()
        node.proc.wait()
        self.killed.append(node)
        return port

    def wait_promoted(self, key: str, dead_port: int, timeout_s: float = 20.0) -> int:
        """Until a live node serves `key`'s slot instead of `dead_port` and the cluster is ok again."""
        _wait(
            lambda: self.master_port_of(key) != dead_port and self._ok(self.live()),
            f"a replica to take over from :{dead_port}",
            timeout_s,
        )
        return self.master_port_of(key)

    def stop(self) -> None:
        stop([node.proc for node in self.nodes])
        self.workdir.cleanup()

    @staticmethod
    def _ok(nodes: Sequence[ClusterNodeProcess]) -> bool:
        return all(_command(node, "CLUSTER INFO")["cluster_state"] == "ok" for node in nodes)


def start_cluster(replicas: int = 0) -> RedisClusterProcesses:
    """Three masters (and `replicas` replicas each), ready to serve every slot."""
    workdir = tempfile.TemporaryDirectory(prefix="tidegate-cluster-")
    nodes: list[ClusterNodeProcess] = []
    try:
        for _ in range(3 * (1 + replicas)):
            port, bus = free_port(), free_port()
            args = [
                "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                "--cluster-port", str(bus),
                "--cluster-config-file", str(Path(workdir.name) / f"nodes-{port}.conf"),
                "--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--save", "", "--appendonly", "no",
                "--repl-diskless-sync-delay", "0",
                "--dir", workdir.name,
            ]  # fmt: skip
            nodes.append(ClusterNodeProcess(port, _launch(args, port)))
        create = [_binary("redis-cli"), "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in nodes)]
        subprocess.run(
            [*create, "--cluster-replicas", str(replicas), "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )
        cluster = RedisClusterProcesses(nodes, workdir)
        _wait(lambda: RedisClusterProcesses._ok(nodes), "cluster_state:ok")
        if replicas:  # every replica attached and in sync, so a failover has someone to promote
            _wait(
                lambda: all(
                    _command(node, "ROLE")[0] == b"master" or _command(node, "ROLE")[3] == b"connected"
                    for node in nodes
                ),
                "replicas in sync",
            )
        return cluster
    except BaseException:
        stop([node.proc for node in nodes])
        workdir.cleanup()
        raise


@dataclass
class SentinelSet:
    master: ClusterNodeProcess
    replica: ClusterNodeProcess
    sentinel: ClusterNodeProcess
    workdir: tempfile.TemporaryDirectory[str]

    @property
    def addresses(self) -> str:
        """`TIDEGATE_REDIS_SENTINELS`."""
        return f"127.0.0.1:{self.sentinel.port}"

    def master_port(self) -> int:
        reply = _command(self.sentinel, "SENTINEL", "get-master-addr-by-name", SENTINEL_MASTER)
        return int(reply[1])

    def stop(self) -> None:
        stop([self.sentinel.proc, self.replica.proc, self.master.proc])
        self.workdir.cleanup()


def start_sentinel_set() -> SentinelSet:
    """One master, one replica of it, one sentinel (quorum 1, down after 1 s) watching them."""
    workdir = tempfile.TemporaryDirectory(prefix="tidegate-sentinel-")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir.name]
        common += ["--repl-diskless-sync-delay", "0"]  # a replica in sync at once, not after 5 s
        mport = free_port()
        master = ClusterNodeProcess(mport, _launch(["--port", str(mport), *common], mport))
        procs.append(master.proc)
        rport = free_port()
        replica_args = ["--port", str(rport), "--replicaof", "127.0.0.1", str(mport), *common]
        replica = ClusterNodeProcess(rport, _launch(replica_args, rport))
        procs.append(replica.proc)
        _wait(lambda: _command(replica, "ROLE")[3] == b"connected", "the replica in sync")
        sport = free_port()
        conf = Path(workdir.name) / "sentinel.conf"  # a sentinel rewrites its conf: writable, in tmp
        conf.write_text(
            f"port {sport}\nbind 127.0.0.1\ndir {workdir.name}\n"
            f"sentinel monitor {SENTINEL_MASTER} 127.0.0.1 {mport} 1\n"
            f"sentinel down-after-milliseconds {SENTINEL_MASTER} 1000\n"
            f"sentinel failover-timeout {SENTINEL_MASTER} 5000\n",
            encoding="utf-8",
        )
        sentinel = ClusterNodeProcess(sport, _launch([str(conf), "--sentinel"], sport))
        procs.append(sentinel.proc)
        found = SentinelSet(master, replica, sentinel, workdir)
        _wait(lambda: found.master_port() == mport, "the sentinel to know the master")
        return found
    except BaseException:
        stop(procs)
        workdir.cleanup()
        raise


def shared_client(request: pytest.FixtureRequest, kind: str, *, timeout_s: float = 2.0) -> RedisClient:
    """A client of the store suites' shared Redis, `kind` `redis` (the module's single server) or
    `cluster` (the session's three masters), made by the BFF's own factory; the cluster is emptied
    first (its keys outlive a module), the single server is left as the suite had it. The suites
    check behaviour, not speed: the timeout is generous (2 s; it was 0.1 s, and on a CI run's two
    busy cores twenty concurrent claims opening their connections once ran past it)."""
    if kind == "cluster":
        cluster: RedisClusterProcesses = request.getfixturevalue("redis_cluster")
        cluster.flushall()
        return cluster_client(cluster.startup_nodes(), timeout_s=timeout_s)
    server: RedisProcess = request.getfixturevalue("redis_server")
    return redis_client(server.url, timeout_s=timeout_s)
