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

from backends.registry import BACKENDS
from gateway.auth.clients import RegisteredClient, demo_clients
from gateway.auth.jwks import SUPPORTED_ALGORITHMS
from gateway.persisted.manifest import MANIFEST_PATH
from infra.cache.cache import CachePolicy
from infra.http.config import BackendConfig
from infra.resilience import BreakerConfig, SlidingWindowType
from infra.resilience.bulkhead import BulkheadConfig
from infra.resilience.gcra import Limit
from infra.resilience.rate_budget import RateBudgetConfig
from infra.resilience.retry import RetryConfig
from services.cached_reads import CachePolicies

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    """Where the BFF listens, where the four back offices live, and how much a query may ask."""

    model_config = SettingsConfigDict(
        env_prefix="TIDEGATE_", frozen=True, extra="ignore", use_attribute_docstrings=True
    )
    # Every field's docstring is its description in docs/configuration.md (`python -m
    # gateway.settings_doc --write`; a test fails when that file is stale): say what it is for.

    # Serving.
    host: str = "127.0.0.1"
    """Interface `tidegate serve` binds (`--host` overrides it)."""
    port: int = Field(default=8000, ge=0, le=65_535)
    """Port `tidegate serve` listens on (`--port` overrides it)."""
    log_level: LogLevel = "INFO"
    """Level of the JSON log lines on stderr (any case)."""
    dev_mode: bool = False
    """Introspection and "did you mean" suggestions on (the demo; GraphiQL needs introspection)."""
    graphiql: bool = False
    """Serve the offline GraphiQL page on `GET /graphql`; only together with `dev_mode`."""

    # One URL, timeout and pool size per back office. Billing gets the longest timeout: its
    # SOAP service has a lognormal latency with a long tail (median ~200 ms).
    billing_url: str = "http://127.0.0.1:8101"
    """Billing/revenue (营收) SOAP service."""
    billing_timeout_s: float = Field(default=1.5, gt=0)
    """Billing call timeout (its latency has a long tail); 80% of it counts as a slow call."""
    billing_max_connections: int = Field(default=50, ge=1)
    """Billing HTTP connection pool size."""
    crm_url: str = "http://127.0.0.1:8102"
    """CRM REST service."""
    crm_timeout_s: float = Field(default=1.0, gt=0)
    """CRM call timeout."""
    crm_max_connections: int = Field(default=50, ge=1)
    """CRM HTTP connection pool size."""
    gis_url: str = "http://127.0.0.1:8103"
    """GIS (ArcGIS FeatureServer) service."""
    gis_timeout_s: float = Field(default=1.0, gt=0)
    """GIS call timeout."""
    gis_max_connections: int = Field(default=50, ge=1)
    """GIS HTTP connection pool size."""
    workorders_url: str = "http://127.0.0.1:8104"
    """Work-order (工单) REST service."""
    workorders_timeout_s: float = Field(default=1.0, gt=0)
    """Work-order call timeout."""
    workorders_max_connections: int = Field(default=50, ge=1)
    """Work-order HTTP connection pool size."""

    # Observability (docs/operations.md).
    metrics: bool = True
    """Serve Prometheus metrics on `GET /metrics`, on the API's own port; false removes the route."""
    metrics_max_operation_names: int = Field(default=50, ge=0, le=1_000)
    """Operation names outside the manifest kept as metric labels; the rest are `other`."""
    metrics_token: str | None = Field(default=None, repr=False)
    """When set, `/metrics` needs `Authorization: Bearer <this>` (else keep it off the public ingress)."""
    readyz_redis_timeout_ms: int = Field(default=250, ge=1)
    """`/readyz` pings Redis within this; slower reads as down (degraded)."""

    # What one request may cost us before any resolver runs.
    max_query_depth: int = Field(default=12, ge=1)
    """Deepest selection a document may have (`QUERY_TOO_DEEP`)."""
    max_aliases: int = Field(default=30, ge=0)
    """Aliases one document may use (`TOO_MANY_ALIASES`)."""
    max_tokens: int = Field(default=2_000, ge=1)
    """Lexical tokens one document may have (`TOO_MANY_TOKENS`)."""
    # Measured once per document in one pass (gateway/limits/cost_limits.py), every fragment spread expanded.
    max_fragments: int = Field(default=32, ge=0)
    """Fragment definitions one document may have (`TOO_MANY_FRAGMENTS`), checked before any walk."""
    max_spreads: int = Field(default=64, ge=0)
    """Fragment spreads per operation, every spread expanded (`TOO_MANY_SPREADS`)."""
    max_fields: int = Field(default=300, ge=1)
    """Fields per operation, every spread expanded (`TOO_MANY_FIELDS`)."""
    max_cost: int = Field(default=20_000, ge=1)
    """Static cost per operation (`QUERY_TOO_COSTLY`): each field 1, times the sizes of the lists it is
    in. The screen pop costs about 4,000."""
    cost_page_cap: int = Field(default=50, ge=1)
    """A list's size in the cost: its `first`/`last` argument, at most this (the services' own cap)."""
    cost_list_size: int = Field(default=10, ge=1)
    """A list's size in the cost when it has no page argument."""
    validate_inline_max_fields: int = Field(default=50, ge=0)
    """Past this many fields (expanded) a document is validated in a worker thread: graphql-core's
    rules are quadratic in same-named fields, and the event loop must keep answering meanwhile."""
    parse_inline_max_chars: int = Field(default=1_024, ge=0)
    """Longer document texts are parsed in a worker thread."""
    max_body_bytes: int = Field(default=64 * 1024, ge=1)
    """Largest request body; larger is 413 `BAD_REQUEST`."""
    max_root_fields: int = Field(default=5, ge=1)
    """Top-level fields in one operation (`TOO_MANY_ROOT_FIELDS`)."""

    # Surge protection (docs/resilience.md).
    protection: bool = True
    """Master switch. False is plain pass-through (no admission limits, budgets, bulkheads, breakers,
    retries or cache), kept only as the surge benchmark's baseline."""
    rate_limits: bool = True
    """Admission control (GCRA buckets: global, per client, per operation class) on/off."""
    redis_url: str | None = None
    """Redis shared by the replicas: rate buckets, cache, idempotency keys, APQ, ticket states, event
    bus, kept screen pops. Unset: all of it in process."""
    replicas: int = Field(default=1, ge=1)
    """BFF processes sharing the limits: each one's fallback share of the buckets and of billing's rps
    budget is the limit divided by this."""
    redis_timeout_ms: int = Field(default=100, ge=1)
    """Redis socket timeouts (a hung Redis costs little)."""
    rate_redis_deadline_ms: int = Field(default=250, ge=1)
    """One shared rate decision at most; past it, the process uses its local share for a second."""
    rate_global_rps: float = Field(default=1_000.0, gt=0)
    """Admission bucket for all requests: rate per second."""
    rate_global_burst: int = Field(default=2_000, ge=1)
    """Admission bucket for all requests: burst."""
    rate_client_rps: float = Field(default=200.0, gt=0)
    """Admission bucket per client (the token's subject): rate per second."""
    rate_client_burst: int = Field(default=400, ge=1)
    """Admission bucket per client: burst."""
    rate_critical_rps: float = Field(default=800.0, gt=0)
    """Admission bucket for critical operations (screen pop, ticket creation): rate per second."""
    rate_critical_burst: int = Field(default=1_600, ge=1)
    """Admission bucket for critical operations: burst."""
    rate_normal_rps: float = Field(default=300.0, gt=0)
    """Admission bucket for normal operations: rate per second."""
    rate_normal_burst: int = Field(default=600, ge=1)
    """Admission bucket for normal operations: burst."""
    rate_sheddable_rps: float = Field(default=100.0, gt=0)
    """Admission bucket for sheddable operations (bills, payments, history): rate per second."""
    rate_sheddable_burst: int = Field(default=200, ge=1)
    """Admission bucket for sheddable operations: burst."""

    budget_critical_ms: int = Field(default=300, ge=10)
    """Time budget of a critical operation, from arrival (the screen pop's target)."""
    budget_normal_ms: int = Field(default=2_000, ge=10)
    """Time budget of a normal operation."""
    budget_sheddable_ms: int = Field(default=3_000, ge=10)
    """Time budget of a sheddable operation."""
    budget_reserve_ms: int = Field(default=40, ge=0)
    """Kept back from the backends to assemble and send the answer (measured: p99 ~18 ms past the
    backend deadline under the surge, ~13 ms outside execution)."""

    billing_max_concurrent: int = Field(default=16, ge=1)
    """Billing calls in flight (its pool is 20)."""
    billing_critical_reserve: int = Field(default=4, ge=0)
    """Of those, slots only critical work may use."""
    bulkhead_max_wait_ms: int = Field(default=100, ge=0)
    """How long non-critical work waits for a slot or token before it is shed (`RATE_LIMITED`)."""
    billing_max_rps: float = Field(default=50.0, gt=0)
    """Billing calls started per second (per process: divided by `replicas`)."""
    billing_critical_reserve_rps: float = Field(default=15.0, ge=0)
    """Of that rate, the part only critical work may use."""
    billing_sheddable_max_rps: float = Field(default=20.0, gt=0)
    """Ceiling of billing calls per second for sheddable work (shed first)."""
    billing_rps_burst: int = Field(default=10, ge=1)
    """Billing calls that may start at once from idle."""
    billing_sheddable_max_concurrent: int = Field(default=8, ge=1)
    """Ceiling of billing calls in flight for sheddable work."""

    retries: bool = True
    """Retries of idempotent reads (full jitter, within a budget) on/off."""
    retry_max_attempts: int = Field(default=2, ge=1, le=3)
    """Attempts per call, the first included."""
    retry_backoff_ms: int = Field(default=25, ge=0, le=1_000)
    """Full jitter: retry n waits a random 0..backoff × 2^(n-1)."""
    retry_budget_ratio: float = Field(default=0.1, ge=0, le=1)
    """Retries allowed per first attempt, per backend, over the window (a quiet backend gets none)."""
    retry_budget_window_s: int = Field(default=10, ge=1, le=600)
    """The retry budget's sliding window."""
    retry_min_time_left_ms: int = Field(default=100, ge=0)
    """No retry with less of the operation's deadline left."""

    breakers: bool = True
    """Circuit breakers, one per backend (resilience4j semantics and names), on/off."""
    breaker_window_s: int = Field(default=10, ge=1, le=3600)
    """Time-based window the failure and slow-call rates are counted over."""
    breaker_minimum_calls: int = Field(default=20, ge=1)
    """Calls the window needs before a breaker may open."""
    billing_breaker_failure_rate: float = Field(default=10.0, gt=0, le=100)
    """% of billing calls failed or timed out that opens its breaker."""
    crm_breaker_failure_rate: float = Field(default=50.0, gt=0, le=100)
    """% of CRM calls failed or timed out that opens its breaker."""
    gis_breaker_failure_rate: float = Field(default=50.0, gt=0, le=100)
    """% of GIS calls failed or timed out that opens its breaker."""
    workorders_breaker_failure_rate: float = Field(default=50.0, gt=0, le=100)
    """% of work-order calls failed or timed out that opens its breaker."""
    breaker_slow_call_rate: float = Field(default=100.0, gt=0, le=100)
    """% of slow calls (≥ 80% of the backend's timeout) that opens a breaker."""
    breaker_wait_s: float = Field(default=30.0, gt=0)
    """Time open before half-open (±10% jitter)."""
    breaker_half_open_calls: int = Field(default=5, ge=1)
    """Probe calls admitted while half-open."""

    # Per kind: fresh for ttl, then served stale while one refresh runs (stale-while-revalidate, swr),
    # then served stale only when the backend fails, is late or is at capacity (stale-if-error, sie).
    cache: bool = True
    """The cache for semi-static reads (Redis at `redis_url`, else in process) on/off."""
    cache_max_entries: int = Field(default=100_000, ge=1)
    """Entries in the in-process store only (least recently used go first)."""
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

    idempotency_ttl_s: float = Field(default=86_400.0, ge=60)
    """How long a mutation key's answer is kept and replayed (Redis at `redis_url`, else in process)."""
    idempotency_lease_s: float = Field(default=30.0, gt=0)
    """A running attempt older than this is taken to have died."""
    idempotency_settle_s: float = Field(default=5.0, ge=0)
    """After a timed-out write, wait this long before reconciling."""

    # Work-order webhooks (docs/integrations.md).
    workorders_webhook_secrets: str = Field(default="", repr=False)
    """Comma-separated Standard Webhooks secrets, `whsec_...` (two during a rotation). Empty: every
    delivery refused. A malformed one stops start-up, naming the variable but never echoing it."""
    workorders_webhook_tolerance_s: int = Field(default=300, ge=1, le=3_600)
    """How far `webhook-timestamp` may be from our clock, either way."""
    workorders_webhook_dedupe_ttl_s: float = Field(default=259_200.0, ge=60)
    """How long a webhook id is remembered (3 days: longer than the sender retries)."""
    workorders_ticket_state_ttl_s: float = Field(default=2_592_000.0, ge=60)
    """How long a ticket's pushed state is kept (30 days)."""

    # Live updates (docs/live-updates.md).
    screen_pop_prefetch: bool = True
    """Run the screen pop when the phone rings, keep it for the answered-call query, push it to
    `screenPop`."""
    screen_pop_prefetch_budget_ms: int = Field(default=1_500, ge=10)
    """The ring-time pop's own deadline (billing's timeout: a complete pop beats a fast partial one
    while the phone still rings)."""
    screen_pop_prefetch_max_running: int = Field(default=32, ge=1)
    """Ring-time pops at once per process; past it a call rings without one."""
    screen_pop_keep_s: float = Field(default=120.0, gt=0)
    """How long a kept pop waits for the answered-call query."""
    subscriptions_per_connection: int = Field(default=10, ge=1)
    """Operations one websocket may run (`TOO_MANY_SUBSCRIPTIONS`)."""
    subscription_connections_per_client: int = Field(default=10, ge=1)
    """Sockets one token subject may hold on one process (then closed 4403)."""
    subscription_init_timeout_s: float = Field(default=10.0, gt=0)
    """`connection_init` must arrive within this (else closed 4408)."""

    redact_free_text_at_write: bool = False
    """Mask phone, ID and card numbers in notes and ticket descriptions before they are written (off:
    the back office keeps what was typed, the record; reads mask them either way)."""

    # Federation and persisted queries (docs/federation.md).
    federation_sdl: bool = False
    """Serve `_service { sdl }` outside dev mode, for a router composing at run time (it reveals the
    whole schema, like introspection; off: compose offline from the committed SDL)."""
    persisted_manifest_path: Path = MANIFEST_PATH
    """The persisted query list, every operation parsed and validated at start-up."""
    persisted_list_only_roles: str = "softphone"
    """Comma-separated token roles that run manifest operations only."""
    persisted_list_only_clients: str = "softphone"
    """Comma-separated token client ids that run manifest operations only."""
    persisted_only: bool = True
    """Every request names a manifest operation by id (the production default), except from the roles
    in `persisted_free_form_roles` and the clients in `persisted_free_form_clients`."""
    persisted_free_form_roles: str = "supervisor,developer"
    """Comma-separated token roles exempt from `persisted_only`: the people who use GraphiQL (agents and
    the softphone send ids)."""
    persisted_free_form_clients: str = ""
    """Comma-separated client ids exempt from `persisted_only` (a federation router's traffic)."""
    apq: bool = True
    """Run-time APQ registration on/off."""
    apq_max_entries: int = Field(default=1_000, ge=1)
    """APQ registrations kept in process (without Redis; least recently used first out)."""
    apq_ttl_s: int = Field(default=86_400, ge=60)
    """How long Redis keeps an APQ registration."""

    # Security (docs/security.md).
    cti_secrets: str = Field(default="", repr=False)
    """Comma-separated HMAC-SHA256 secrets the CTI signs call events with (several: rotation)."""
    audit_path: str = "var/audit.jsonl"
    """Append-only JSON lines of the audit trail (also the fallback when Redis fails)."""
    audit_redis_url: str | None = None
    """When set, the audit trail goes to a Redis stream there."""
    audit_stream: str = "tidegate:audit"
    """The audit trail's Redis stream."""
    jwks_url: str | None = None
    """The IdP's key set (production). Without it and without the local issuer the BFF refuses to start."""
    jwks_timeout_s: float = Field(default=3.0, gt=0)
    """Timeout fetching the key set."""
    jwks_max_age_s: float = Field(default=3_600.0, ge=30)
    """Refetch keys at least this often."""
    token_issuer: str = Field(default="urn:tidegate:local-issuer", min_length=1)
    """Must match the tokens' `iss` (production: the IdP's)."""
    token_audience: str = Field(default="urn:tidegate:bff", min_length=1)
    """Must match the tokens' `aud` (production: the IdP's)."""
    token_algorithms: Annotated[tuple[str, ...], NoDecode] = ("ES256", "RS256")
    """Allowed signing algorithms, `ES256,RS256` or a JSON list (never `none` or HMAC)."""
    token_leeway_s: int = Field(default=60, ge=0, le=60)
    """Clock skew allowed on `exp`, `nbf` and `iat`."""
    local_issuer: bool = False
    """Demo and tests only: mount `GET /.well-known/jwks.json` and `POST /oauth/token` and, unless
    `jwks_url` is set, verify with the local issuer's own key."""
    local_issuer_key_path: Path = Path(".tidegate/issuer-key.pem")
    """The local issuer's key (created 0600, git-ignored), shared by `tidegate serve` and `tidegate token`."""
    local_issuer_algorithm: Literal["ES256", "RS256"] = "ES256"
    """Algorithm of a newly created local issuer key."""
    token_ttl_s: int = Field(default=900, ge=60, le=3_600)
    """Lifetime of the local issuer's tokens."""
    clients: dict[str, RegisteredClient] = Field(default_factory=demo_clients)
    """The local issuer's clients, JSON: client id to `{"secret", "role", "agent_id"?}`."""

    # Tracing (docs/operations.md): OpenTelemetry, off by default and in the demo.
    tracing_exporter: Literal["none", "console", "otlp"] = "none"
    """`none` builds no tracer provider (no span, no `traceparent` sent); `console` prints one JSON span
    per line on stdout; `otlp` posts to `otlp_endpoint`, batched off the event loop."""
    otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    """OTLP/HTTP (protobuf) collector."""
    tracing_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    """Share of new traces sampled; a caller's sampling decision is kept as sent."""

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
