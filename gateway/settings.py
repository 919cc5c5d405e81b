"""The BFF's settings, read from `TIDEGATE_*` environment variables.

Built once by whoever starts the process (`tidegate serve`, a test) and handed to
`create_app(settings)`: nothing imports a settings global, so two apps in one process (tests)
never share or leak configuration.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from backends.cached_reads import CachePolicies
from backends.config import BackendConfig
from backends.registry import BACKENDS
from backends.resilience import BreakerConfig, SlidingWindowType
from backends.resilience.bulkhead import BulkheadConfig
from backends.resilience.cache import CachePolicy
from backends.resilience.gcra import Limit
from backends.resilience.rate_budget import RateBudgetConfig
from backends.resilience.retry import RetryConfig
from gateway.auth.clients import RegisteredClient, demo_clients
from gateway.auth.jwks import SUPPORTED_ALGORITHMS
from gateway.persisted import MANIFEST_PATH

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    """Where the BFF listens, where the four back offices live, and how much a query may ask."""

    model_config = SettingsConfigDict(env_prefix="TIDEGATE_", frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65_535)
    log_level: LogLevel = "INFO"
    graphiql: bool = Field(
        default=False, description="serve the offline GraphiQL page on GET /graphql (with dev_mode only)"
    )

    # One URL, timeout and pool size per back office. Billing gets the longest timeout: its
    # SOAP service has a lognormal latency with a long tail (median ~200 ms).
    billing_url: str = "http://127.0.0.1:8101"
    billing_timeout_s: float = Field(default=1.5, gt=0)
    billing_max_connections: int = Field(default=50, ge=1)
    crm_url: str = "http://127.0.0.1:8102"
    crm_timeout_s: float = Field(default=1.0, gt=0)
    crm_max_connections: int = Field(default=50, ge=1)
    gis_url: str = "http://127.0.0.1:8103"
    gis_timeout_s: float = Field(default=1.0, gt=0)
    gis_max_connections: int = Field(default=50, ge=1)
    workorders_url: str = "http://127.0.0.1:8104"
    workorders_timeout_s: float = Field(default=1.0, gt=0)
    workorders_max_connections: int = Field(default=50, ge=1)

    # Observability (README "Operations"): Prometheus metrics on GET /metrics, on the API's own port
    # (keep it off the public ingress, or set `metrics_token` and scrape with that bearer token);
    # operation names beyond the manifest's and the first `metrics_max_operation_names` are `other`.
    # /readyz pings Redis within `readyz_redis_timeout_ms` (a slow Redis reads as down: degraded).
    metrics: bool = True
    metrics_max_operation_names: int = Field(default=50, ge=0, le=1_000)
    metrics_token: str | None = Field(default=None, repr=False)
    readyz_redis_timeout_ms: int = Field(default=250, ge=1)

    # What one request may cost us before any resolver runs.
    max_query_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=2_000, ge=1)
    # Measured once per document in one pass (gateway/cost_limits.py), every fragment spread expanded:
    # fragment definitions, spreads, fields and a static cost (each field 1, times the sizes of the
    # lists it is in: `first`/`last` up to `cost_page_cap`, `cost_list_size` for a list without one).
    max_fragments: int = Field(default=32, ge=0)
    max_spreads: int = Field(default=64, ge=0, description="fragment spreads per operation, expanded")
    max_fields: int = Field(default=300, ge=1, description="fields per operation, expanded")
    max_cost: int = Field(default=20_000, ge=1, description="the screen pop: ~4,000")
    cost_page_cap: int = Field(default=50, ge=1, description="the services' cap on `first`/`last`")
    cost_list_size: int = Field(default=10, ge=1)
    # graphql-core's rules are quadratic in same-named fields: past this many fields (expanded), a
    # document is validated in a worker thread, so the event loop keeps answering meanwhile.
    validate_inline_max_fields: int = Field(default=50, ge=0)
    parse_inline_max_chars: int = Field(default=1_024, ge=0, description="longer texts parse in a thread")
    max_body_bytes: int = Field(default=64 * 1024, ge=1)
    # The master switch for surge protection. False is plain pass-through — no admission limits, time
    # budgets, bulkheads, breakers, retries or cache — kept only as the surge benchmark's baseline.
    protection: bool = True
    # Admission control (GCRA): global, per client (token subject) and per operation class, all at
    # once. Redis shares the buckets across replicas; without it each process keeps its own.
    rate_limits: bool = True
    redis_url: str | None = None
    replicas: int = Field(default=1, ge=1, description="BFF processes sharing the limits (fallback share)")
    # A sick Redis must cost little: socket timeouts, and the deadline of one shared rate decision,
    # past which the process uses its local share of the buckets for a second.
    redis_timeout_ms: int = Field(default=100, ge=1)
    rate_redis_deadline_ms: int = Field(default=250, ge=1)
    rate_global_rps: float = Field(default=1_000.0, gt=0)
    rate_global_burst: int = Field(default=2_000, ge=1)
    rate_client_rps: float = Field(default=200.0, gt=0)
    rate_client_burst: int = Field(default=400, ge=1)
    rate_critical_rps: float = Field(default=800.0, gt=0)
    rate_critical_burst: int = Field(default=1_600, ge=1)
    rate_normal_rps: float = Field(default=300.0, gt=0)
    rate_normal_burst: int = Field(default=600, ge=1)
    rate_sheddable_rps: float = Field(default=100.0, gt=0)
    rate_sheddable_burst: int = Field(default=200, ge=1)

    # Each operation's time budget by class: backend calls get what is left (the screen pop: 300 ms).
    budget_critical_ms: int = Field(default=300, ge=10)
    budget_normal_ms: int = Field(default=2_000, ge=10)
    budget_sheddable_ms: int = Field(default=3_000, ge=10)
    # Kept back from the backends to assemble and send the answer: the budget counts from arrival.
    budget_reserve_ms: int = Field(default=40, ge=0)

    # Billing's bulkhead: calls in flight at most, a share of them only critical work may use.
    billing_max_concurrent: int = Field(default=16, ge=1)
    billing_critical_reserve: int = Field(default=4, ge=0)
    bulkhead_max_wait_ms: int = Field(default=100, ge=0)
    # Billing's calls-per-second budget beside its concurrency cap (per process: divided by `replicas`),
    # with a share only critical work may use; sheddable work has lower ceilings and is shed first.
    billing_max_rps: float = Field(default=50.0, gt=0)
    billing_critical_reserve_rps: float = Field(default=15.0, ge=0)
    billing_sheddable_max_rps: float = Field(default=20.0, gt=0)
    billing_rps_burst: int = Field(default=10, ge=1)
    billing_sheddable_max_concurrent: int = Field(default=8, ge=1)
    # Retries of idempotent reads on every backend: full jitter, within a budget of extra calls.
    retries: bool = True
    retry_max_attempts: int = Field(default=2, ge=1, le=3, description="first call included")
    retry_backoff_ms: int = Field(default=25, ge=0, le=1_000)
    retry_budget_ratio: float = Field(default=0.1, ge=0, le=1)
    retry_budget_window_s: int = Field(default=10, ge=1, le=600)
    retry_min_time_left_ms: int = Field(default=100, ge=0)

    # Circuit breakers, one per backend (resilience4j names; README "Surge protection").
    breakers: bool = True
    breaker_window_s: int = Field(default=10, ge=1, le=3600)
    breaker_minimum_calls: int = Field(default=20, ge=1)
    billing_breaker_failure_rate: float = Field(default=10.0, gt=0, le=100)
    crm_breaker_failure_rate: float = Field(default=50.0, gt=0, le=100)
    gis_breaker_failure_rate: float = Field(default=50.0, gt=0, le=100)
    workorders_breaker_failure_rate: float = Field(default=50.0, gt=0, le=100)
    breaker_slow_call_rate: float = Field(default=100.0, gt=0, le=100)
    breaker_wait_s: float = Field(default=30.0, gt=0)
    breaker_half_open_calls: int = Field(default=5, ge=1)
    # The cache for semi-static reads (README "Surge protection"): Redis at `redis_url` when set,
    # in-process otherwise. Per kind: fresh for ttl, then served stale while one refresh runs
    # (stale-while-revalidate), then served stale only when the backend fails (stale-if-error).
    cache: bool = True
    cache_max_entries: int = Field(default=100_000, ge=1, description="in-process store only")
    cache_key: str | None = Field(
        default=None, repr=False, description="base64 of 32 bytes: seals cached PII; share it across replicas"
    )
    cache_accounts_ttl_s: float = Field(default=60.0, gt=0)
    cache_accounts_swr_s: float = Field(default=600.0, ge=0)
    cache_accounts_sie_s: float = Field(default=3_600.0, ge=0)
    cache_outages_ttl_s: float = Field(default=30.0, gt=0)
    cache_outages_swr_s: float = Field(default=60.0, ge=0)
    cache_outages_sie_s: float = Field(default=3_600.0, ge=0)
    cache_network_ttl_s: float = Field(default=3_600.0, gt=0)
    cache_network_swr_s: float = Field(default=3_600.0, ge=0)
    cache_network_sie_s: float = Field(default=86_400.0, ge=0)
    # Idempotent mutations: a key's record (Redis at `redis_url` when set, else in process) is kept and its
    # answer replayed for `idempotency_ttl_s`; an attempt still running after `idempotency_lease_s` has
    # died; after a write in doubt (a timeout), the key waits `idempotency_settle_s` before reconciling.
    idempotency_ttl_s: float = Field(default=86_400.0, ge=60)
    idempotency_lease_s: float = Field(default=30.0, gt=0)
    idempotency_settle_s: float = Field(default=5.0, ge=0)
    # Work-order webhooks (README "Work-order webhooks"): Standard Webhooks secrets, comma-separated
    # `whsec_...` (two during a rotation); the timestamp window; how long delivery ids are remembered
    # (longer than the sender retries) and pushed ticket states are kept. A malformed secret stops
    # start-up (`create_app`, which names the variable but never echoes the value).
    workorders_webhook_secrets: str = Field(default="", repr=False)
    workorders_webhook_tolerance_s: int = Field(default=300, ge=1, le=3_600)
    workorders_webhook_dedupe_ttl_s: float = Field(default=259_200.0, ge=60)
    workorders_ticket_state_ttl_s: float = Field(default=2_592_000.0, ge=60)
    max_root_fields: int = Field(default=5, ge=1, description="top-level fields in one operation")
    # Live updates (README "Live updates and the ring-time screen pop"): subscriptions over
    # graphql-transport-ws on /graphql, and the screen pop Tidegate runs when the CTI says a phone
    # rings, kept `screen_pop_keep_s` for the answered-call query and pushed to `screenPop`. Across
    # replicas through Redis at `redis_url` (which then need one `cache_key`: pops hold PII, sealed).
    screen_pop_prefetch: bool = True
    screen_pop_prefetch_budget_ms: int = Field(default=1_500, ge=10)  # its own deadline (billing's timeout)
    screen_pop_prefetch_max_running: int = Field(default=32, ge=1)  # at once; past it, no head start
    screen_pop_keep_s: float = Field(default=120.0, gt=0)  # a kept pop waits this long for its answer
    subscriptions_per_connection: int = Field(default=10, ge=1)
    subscription_connections_per_client: int = Field(default=10, ge=1)  # per token subject, per process
    subscription_init_timeout_s: float = Field(default=10.0, gt=0)  # connection_init must come within it
    dev_mode: bool = Field(default=False, description="introspection and field suggestions on (the demo)")
    # `_service { sdl }` reveals the whole schema, like introspection: served outside dev mode only to
    # let a federation router compose at run time (off: compose the supergraph offline from the SDL).
    federation_sdl: bool = False
    # Persisted queries (README "Persisted queries", gateway/persisted_queries.py): the manifest's
    # operations are parsed and validated at start-up (an invalid one stops it). List-only clients
    # (by token role or client id, comma-separated) run manifest operations only. `persisted_only`
    # (on: the production default, issue 15): every request names a manifest operation by id, except
    # from the token roles in `persisted_free_form_roles` (GraphiQL's users) and the client ids in
    # `persisted_free_form_clients` (a federation router's query plans). APQ registrations are kept
    # in process (LRU, `apq_max_entries`) or, with `redis_url`, in Redis for every replica (`apq_ttl_s`).
    persisted_manifest_path: Path = MANIFEST_PATH
    persisted_list_only_roles: str = "softphone"
    persisted_list_only_clients: str = "softphone"
    persisted_only: bool = True
    persisted_free_form_roles: str = "supervisor,developer"
    persisted_free_form_clients: str = ""
    apq: bool = True
    apq_max_entries: int = Field(default=1_000, ge=1)
    apq_ttl_s: int = Field(default=86_400, ge=60)

    # The CTI signs its call events with one of these (comma-separated: rotation), HMAC-SHA256.
    cti_secrets: str = Field(default="", repr=False)
    # The audit trail: JSON lines at `audit_path`, or a Redis stream when `audit_redis_url` is set.
    audit_path: str = "var/audit.jsonl"
    audit_redis_url: str | None = None
    audit_stream: str = "tidegate:audit"

    # Access tokens (README "Auth"). Production: the utility's IdP publishes its keys at
    # `jwks_url`; `token_issuer` and `token_audience` must match its tokens' `iss` and `aud`.
    jwks_url: str | None = None
    jwks_timeout_s: float = Field(default=3.0, gt=0)
    jwks_max_age_s: float = Field(default=3_600.0, ge=30, description="refetch keys at least this often")
    token_issuer: str = Field(default="urn:tidegate:local-issuer", min_length=1)
    token_audience: str = Field(default="urn:tidegate:bff", min_length=1)
    token_algorithms: Annotated[tuple[str, ...], NoDecode] = ("ES256", "RS256")
    token_leeway_s: int = Field(default=60, ge=0, le=60, description="clock skew allowed on exp/nbf/iat")
    # The embedded issuer, for the demo and tests only: signs tokens with its own key file.
    local_issuer: bool = False
    local_issuer_key_path: Path = Path(".tidegate/issuer-key.pem")
    local_issuer_algorithm: Literal["ES256", "RS256"] = "ES256"
    token_ttl_s: int = Field(default=900, ge=60, le=3_600)
    clients: dict[str, RegisteredClient] = Field(default_factory=demo_clients)

    # Tracing (README "Tracing"): OpenTelemetry spans per operation, resolver source batch and backend
    # call, `traceparent` sent to the back offices. Off by default (and in the demo): `none` builds no
    # provider at all. `console` prints one JSON span per line on stdout; `otlp` posts to a collector.
    tracing_exporter: Literal["none", "console", "otlp"] = "none"
    otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"  # OTLP/HTTP (protobuf)
    tracing_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)  # of new traces; callers' kept as sent

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("billing_url", "crm_url", "gis_url", "workorders_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s):// URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s):// URL, got {value!r}")
        return value or None

    @field_validator("token_algorithms", mode="before")
    @classmethod
    def _algorithms(cls, value: object) -> object:
        """`ES256,RS256`, `ES256 RS256` or a JSON list; only public-key algorithms we support."""
        if isinstance(value, str) and value.lstrip().startswith("["):
            value = json.loads(value)
        elif isinstance(value, str):
            value = re.split(r"[\s,]+", value.strip())
        if isinstance(value, list | tuple):
            unsupported = sorted(set(map(str, value)) - SUPPORTED_ALGORITHMS)
            if unsupported or not value:
                raise ValueError(f"supported: {', '.join(sorted(SUPPORTED_ALGORITHMS))}; got {list(value)}")
        return value

    def cti_secret_list(self) -> list[str]:
        return [s.strip() for s in self.cti_secrets.split(",") if s.strip()]

    def budgets(self) -> dict[str, float]:
        """Seconds per operation class (without protection: each backend's own timeout only)."""
        if not self.protection:
            return {name: 3_600.0 for name in ("critical", "normal", "sheddable")}
        return {
            name: getattr(self, f"budget_{name}_ms") / 1000 for name in ("critical", "normal", "sheddable")
        }

    def cache_on(self) -> bool:
        return self.cache and self.protection

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

    def limits_on(self) -> bool:
        return self.rate_limits and self.protection

    def rate_limit_map(self) -> dict[str, Limit]:
        """The buckets' limits by name: `global`, `client`, and one per operation class."""
        return {
            name: Limit(getattr(self, f"rate_{name}_rps"), getattr(self, f"rate_{name}_burst"))
            for name in ("global", "client", "critical", "normal", "sheddable")
        }

    def breaker_config(self, name: str) -> BreakerConfig | None:
        """resilience4j semantics over a time window; billing opens at 10% of >= 20 calls in 10 s."""
        if not (self.breakers and self.protection):
            return None
        return BreakerConfig(
            sliding_window_type=SlidingWindowType.TIME_BASED,
            sliding_window_size=self.breaker_window_s,
            minimum_number_of_calls=self.breaker_minimum_calls,
            failure_rate_threshold=getattr(self, f"{name}_breaker_failure_rate"),
            slow_call_rate_threshold=self.breaker_slow_call_rate,
            slow_call_duration_threshold_s=getattr(self, f"{name}_timeout_s") * 0.8,
            wait_duration_in_open_state_s=self.breaker_wait_s,
            wait_jitter=0.1,
            permitted_number_of_calls_in_half_open_state=self.breaker_half_open_calls,
        )

    def backend_configs(self) -> dict[str, BackendConfig]:
        """One `BackendConfig` per back office, in the shape `Backends.open` takes. Without
        `protection`: no rate budget, bulkhead or retries (and no breaker, see `breaker_config`)."""
        on = self.protection
        wait_s = self.bulkhead_max_wait_ms / 1000
        bulkhead = (
            BulkheadConfig(
                self.billing_max_concurrent,
                self.billing_critical_reserve,
                wait_s,
                sheddable_max_concurrent=self.billing_sheddable_max_concurrent,
            )
            if on
            else None
        )
        rate = (
            RateBudgetConfig(
                self.billing_max_rps,
                self.billing_critical_reserve_rps,
                self.billing_sheddable_max_rps,
                burst=self.billing_rps_burst,
                max_wait_s=wait_s,
            ).share(self.replicas)
            if on
            else None
        )
        retry = (
            RetryConfig(
                max_attempts=self.retry_max_attempts,
                backoff_s=self.retry_backoff_ms / 1000,
                budget_ratio=self.retry_budget_ratio,
                budget_window_s=self.retry_budget_window_s,
                min_time_left_s=self.retry_min_time_left_ms / 1000,
            )
            if on and self.retries
            else None
        )
        return {
            name: BackendConfig(
                name=name,
                base_url=getattr(self, f"{name}_url"),
                timeout_s=getattr(self, f"{name}_timeout_s"),
                max_connections=getattr(self, f"{name}_max_connections"),
                breaker=self.breaker_config(name),
                bulkhead=bulkhead if name == "billing" else None,
                rate=rate if name == "billing" else None,
                retry=retry,
            )
            for name in BACKENDS
        }
