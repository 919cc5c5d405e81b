"""Shared state: the Redis the replicas share, the read cache, and how writes are kept and recorded."""

from __future__ import annotations

from pydantic import Field, field_validator

from gateway.settings import formats
from gateway.settings.component import ComponentSettings
from infra.cache.cache import CachePolicy
from infra.redis_client import DEFAULT_SENTINEL_MASTER, RedisTarget, parse_nodes
from services.cached_reads import CachePolicies


class RedisSettings(ComponentSettings):
    """The Redis shared by the replicas, and how many replicas share it (their fallback shares)."""

    redis_url: str | None = None
    """Redis shared by the replicas (`redis://`, `rediss://` or `unix://`): rate buckets, cache,
    idempotency keys, APQ, ticket states, event bus, kept screen pops. Unset (and no `redis_sentinels`
    or `redis_cluster_nodes`): all of it in process. Give exactly one of the three."""
    redis_sentinels: str | None = None
    """Instead of `redis_url`: the Sentinel set watching the shared Redis, `host:port,host:port`; the
    master is found through them and followed across a failover."""
    redis_sentinel_master: str = DEFAULT_SENTINEL_MASTER
    """The master's name in the sentinels' configuration (with `redis_sentinels`)."""
    redis_cluster_nodes: str | None = None
    """Instead of `redis_url`: a Redis Cluster, `host:port,...` of some of its masters (the rest are
    discovered). Scripts' keys share a slot, the bus uses sharded pub/sub (docs/resilience.md)."""
    replicas: int = Field(default=1, ge=1)
    """The least number of BFF processes to assume share the limits. The replicas announce themselves
    in Redis (`infra.fleet`) and divide billing's bulkhead and rate budget, and the buckets' local
    fallback, by the larger of the live count and this. More than 1 needs a shared Redis."""
    redis_timeout_ms: int = Field(default=100, ge=1)
    """Redis socket timeouts (a hung Redis costs little)."""

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        return formats.redis_url(value)

    @field_validator("redis_sentinels", "redis_cluster_nodes")
    @classmethod
    def _nodes(cls, value: str | None) -> str | None:
        parse_nodes(value)  # host:port,host:port (a ValueError names the bad one)
        return value

    @property
    def configured(self) -> bool:
        """Whether the replicas share a Redis (any of the three ways of giving one)."""
        return bool(self.redis_url or self.redis_sentinels or self.redis_cluster_nodes)

    def target(self) -> RedisTarget:
        """Where that Redis is; `ValueError` when more than one way is given or a node is not host:port."""
        given = [
            f"TIDEGATE_{name.upper()}"
            for name in ("redis_url", "redis_sentinels", "redis_cluster_nodes")
            if getattr(self, name)
        ]
        if len(given) > 1:
            raise ValueError(f"{' and '.join(given)} are both set: give the shared Redis one way only.")
        try:
            sentinels = parse_nodes(self.redis_sentinels)
            nodes = parse_nodes(self.redis_cluster_nodes)
        except ValueError as exc:
            raise ValueError(f"TIDEGATE_REDIS_SENTINELS / TIDEGATE_REDIS_CLUSTER_NODES: {exc}") from exc
        return RedisTarget(self.redis_url, sentinels, self.redis_sentinel_master, nodes)


class CacheSettings(ComponentSettings):
    """The cache for semi-static reads. Per kind: fresh for ttl, then served stale while one refresh runs
    (stale-while-revalidate, swr), then served stale only when the backend fails, is late or is at
    capacity (stale-if-error, sie)."""

    cache: bool = True
    """The cache for semi-static reads (the shared Redis when configured, else in process) on/off."""
    cache_max_entries: int = Field(default=100_000, ge=1)
    """Entries in the in-process store only (least recently used go first)."""
    cache_local_ttl_s: float = Field(default=2.0, ge=0, le=60)
    """Fresh entries' decoded values are also kept in each process for at most this long (0: not at
    all), so a repeated read costs no Redis round trip and no AES-GCM open. Also how long a replica may
    answer from its own copy after another replica's write dropped the key (infra/cache/local.py)."""
    cache_local_max_entries: int = Field(default=10_000, ge=1)
    """Decoded values kept in each process (least recently used go first)."""
    cache_key: str | None = Field(default=None, repr=False)
    """Base64 of 32 bytes sealing cached PII and kept screen pops (AES-256-GCM). Unset: one per process;
    replicas sharing Redis must share it, else they read each other's entries as misses."""
    cache_accounts_ttl_s: float = Field(default=60.0, gt=0)
    """Account arrears status: fresh for (arrears settle nightly)."""
    cache_accounts_swr_s: float = Field(default=600.0, ge=0)
    """Account arrears status: then stale-while-revalidate for."""
    cache_accounts_sie_s: float = Field(default=3_600.0, ge=0)
    """Account arrears status: then stale-if-error for."""
    cache_outages_ttl_s: float = Field(default=30.0, gt=0)
    """Outage notices: fresh for."""
    cache_outages_swr_s: float = Field(default=60.0, ge=0)
    """Outage notices: then stale-while-revalidate for."""
    cache_outages_sie_s: float = Field(default=3_600.0, ge=0)
    """Outage notices: then stale-if-error for."""
    cache_network_ttl_s: float = Field(default=3_600.0, gt=0)
    """Mains and service connections: fresh for."""
    cache_network_swr_s: float = Field(default=3_600.0, ge=0)
    """Mains and service connections: then stale-while-revalidate for."""
    cache_network_sie_s: float = Field(default=86_400.0, ge=0)
    """Mains and service connections: then stale-if-error for."""

    @field_validator("cache_key")
    @classmethod
    def _cache_key(cls, value: str | None) -> str | None:
        return formats.sealing_key(value)

    def cache_policies(self) -> CachePolicies:
        """`accounts` (arrears status), `outages`, `network` (mains, service connections)."""
        return CachePolicies(
            **{
                kind: CachePolicy(
                    getattr(self, f"cache_{kind}_ttl_s"),
                    getattr(self, f"cache_{kind}_swr_s"),
                    getattr(self, f"cache_{kind}_sie_s"),
                )
                for kind in ("accounts", "outages", "network")
            }
        )


class WriteSettings(ComponentSettings):
    """Mutations: idempotency keys' answers kept and replayed, and free text masked before it is written."""

    idempotency_ttl_s: float = Field(default=86_400.0, ge=60)
    """How long a mutation key's answer is kept and replayed (shared Redis if configured, else here)."""
    idempotency_lease_s: float = Field(default=30.0, gt=0)
    """A running attempt older than this is taken to have died."""
    idempotency_settle_s: float = Field(default=5.0, ge=0)
    """After a timed-out write, wait this long before reconciling."""
    redact_free_text_at_write: bool = False
    """Mask phone, ID and card numbers in notes and ticket descriptions before they are written (off:
    the back office keeps what was typed, the record; reads mask them either way)."""
