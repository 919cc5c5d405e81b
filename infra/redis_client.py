"""One way to reach the shared Redis, whichever shape it has: a single server, a Sentinel set, a Cluster.

`open_redis(RedisTarget(...))` gives every Redis user of the BFF the same client: rate buckets, fleet,
cache, idempotency keys, APQ, ticket states, CTI events, the live bus, the audit stream, `/readyz`.

Every shape fails fast (connect and read timeouts of `timeout_s`, 100 ms by default: a hung Redis
must cost a request little) and does not retry on its own (redis-py retries 3 times with backoff by
default, which multiplies the wait and can charge a rate bucket twice); see `infra.resilience.ratelimit`.
What each shape does on a failover:

- a single URL: nothing to fail over to; the next command after Redis is back reconnects.
- Sentinel: each new connection asks a sentinel where the master is, and a connection that finds the
  master gone (refused, or READONLY from a demoted one) is dropped, so the command after the failed
  one reaches the promoted replica.
- Cluster: one retry, no backoff. The cluster client follows a `MOVED` redirect and, after a failed
  connection, refreshes its slot map (at most once a second) before the retry, so a command whose
  master died reaches the promoted replica as soon as the cluster has promoted it; until then the
  call fails fast like any outage. The one retry can charge a rate bucket twice when a reply is lost,
  which errs on the side of refusing.

Cluster rules the callers keep (docs/resilience.md, "Pointing at Redis"): the keys of one Lua script
or MULTI share a hash slot (a `{tag}` in the key), the bus uses sharded pub/sub (`is_cluster`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterUnreachableError, RedisError, SlotNotCoveredError

RedisClient: TypeAlias = Redis | RedisCluster
"""What the stores take: a plain (single URL or Sentinel-managed) client or a cluster client."""

# What "Redis is not answering" looks like: redis-py errors (ConnectionError, TimeoutError,
# ResponseError such as LOADING, READONLY or CLUSTERDOWN), raw socket errors, asyncio timeouts, and
# the two cluster errors that are outages but not `RedisError`s (no node reachable, a slot with no
# master while the cluster fails over).
REDIS_FAILURES: tuple[type[BaseException], ...] = (
    RedisError,
    OSError,
    TimeoutError,
    RedisClusterUnreachableError,
    SlotNotCoveredError,
)

DEFAULT_SENTINEL_MASTER = "mymaster"


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """Where the shared Redis is: exactly one of a URL, a Sentinel set (with its master's name) or a
    Cluster's nodes (any of them: the client finds the rest). `configured` is False for none."""

    url: str | None = None
    sentinels: tuple[tuple[str, int], ...] = ()
    sentinel_master: str = DEFAULT_SENTINEL_MASTER
    cluster_nodes: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        given = [bool(self.url), bool(self.sentinels), bool(self.cluster_nodes)]
        if sum(given) > 1:
            raise ValueError("give Redis as one of a URL, a Sentinel set or cluster nodes, not several")

    @property
    def configured(self) -> bool:
        return bool(self.url or self.sentinels or self.cluster_nodes)

    @property
    def kind(self) -> str:
        """`url`, `sentinel`, `cluster` or `none` (for logs and `/readyz`)."""
        if self.cluster_nodes:
            return "cluster"
        if self.sentinels:
            return "sentinel"
        return "url" if self.url else "none"


def parse_nodes(text: str | None) -> tuple[tuple[str, int], ...]:
    """`"host:port,host:port"` (blanks ignored) as pairs; a malformed entry raises `ValueError`."""
    nodes = []
    for entry in (text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        host, sep, port = entry.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{entry!r} is not host:port")
        nodes.append((host.strip("[]"), int(port)))
    return tuple(nodes)


def is_cluster(client: RedisClient) -> bool:
    return isinstance(client, RedisCluster)


def open_redis(
    target: RedisTarget, *, timeout_s: float = 0.1, max_connections: int = 32
) -> RedisClient | None:
    """The client for `target` (None when nothing is configured). Nothing connects yet: the first
    command does, so a Redis that is down at start-up is an outage like any other, not a refusal."""
    if target.cluster_nodes:
        return cluster_client(target.cluster_nodes, timeout_s=timeout_s)
    if target.sentinels:
        return sentinel_client(
            target.sentinels, target.sentinel_master, timeout_s=timeout_s, max_connections=max_connections
        )
    if target.url:
        return redis_client(target.url, timeout_s=timeout_s, max_connections=max_connections)
    return None


def redis_client(
    url: str, *, timeout_s: float = 0.1, max_connections: int = 32, pool_wait_s: float = 1.0
) -> Redis:
    """A single server: fails fast (connect and read timeouts), never retries, and queues a burst of
    requests for a bounded pool (redis-py's default pool raises past 100 connections in use, which
    would read as an outage). `pool_wait_s` is a backstop (a wait past it raises "No connection
    available", an outage): RateLimiter's deadline is the bound that matters, so a caller that
    lengthens the deadline lengthens this too."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_wait_s,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
    return Redis.from_pool(pool)


class _SentinelManaged(Redis):
    """The master's client, which also closes the sentinels' connections when it is closed."""

    sentinel_manager: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.sentinel_manager is not None:
            for client in self.sentinel_manager.sentinels:
                await client.aclose()


def sentinel_client(
    sentinels: tuple[tuple[str, int], ...],
    master: str = DEFAULT_SENTINEL_MASTER,
    *,
    timeout_s: float = 0.1,
    max_connections: int = 32,
) -> Redis:
    """The master of a Sentinel set: found by asking the sentinels on each new connection, the same
    timeouts for the sentinels and the master, no retries (discovery moves on to the next sentinel)."""
    fast: dict[str, Any] = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}
    sentinel = Sentinel(list(sentinels), sentinel_kwargs={**fast, "retry": Retry(NoBackoff(), 0)})
    client = sentinel.master_for(
        master,
        redis_class=_SentinelManaged,
        max_connections=max_connections,
        retry=Retry(NoBackoff(), 0),
        **fast,
    )
    assert isinstance(client, _SentinelManaged)
    client.sentinel_manager = sentinel
    return client


def cluster_client(
    nodes: tuple[tuple[str, int], ...], *, timeout_s: float = 0.1, max_connections: int = 100
) -> RedisCluster:
    """A Redis Cluster from any of its nodes: fast timeouts, one retry without backoff (a redirect or a
    failover's new master, see the module docstring); `max_connections` is per node and a burst past
    it fails (the cluster client has no waiting pool), so it is larger than a single server's."""
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in nodes],
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 1),
        max_connections=max_connections,
        topology_refresh_min_interval=0.25,
    )
