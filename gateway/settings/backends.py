"""One settings class for the four back offices; each subclass only names its prefix and defaults.

`TIDEGATE_<NAME>_URL`, `_TIMEOUT_S`, `_MAX_CONNECTIONS`, `_BREAKER_FAILURE_RATE`: the same knobs for
every back office, read by `BackendSettings` under that back office's prefix. Billing gets the longest
timeout (its SOAP service has a lognormal latency with a long tail, median ~200 ms), the strictest
breaker, and the only bulkhead and rate budget (its own `TIDEGATE_BILLING_*` knobs).
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from gateway.settings import formats
from gateway.settings.component import ENV_PREFIX, ComponentSettings


class BackendSettings(ComponentSettings):
    """A back office's URL, timeout, pool size and breaker threshold (`TIDEGATE_<NAME>_*`)."""

    url: str
    """The back office's base URL."""
    timeout_s: float = Field(default=1.0, gt=0)
    """Call timeout; 80% of it counts as a slow call."""
    max_connections: int = Field(default=50, ge=1)
    """HTTP connection pool size."""
    breaker_failure_rate: float = Field(default=50.0, gt=0, le=100)
    """% of calls failed or timed out that opens its breaker."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return formats.http_url(value).rstrip("/")


class BillingSettings(BackendSettings):
    """Billing/revenue (营收): the slow, fragile one, with its own bulkhead and rate budget."""

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}BILLING_")

    url: str = "http://127.0.0.1:8101"
    """Billing/revenue (营收) SOAP service."""
    timeout_s: float = Field(default=1.5, gt=0)
    """Billing call timeout (its latency has a long tail); 80% of it counts as a slow call."""
    max_connections: int = Field(default=50, ge=1)
    """Billing HTTP connection pool size."""
    breaker_failure_rate: float = Field(default=10.0, gt=0, le=100)
    """% of billing calls failed or timed out that opens its breaker."""
    max_concurrent: int = Field(default=16, ge=1)
    """Billing calls in flight, fleet-wide (its pool is 20): each replica holds its share, divided by
    the replicas announced in Redis (`infra.fleet`)."""
    critical_reserve: int = Field(default=4, ge=0)
    """Of those, slots only critical work may use."""
    max_rps: float = Field(default=50.0, gt=0)
    """Billing calls started per second, fleet-wide: one budget in Redis that every replica draws on
    (each its share of it while Redis is away)."""
    critical_reserve_rps: float = Field(default=15.0, ge=0)
    """Of that rate, the part only critical work may use."""
    sheddable_max_rps: float = Field(default=20.0, gt=0)
    """Ceiling of billing calls per second for sheddable work (shed first)."""
    rps_burst: int = Field(default=10, ge=1)
    """Billing calls that may start at once from idle."""
    sheddable_max_concurrent: int = Field(default=8, ge=1)
    """Ceiling of billing calls in flight for sheddable work."""


class CrmSettings(BackendSettings):
    """The CRM."""

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}CRM_")

    url: str = "http://127.0.0.1:8102"
    """CRM REST service."""


class GisSettings(BackendSettings):
    """The GIS."""

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}GIS_")

    url: str = "http://127.0.0.1:8103"
    """GIS (ArcGIS FeatureServer) service."""


class WorkOrdersSettings(BackendSettings):
    """The work-order (工单) system (its webhooks: `WebhookSettings`)."""

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}WORKORDERS_")

    url: str = "http://127.0.0.1:8104"
    """Work-order (工单) REST service."""
