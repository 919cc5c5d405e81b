"""The BFF's settings, read from `TIDEGATE_*` environment variables.

Built once by whoever starts the process (`tidegate serve`, a test) and handed to
`create_app(settings)`: nothing imports a settings global, so two apps in one process (tests)
never share or leak configuration.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backends.config import BackendConfig
from backends.registry import BACKENDS

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    """Where the BFF listens, where the four back offices live, and how much a query may ask."""

    model_config = SettingsConfigDict(env_prefix="TIDEGATE_", frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65_535)
    log_level: LogLevel = "INFO"
    graphiql: bool = Field(default=True, description="serve the offline GraphiQL page on GET /graphql")

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

    # What one request may cost us before any resolver runs.
    max_query_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=2_000, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1)

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

    def backend_configs(self) -> dict[str, BackendConfig]:
        """One `BackendConfig` per back office, in the shape `Backends.open` takes."""
        return {
            name: BackendConfig(
                name=name,
                base_url=getattr(self, f"{name}_url"),
                timeout_s=getattr(self, f"{name}_timeout_s"),
                max_connections=getattr(self, f"{name}_max_connections"),
            )
            for name in BACKENDS
        }
