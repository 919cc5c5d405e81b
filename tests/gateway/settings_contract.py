"""Today's `TIDEGATE_*` variables with their types, bounds and defaults: the pinned contract.

Recorded from the flat `Settings` class before it was split into components; users set these
names, so `tests/gateway/test_settings.py::test_every_variable_keeps_its_name_type_bounds_and_default`
checks the composed settings against this table (regenerate it only for a deliberate change).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]


def _default(info: FieldInfo) -> object:
    if info.default_factory is not None:
        return "factory:" + getattr(info.default_factory, "__name__", "?")
    value = info.default
    if isinstance(value, Path):
        return str(value.relative_to(ROOT) if value.is_relative_to(ROOT) else value)
    return value


def _annotation(annotation: Any) -> str:
    return annotation.__name__ if isinstance(annotation, type) else repr(annotation)


def variables(settings: type[BaseSettings] | type[Any], prefix: str = "") -> dict[str, tuple[object, ...]]:
    """Every variable a settings class reads: name -> (type, bounds and markers, default), walking
    into component settings (fields whose type is itself a `BaseSettings`) with their own prefix."""
    own = str(getattr(settings, "model_config", {}).get("env_prefix", prefix))
    found: dict[str, tuple[object, ...]] = {}
    for name, info in settings.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseSettings):
            inner = variables(kind, own)
            if twice := set(inner) & set(found):
                raise AssertionError(f"read twice: {sorted(twice)}")
            found |= inner
            continue
        meta = ",".join(repr(item) for item in info.metadata)
        env = f"{own}{name}".upper()
        if env in found:
            raise AssertionError(f"{env} is read twice")
        found[env] = (_annotation(kind), meta, _default(info))
    return found


# Generated from the flat class (commit 26ccf52) by `variables(Settings)`.
VARIABLES: dict[str, tuple[object, ...]] = {
    "TIDEGATE_HOST": ("str", "", "127.0.0.1"),
    "TIDEGATE_PORT": ("int", "Ge(ge=0),Le(le=65535)", 8000),
    "TIDEGATE_GC_YOUNG_THRESHOLD": ("int", "Ge(ge=700),Le(le=1000000)", 20000),
    "TIDEGATE_LOG_LEVEL": ("typing.Literal['DEBUG', 'INFO', 'WARNING', 'ERROR']", "", "INFO"),
    "TIDEGATE_DEV_MODE": ("bool", "", False),
    "TIDEGATE_GRAPHIQL": ("bool", "", False),
    "TIDEGATE_BILLING_URL": ("str", "", "http://127.0.0.1:8101"),
    "TIDEGATE_BILLING_TIMEOUT_S": ("float", "Gt(gt=0)", 1.5),
    "TIDEGATE_BILLING_MAX_CONNECTIONS": ("int", "Ge(ge=1)", 50),
    "TIDEGATE_CRM_URL": ("str", "", "http://127.0.0.1:8102"),
    "TIDEGATE_CRM_TIMEOUT_S": ("float", "Gt(gt=0)", 1.0),
    "TIDEGATE_CRM_MAX_CONNECTIONS": ("int", "Ge(ge=1)", 50),
    "TIDEGATE_GIS_URL": ("str", "", "http://127.0.0.1:8103"),
    "TIDEGATE_GIS_TIMEOUT_S": ("float", "Gt(gt=0)", 1.0),
    "TIDEGATE_GIS_MAX_CONNECTIONS": ("int", "Ge(ge=1)", 50),
    "TIDEGATE_WORKORDERS_URL": ("str", "", "http://127.0.0.1:8104"),
    "TIDEGATE_WORKORDERS_TIMEOUT_S": ("float", "Gt(gt=0)", 1.0),
    "TIDEGATE_WORKORDERS_MAX_CONNECTIONS": ("int", "Ge(ge=1)", 50),
    "TIDEGATE_METRICS": ("bool", "", True),
    "TIDEGATE_METRICS_MAX_OPERATION_NAMES": ("int", "Ge(ge=0),Le(le=1000)", 50),
    "TIDEGATE_METRICS_TOKEN": ("str | None", "", None),
    "TIDEGATE_READYZ_REDIS_TIMEOUT_MS": ("int", "Ge(ge=1)", 250),
    "TIDEGATE_MAX_QUERY_DEPTH": ("int", "Ge(ge=1)", 12),
    "TIDEGATE_MAX_ALIASES": ("int", "Ge(ge=0)", 30),
    "TIDEGATE_MAX_TOKENS": ("int", "Ge(ge=1)", 2000),
    "TIDEGATE_MAX_FRAGMENTS": ("int", "Ge(ge=0)", 32),
    "TIDEGATE_MAX_SPREADS": ("int", "Ge(ge=0)", 64),
    "TIDEGATE_MAX_FIELDS": ("int", "Ge(ge=1)", 300),
    "TIDEGATE_MAX_COST": ("int", "Ge(ge=1)", 20000),
    "TIDEGATE_COST_PAGE_CAP": ("int", "Ge(ge=1)", 50),
    "TIDEGATE_COST_LIST_SIZE": ("int", "Ge(ge=1)", 10),
    "TIDEGATE_VALIDATE_INLINE_MAX_FIELDS": ("int", "Ge(ge=0)", 50),
    "TIDEGATE_PARSE_INLINE_MAX_CHARS": ("int", "Ge(ge=0)", 1024),
    "TIDEGATE_MAX_BODY_BYTES": ("int", "Ge(ge=1)", 65536),
    "TIDEGATE_MAX_ROOT_FIELDS": ("int", "Ge(ge=1)", 5),
    "TIDEGATE_PROTECTION": ("bool", "", True),
    "TIDEGATE_RATE_LIMITS": ("bool", "", True),
    "TIDEGATE_REDIS_URL": ("str | None", "", None),
    "TIDEGATE_REDIS_SENTINELS": ("str | None", "", None),
    "TIDEGATE_REDIS_SENTINEL_MASTER": ("str", "", "mymaster"),
    "TIDEGATE_REDIS_CLUSTER_NODES": ("str | None", "", None),
    "TIDEGATE_REPLICAS": ("int", "Ge(ge=1)", 1),
    "TIDEGATE_REDIS_TIMEOUT_MS": ("int", "Ge(ge=1)", 100),
    "TIDEGATE_RATE_REDIS_DEADLINE_MS": ("int", "Ge(ge=1)", 250),
    "TIDEGATE_RATE_GLOBAL_RPS": ("float", "Gt(gt=0)", 1000.0),
    "TIDEGATE_RATE_GLOBAL_BURST": ("int", "Ge(ge=1)", 2000),
    "TIDEGATE_RATE_CLIENT_RPS": ("float", "Gt(gt=0)", 200.0),
    "TIDEGATE_RATE_CLIENT_BURST": ("int", "Ge(ge=1)", 400),
    "TIDEGATE_RATE_CRITICAL_RPS": ("float", "Gt(gt=0)", 800.0),
    "TIDEGATE_RATE_CRITICAL_BURST": ("int", "Ge(ge=1)", 1600),
    "TIDEGATE_RATE_NORMAL_RPS": ("float", "Gt(gt=0)", 300.0),
    "TIDEGATE_RATE_NORMAL_BURST": ("int", "Ge(ge=1)", 600),
    "TIDEGATE_RATE_SHEDDABLE_RPS": ("float", "Gt(gt=0)", 100.0),
    "TIDEGATE_RATE_SHEDDABLE_BURST": ("int", "Ge(ge=1)", 200),
    "TIDEGATE_BUDGET_CRITICAL_MS": ("int", "Ge(ge=10)", 300),
    "TIDEGATE_BUDGET_NORMAL_MS": ("int", "Ge(ge=10)", 2000),
    "TIDEGATE_BUDGET_SHEDDABLE_MS": ("int", "Ge(ge=10)", 3000),
    "TIDEGATE_BUDGET_RESERVE_MS": ("int", "Ge(ge=0)", 40),
    "TIDEGATE_BILLING_MAX_CONCURRENT": ("int", "Ge(ge=1)", 16),
    "TIDEGATE_BILLING_CRITICAL_RESERVE": ("int", "Ge(ge=0)", 4),
    "TIDEGATE_BULKHEAD_MAX_WAIT_MS": ("int", "Ge(ge=0)", 100),
    "TIDEGATE_BILLING_MAX_RPS": ("float", "Gt(gt=0)", 50.0),
    "TIDEGATE_BILLING_CRITICAL_RESERVE_RPS": ("float", "Ge(ge=0)", 15.0),
    "TIDEGATE_BILLING_SHEDDABLE_MAX_RPS": ("float", "Gt(gt=0)", 20.0),
    "TIDEGATE_BILLING_RPS_BURST": ("int", "Ge(ge=1)", 10),
    "TIDEGATE_BILLING_SHEDDABLE_MAX_CONCURRENT": ("int", "Ge(ge=1)", 8),
    "TIDEGATE_RETRIES": ("bool", "", True),
    "TIDEGATE_RETRY_MAX_ATTEMPTS": ("int", "Ge(ge=1),Le(le=3)", 2),
    "TIDEGATE_RETRY_BACKOFF_MS": ("int", "Ge(ge=0),Le(le=1000)", 25),
    "TIDEGATE_RETRY_BUDGET_RATIO": ("float", "Ge(ge=0),Le(le=1)", 0.1),
    "TIDEGATE_RETRY_BUDGET_WINDOW_S": ("int", "Ge(ge=1),Le(le=600)", 10),
    "TIDEGATE_RETRY_MIN_TIME_LEFT_MS": ("int", "Ge(ge=0)", 100),
    "TIDEGATE_BREAKERS": ("bool", "", True),
    "TIDEGATE_BREAKER_WINDOW_S": ("int", "Ge(ge=1),Le(le=3600)", 10),
    "TIDEGATE_BREAKER_MINIMUM_CALLS": ("int", "Ge(ge=1)", 20),
    "TIDEGATE_BILLING_BREAKER_FAILURE_RATE": ("float", "Gt(gt=0),Le(le=100)", 10.0),
    "TIDEGATE_CRM_BREAKER_FAILURE_RATE": ("float", "Gt(gt=0),Le(le=100)", 50.0),
    "TIDEGATE_GIS_BREAKER_FAILURE_RATE": ("float", "Gt(gt=0),Le(le=100)", 50.0),
    "TIDEGATE_WORKORDERS_BREAKER_FAILURE_RATE": ("float", "Gt(gt=0),Le(le=100)", 50.0),
    "TIDEGATE_BREAKER_SLOW_CALL_RATE": ("float", "Gt(gt=0),Le(le=100)", 100.0),
    "TIDEGATE_BREAKER_WAIT_S": ("float", "Gt(gt=0)", 30.0),
    "TIDEGATE_BREAKER_HALF_OPEN_CALLS": ("int", "Ge(ge=1)", 5),
    "TIDEGATE_CACHE": ("bool", "", True),
    "TIDEGATE_CACHE_MAX_ENTRIES": ("int", "Ge(ge=1)", 100000),
    "TIDEGATE_CACHE_LOCAL_TTL_S": ("float", "Ge(ge=0),Le(le=60)", 2.0),
    "TIDEGATE_CACHE_LOCAL_MAX_ENTRIES": ("int", "Ge(ge=1)", 10000),
    "TIDEGATE_CACHE_KEY": ("str | None", "", None),
    "TIDEGATE_CACHE_ACCOUNTS_TTL_S": ("float", "Gt(gt=0)", 60.0),
    "TIDEGATE_CACHE_ACCOUNTS_SWR_S": ("float", "Ge(ge=0)", 600.0),
    "TIDEGATE_CACHE_ACCOUNTS_SIE_S": ("float", "Ge(ge=0)", 3600.0),
    "TIDEGATE_CACHE_OUTAGES_TTL_S": ("float", "Gt(gt=0)", 30.0),
    "TIDEGATE_CACHE_OUTAGES_SWR_S": ("float", "Ge(ge=0)", 60.0),
    "TIDEGATE_CACHE_OUTAGES_SIE_S": ("float", "Ge(ge=0)", 3600.0),
    "TIDEGATE_CACHE_NETWORK_TTL_S": ("float", "Gt(gt=0)", 3600.0),
    "TIDEGATE_CACHE_NETWORK_SWR_S": ("float", "Ge(ge=0)", 3600.0),
    "TIDEGATE_CACHE_NETWORK_SIE_S": ("float", "Ge(ge=0)", 86400.0),
    "TIDEGATE_IDEMPOTENCY_TTL_S": ("float", "Ge(ge=60)", 86400.0),
    "TIDEGATE_IDEMPOTENCY_LEASE_S": ("float", "Gt(gt=0)", 30.0),
    "TIDEGATE_IDEMPOTENCY_SETTLE_S": ("float", "Ge(ge=0)", 5.0),
    "TIDEGATE_WORKORDERS_WEBHOOK_SECRETS": ("str", "", ""),
    "TIDEGATE_WORKORDERS_WEBHOOK_TOLERANCE_S": ("int", "Ge(ge=1),Le(le=3600)", 300),
    "TIDEGATE_WORKORDERS_WEBHOOK_DEDUPE_TTL_S": ("float", "Ge(ge=60)", 259200.0),
    "TIDEGATE_WORKORDERS_TICKET_STATE_TTL_S": ("float", "Ge(ge=60)", 2592000.0),
    "TIDEGATE_SCREEN_POP_PREFETCH": ("bool", "", True),
    "TIDEGATE_SCREEN_POP_PREFETCH_BUDGET_MS": ("int", "Ge(ge=10)", 1500),
    "TIDEGATE_SCREEN_POP_PREFETCH_MAX_RUNNING": ("int", "Ge(ge=1)", 32),
    "TIDEGATE_SCREEN_POP_KEEP_S": ("float", "Gt(gt=0)", 120.0),
    "TIDEGATE_SUBSCRIPTIONS_PER_CONNECTION": ("int", "Ge(ge=1)", 10),
    "TIDEGATE_SUBSCRIPTION_CONNECTIONS_PER_CLIENT": ("int", "Ge(ge=1)", 10),
    "TIDEGATE_SUBSCRIPTION_INIT_TIMEOUT_S": ("float", "Gt(gt=0)", 10.0),
    "TIDEGATE_OUTAGE_INDEX": ("bool", "", True),
    "TIDEGATE_OUTAGE_INDEX_REFRESH_S": ("float", "Ge(ge=1),Le(le=3600)", 15.0),
    "TIDEGATE_REDACT_FREE_TEXT_AT_WRITE": ("bool", "", False),
    "TIDEGATE_FEDERATION_SDL": ("bool", "", False),
    "TIDEGATE_PERSISTED_MANIFEST_PATH": ("Path", "", "gql/manifest.json"),
    "TIDEGATE_PERSISTED_LIST_ONLY_ROLES": ("str", "", "softphone"),
    "TIDEGATE_PERSISTED_LIST_ONLY_CLIENTS": ("str", "", "softphone"),
    "TIDEGATE_PERSISTED_ONLY": ("bool", "", True),
    "TIDEGATE_PERSISTED_FREE_FORM_ROLES": ("str", "", "supervisor,developer"),
    "TIDEGATE_PERSISTED_FREE_FORM_CLIENTS": ("str", "", ""),
    "TIDEGATE_APQ": ("bool", "", True),
    "TIDEGATE_APQ_MAX_ENTRIES": ("int", "Ge(ge=1)", 1000),
    "TIDEGATE_APQ_TTL_S": ("int", "Ge(ge=60)", 86400),
    "TIDEGATE_CTI_SECRETS": ("str", "", ""),
    "TIDEGATE_AUDIT_PATH": ("str", "", "var/audit.jsonl"),
    "TIDEGATE_AUDIT_REDIS_URL": ("str | None", "", None),
    "TIDEGATE_AUDIT_STREAM": ("str", "", "tidegate:audit"),
    "TIDEGATE_AUDIT_LINGER_MS": ("int", "Ge(ge=0),Le(le=1000)", 20),
    "TIDEGATE_JWKS_URL": ("str | None", "", None),
    "TIDEGATE_JWKS_TIMEOUT_S": ("float", "Gt(gt=0)", 3.0),
    "TIDEGATE_JWKS_MAX_AGE_S": ("float", "Ge(ge=30)", 3600.0),
    "TIDEGATE_TOKEN_ISSUER": ("str", "MinLen(min_length=1)", "urn:tidegate:local-issuer"),
    "TIDEGATE_TOKEN_AUDIENCE": ("str", "MinLen(min_length=1)", "urn:tidegate:bff"),
    "TIDEGATE_TOKEN_ALGORITHMS": (
        "tuple[str, ...]",
        "<class 'pydantic_settings.sources.types.NoDecode'>",
        ("ES256", "RS256"),
    ),
    "TIDEGATE_TOKEN_LEEWAY_S": ("int", "Ge(ge=0),Le(le=60)", 60),
    "TIDEGATE_LOCAL_ISSUER": ("bool", "", False),
    "TIDEGATE_LOCAL_ISSUER_KEY_PATH": ("Path", "", ".tidegate/issuer-key.pem"),
    "TIDEGATE_LOCAL_ISSUER_ALGORITHM": ("typing.Literal['ES256', 'RS256']", "", "ES256"),
    "TIDEGATE_TOKEN_TTL_S": ("int", "Ge(ge=60),Le(le=3600)", 900),
    # Issue 20: the JSON parsed by the field's own validator (a clear error, not pydantic-settings'
    # traceback), hence NoDecode.
    "TIDEGATE_CLIENTS": (
        "dict[str, gateway.auth.clients.RegisteredClient]",
        "<class 'pydantic_settings.sources.types.NoDecode'>",
        "factory:demo_clients",
    ),
    "TIDEGATE_TRACING_EXPORTER": ("typing.Literal['none', 'console', 'otlp']", "", "none"),
    "TIDEGATE_OTLP_ENDPOINT": ("str", "", "http://127.0.0.1:4318/v1/traces"),
    "TIDEGATE_TRACING_SAMPLE_RATIO": ("float", "Ge(ge=0.0),Le(le=1.0)", 1.0),
    # Added after the split (issue 17, unknown callers): new variables join the table on purpose.
    "TIDEGATE_IDENTIFY_MAX_ATTEMPTS": ("int", "Ge(ge=1),Le(le=10)", 3),
    "TIDEGATE_PHONE_SEARCH_BUDGET_MS": ("int", "Ge(ge=100)", 5000),
    "TIDEGATE_PHONE_SEARCH_MAX_RUNNING": ("int", "Ge(ge=1)", 64),
    "TIDEGATE_PHONE_SEARCH_WAIT_MS": ("int", "Ge(ge=0)", 250),
    # Issue 18 (the IVR look-up's speed): compiled persisted operations, with a switch to turn them off.
    "TIDEGATE_PERSISTED_COMPILED": ("bool", "", True),
    # Issue 19 (scale-out): worker processes, each a replica of the fleet.
    "TIDEGATE_WORKERS": ("int", "Ge(ge=1),Le(le=64)", 1),
    "TIDEGATE_DRAIN_DELAY_S": ("float", "Ge(ge=0),Le(le=60)", 3.0),
    "TIDEGATE_SHUTDOWN_TIMEOUT_S": ("int", "Ge(ge=1),Le(le=600)", 30),
}
