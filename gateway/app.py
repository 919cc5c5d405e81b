"""`create_app`: the whole BFF, routes and middleware, visible in one function."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import strawberry
from opentelemetry.sdk.trace.export import SpanExporter
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute

from backends.registry import guard_readers, open_backends, share_guards
from gateway.auth import KeySource, build_auth
from gateway.http.board_page import board_routes
from gateway.http.draining import Drain
from gateway.http.errors import INTERNAL_MESSAGE, error_response
from gateway.http.extensions import has_error_codes, schema_extensions
from gateway.http.graphiql import graphiql_assets
from gateway.http.graphql_view import GraphQLView
from gateway.http.workbench import workbench_routes
from gateway.limits.body_limit import BodyLimit
from gateway.live.cti import ENDED_TTL_S, SEEN_TTL_S, STORE_STATE, CtiEndpoint, memory_store
from gateway.live.demo_softphone import DemoSoftphone
from gateway.live.live_services import LiveServices
from gateway.live.ring_prefetch import SCREEN_POP as RING_SCREEN_POP
from gateway.live.webhooks import WorkOrderWebhooks, open_ticket_states
from gateway.live.ws_session import SocketGate
from gateway.observability.audit import AuditSink, JsonLinesSink, RedisStreamSink
from gateway.observability.audit_writer import AuditWriter
from gateway.observability.heap import freeze_startup_heap
from gateway.observability.logging import configure_logging
from gateway.observability.tracing import TRACER_STATE, open_tracing
from gateway.observability.wiring import Observability
from gateway.persisted.compiled_operation import compile_operation
from gateway.persisted.manifest import ManifestError, PersistedOperation, load_manifest
from gateway.persisted.queries import open_apq_store, open_persisted_queries
from gateway.settings import Settings
from gateway.settings.problems import BadSettings, load_settings
from infra.cache.cache import Cache
from infra.cache.local import LocalTier
from infra.cache.store import CacheStore, MemoryStore, RedisStore
from infra.fleet import Fleet
from infra.idempotency_store import MemoryIdempotencyStore, RedisIdempotencyStore
from infra.redis_client import RedisClient, RedisTarget, open_redis, redis_client
from infra.resilience.gcra import RedisGcra
from infra.resilience.priority import OperationClass
from infra.resilience.ratelimit import RateLimiter
from infra.sealed import Sealer
from infra.telemetry import Fanout
from schema import build_schema
from services.board import BoardSources
from services.cached_reads import CachedReads
from services.calls import CallRegistry
from services.cti_event_store import CtiEventStore, RedisCtiEventStore
from services.idempotency import Idempotency, IdempotencyPolicy

logger = logging.getLogger("tidegate.app")


class StartRefused(ValueError):
    """Settings this app will not run with (the message says which and why)."""


def start_refusal(settings: Settings) -> str | None:
    """Why `create_app` would refuse these settings (None: it would not): for `tidegate serve` to say
    so in one line before it configures logging and builds anything."""
    try:
        settings.redis.target()  # the shared Redis given one way only
    except ValueError as exc:
        return str(exc)
    return _unshared_fleet(settings)


def app_from_environment() -> Starlette:
    """The app each of `tidegate serve --workers N`'s processes builds for itself (uvicorn's
    factory): settings from the environment, logging configured, the start-up heap frozen. Bad
    settings exit 2 with a line each (`gateway.settings.problems`), never a traceback."""
    try:
        settings = load_settings()
    except BadSettings as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.serving.log_level)
    app = create_app(settings)
    freeze_startup_heap(settings.serving.gc_young_threshold)
    return app


def _unshared_fleet(settings: Settings) -> str | None:
    """Why these settings would run several replicas with nothing shared (None: they do not). Without
    Redis each replica would admit the fleet's whole limits, keep its own idempotency keys (a retried
    write on another replica files twice) and its own calls and screen pops."""
    if settings.redis.configured:
        return None
    shared = "replicas share limits, idempotency keys, calls and screen pops through Redis"
    workers, replicas = settings.serving.workers, settings.redis.replicas
    other_ways = "(or TIDEGATE_REDIS_SENTINELS, or TIDEGATE_REDIS_CLUSTER_NODES)"
    if workers > 1:
        return (
            f"{workers} workers need TIDEGATE_REDIS_URL {other_ways}: each worker is a replica, and {shared}."
        )
    if replicas > 1:
        return (
            f"TIDEGATE_REPLICAS={replicas} needs TIDEGATE_REDIS_URL {other_ways}: {shared}. "
            "Set it, or run one replica."
        )
    return None


def _redis_target(settings: Settings) -> RedisTarget:
    """Where the shared Redis is; settings that give it two ways, or a malformed node list, refuse."""
    try:
        return settings.redis.target()
    except ValueError as exc:
        logger.error("start-up failed: %s", exc)
        raise StartRefused(str(exc)) from exc


def create_app(
    settings: Settings | None = None,
    *,
    schema: strawberry.Schema | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    keys: KeySource | None = None,
    span_exporter: SpanExporter | None = None,
    manifest: Sequence[PersistedOperation] | None = None,
) -> Starlette:
    """The BFF. `schema`, `transports`, `keys`, `span_exporter` and `manifest` are the test seams: a
    small schema built with `gateway.http.extensions.schema_extensions(settings)`, httpx transports per
    backend, the keys that verify access tokens (default: the IdP's JWKS, or the local issuer's own
    key), an exporter that turns tracing on whatever the settings say (e.g. an `InMemorySpanExporter`),
    and the persisted operations (default: `settings.persisted.persisted_manifest_path`, or none with a test's
    schema, which the manifest's operations would not validate against)."""
    settings = settings or Settings()
    if manifest is None and schema is None:
        manifest = load_manifest(settings.persisted.persisted_manifest_path)
    schema = schema or build_schema(
        extensions=schema_extensions(settings), field_suggestions=settings.serving.dev_mode
    )
    if not has_error_codes(schema.extensions):
        raise ValueError("build the schema with gateway.http.extensions.schema_extensions(settings)")
    if (unshared := _unshared_fleet(settings)) is not None:
        logger.error("start-up failed: %s", unshared)
        raise StartRefused(unshared)
    redis_target = _redis_target(settings)  # a URL, a Sentinel set or cluster nodes (infra.redis_client)
    auth = build_auth(settings, keys)  # no way to check tokens: refuse to start, never run open
    calls = CallRegistry()  # which call each agent is on, fed by the CTI
    webhooks = WorkOrderWebhooks.from_settings(settings)  # a malformed secret: refuse to start
    # Metrics, /healthz, /readyz; the manifest's operation names are always labels of their own.
    observability = Observability.from_settings(settings, [op.name for op in manifest or ()])
    board = BoardSources(calls)  # the supervisor's board: one more telemetry sink, pop times
    telemetry = Fanout(observability.telemetry, board.telemetry)
    try:  # each manifest operation parsed and validated once, here; an invalid one: refuse to start
        compiler = partial(compile_operation, schema) if settings.persisted.persisted_compiled else None
        persisted = open_persisted_queries(settings, schema._schema, manifest or (), compiler)
    except ManifestError as exc:
        logger.error("start-up failed: %s", exc)
        raise

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        # Opened inside the server's event loop (clients bind to it); a broken code table
        # raises here, and the server refuses to start with the table's message.
        tracing = open_tracing(settings, span_exporter)  # owned by this app, never the global provider
        redis = open_redis(redis_target, timeout_s=settings.redis.redis_timeout_ms / 1000)
        # The fleet's buckets: admission, and with Redis the backends' rate budgets too (one budget
        # for the fleet, each replica's share of it while Redis is away).
        limiter = RateLimiter(
            RedisGcra(redis) if redis else None,
            settings.redis.replicas,
            deadline_s=settings.admission.rate_redis_deadline_ms / 1000,
        )
        try:
            backends = open_backends(
                settings.backend_configs(),
                transports,
                telemetry,
                tracing.tracer,
                shared_rate=limiter if redis is not None else None,
            )
        except Exception as exc:
            logger.error("start-up failed: %s", exc)
            tracing.shutdown()
            if redis is not None:
                await redis.aclose()
            raise
        # One background writer per process: requests only queue their records (audit_writer.py).
        audit = AuditWriter(open_audit_sink(settings), linger_s=settings.observability.audit_linger_ms / 1000)
        audit.start()
        # How many replicas share Redis now, announced by each (infra.fleet): every replica's part of
        # billing's bulkhead, and of the buckets' local fallback, follows it.
        fleet = Fleet(redis, floor=settings.redis.replicas)
        await fleet.start()

        def share(size: int) -> None:
            share_guards(backends, size)
            limiter.share(size)

        fleet.on_size(share)
        cache = open_cache(settings, redis)
        reads = CachedReads(
            backends,
            cache,
            settings.cache.cache_policies(),
            Sealer.from_setting(settings.cache.cache_key),
            telemetry=telemetry,
        )
        # The bus (Redis pub/sub with Redis, else in process), the call feed and the ring-time pop.
        live = await LiveServices.start(
            settings,
            schema,
            calls,
            backends,
            reads,
            audit,
            redis,
            tracing.tracer,
            persisted.registry.document_of(RING_SCREEN_POP),  # the ring-time pop runs the plan too
            observability.metrics.ring_pop if observability.metrics is not None else None,
        )
        bus = live.bus
        board.guards = guard_readers(backends)
        observability.serving()
        drain = Drain(observability.stopping, settings.serving.drain_delay_s)
        drain.install()  # SIGTERM: not ready first, the socket closes drain_delay_s later
        try:
            # Reaches each request as request.state.backends / .audit_sink / .limiter.
            yield {
                "backends": backends,
                "audit_sink": audit,
                "reads": reads,
                "idempotency": open_idempotency(settings, redis),
                "redact_free_text_at_write": settings.writes.redact_free_text_at_write,
                "limiter": limiter if settings.limits_on() else None,
                "bus": bus,
                "ticket_states": open_ticket_states(settings, redis),
                STORE_STATE: open_cti_events(redis),  # single-use CTI events, ended calls
                "redis": redis,  # /readyz pings it
                **observability.state(),  # .metrics
                "apq_store": open_apq_store(settings, redis),  # None: the view's in-process LRU
                **live.state(),  # .live (subscriptions), .ring_prefetch (the CTI)
                TRACER_STATE: tracing.tracer,  # the view's operation spans (None: tracing off)
                "board": board,  # the supervisor's board (services.board), and where pops are timed
                "fleet": fleet,
            }
        finally:
            drain.uninstall()
            observability.stopping()
            await fleet.aclose()  # leaves the fleet at once: the others' shares grow at their next beat
            await live.aclose()
            if cache is not None:
                await cache.drain()  # background refreshes finish before their clients close
            await backends.aclose()
            await audit.aclose()  # every queued record written, then the sink closed
            await bus.aclose()
            if redis is not None:
                await redis.aclose()
            await auth.aclose()
            tracing.shutdown()  # the spans still queued are exported

    graphql = GraphQLView(
        schema,
        graphiql=settings.serving.graphiql and settings.serving.dev_mode,
        calls=calls,
        limits=settings.admission.rate_limit_map(),
        budgets={OperationClass(k): v for k, v in settings.budgets().items()},
        budget_reserve_s=settings.deadlines.budget_reserve_ms / 1000,
        sockets=SocketGate(auth.verifier, calls, settings.live.subscription_connections_per_client),
        subscriptions_per_connection=settings.live.subscriptions_per_connection,
        subscription_init_timeout_s=settings.live.subscription_init_timeout_s,
        persisted=persisted,
    )
    # The demo's sign-in and "ring me" (gateway.live.demo_softphone): only with the embedded issuer.
    cti_secrets = settings.live.cti_secret_list()
    softphone = DemoSoftphone(auth.issuer, cti_secrets[0]) if auth.issuer and cti_secrets else None
    return Starlette(
        routes=[
            # Only GraphQL needs a bearer token; the principal reaches the view in scope["principal"].
            Route("/graphql", auth.protect(graphql), name="graphql"),
            # Subscriptions (graphql-transport-ws): the token comes in connection_init, see the view.
            WebSocketRoute("/graphql", graphql, name="graphql-ws"),
            Route(
                "/cti/events",
                CtiEndpoint(calls, settings.live.cti_secret_list()).handle,
                methods=["POST"],
                name="cti",
            ),
            Route("/webhooks/workorders", webhooks.handle, methods=["POST"], name="workorder-webhooks"),
            *observability.routes(),  # /healthz, /readyz, /metrics
            Mount("/graphiql", app=graphiql_assets(), name="graphiql"),
            *workbench_routes(softphone.page_config() if softphone else {"demo": False}),
            *(softphone.routes() if softphone else []),  # /workbench/demo/*, demo issuer only
            *auth.routes(),  # /.well-known/jwks.json and /oauth/token, local issuer only
            *board_routes(),  # GET /board: the supervisor's board page and its bundle
        ],
        middleware=[
            *observability.middleware(),  # HTTP server metrics, outermost
            Middleware(BodyLimit, max_bytes=settings.limits.max_body_bytes),
        ],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )


def open_cache(settings: Settings, redis: RedisClient | None) -> Cache | None:
    """Redis when configured (shared by the replicas, single-flight across them), else in-process."""
    if not settings.cache_on():
        return None
    store: CacheStore = (
        RedisStore(redis) if redis is not None else MemoryStore(settings.cache.cache_max_entries)
    )
    local_s = settings.cache.cache_local_ttl_s
    local = LocalTier(settings.cache.cache_local_max_entries, local_s) if local_s > 0 else None
    return Cache(store, local=local)


def open_idempotency(settings: Settings, redis: RedisClient | None) -> Idempotency:
    """Mutation keys in Redis when configured (every replica sees every key), else in this process."""
    store = RedisIdempotencyStore(redis) if redis is not None else MemoryIdempotencyStore()
    policy = IdempotencyPolicy(
        settings.writes.idempotency_ttl_s,
        settings.writes.idempotency_lease_s,
        settings.writes.idempotency_settle_s,
    )
    return Idempotency(store, policy)


def open_cti_events(redis: RedisClient | None) -> CtiEventStore:
    """Used CTI event ids and ended calls in Redis when configured (a replay posted to another
    replica is refused too), else in this process."""
    if redis is None:
        return memory_store()
    return RedisCtiEventStore(redis, seen_ttl_s=SEEN_TTL_S, ended_ttl_s=ENDED_TTL_S)


def open_audit_sink(settings: Settings) -> AuditSink:
    file_sink = JsonLinesSink(Path(settings.observability.audit_path))
    if settings.observability.audit_redis_url:
        # The one factory, with the audit's own patience: a record waits for a slow Redis up to 1 s.
        client = redis_client(settings.observability.audit_redis_url, timeout_s=1.0, pool_wait_s=1.0)
        return RedisStreamSink(client, settings.observability.audit_stream, fallback=file_sink)
    return file_sink


async def http_error(_request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods outside /graphql, coded like every other error."""
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, exc.detail, headers=exc.headers)


async def internal_error(_request: Request, _exc: Exception) -> Response:
    return error_response(500, INTERNAL_MESSAGE)
