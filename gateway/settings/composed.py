"""`Settings`: every component's settings, composed once.

Built once by whoever starts the process (`tidegate serve`, a test) and handed to
`create_app(settings)`: nothing imports a settings global, so two apps in one process (tests)
never share or leak configuration. Each component reads its own flat `TIDEGATE_*` variables; keyword
arguments take the same flat names (`Settings(billing_timeout_s=5, persisted_only=False)` is
`TIDEGATE_BILLING_TIMEOUT_S=5 TIDEGATE_PERSISTED_ONLY=false`) and override the environment, or a
component is given whole (`Settings(billing=BillingSettings(...))`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings

from backends.registry import BACKENDS
from gateway.settings.auth import AuthSettings
from gateway.settings.backends import (
    BackendSettings,
    BillingSettings,
    CrmSettings,
    GisSettings,
    WorkOrdersSettings,
)
from gateway.settings.component import ENV_PREFIX
from gateway.settings.limits import LimitSettings, PersistedSettings
from gateway.settings.live import LiveSettings, WebhookSettings
from gateway.settings.observability import ObservabilitySettings
from gateway.settings.protection import AdmissionSettings, DeadlineSettings, ResilienceSettings
from gateway.settings.serving import ServingSettings
from gateway.settings.stores import CacheSettings, RedisSettings, WriteSettings
from infra.http.config import BackendConfig
from infra.resilience import BreakerConfig, SlidingWindowType
from infra.resilience.bulkhead import BulkheadConfig
from infra.resilience.rate_budget import RateBudgetConfig
from infra.resilience.retry import RetryConfig


class Settings(BaseModel):
    """Where the BFF listens, where the four back offices live, and how much a query may ask."""

    model_config = ConfigDict(frozen=True)

    serving: ServingSettings = Field(default_factory=ServingSettings)
    billing: BillingSettings = Field(default_factory=BillingSettings)
    crm: CrmSettings = Field(default_factory=CrmSettings)
    gis: GisSettings = Field(default_factory=GisSettings)
    workorders: WorkOrdersSettings = Field(default_factory=WorkOrdersSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    resilience: ResilienceSettings = Field(default_factory=ResilienceSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    admission: AdmissionSettings = Field(default_factory=AdmissionSettings)
    deadlines: DeadlineSettings = Field(default_factory=DeadlineSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    writes: WriteSettings = Field(default_factory=WriteSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    live: LiveSettings = Field(default_factory=LiveSettings)
    persisted: PersistedSettings = Field(default_factory=PersistedSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    def __init__(self, **values: Any) -> None:
        super().__init__(**compose(type(self), values))

    def backend(self, name: str) -> BackendSettings:
        """One back office's settings by its registry name (`billing`, `crm`, `gis`, `workorders`)."""
        component = getattr(self, name)
        assert isinstance(component, BackendSettings), name
        return component

    def budgets(self) -> dict[str, float]:
        """Seconds per operation class (without protection: each backend's own timeout only)."""
        if not self.resilience.protection:
            return {name: 3_600.0 for name in ("critical", "normal", "sheddable")}
        return {
            name: getattr(self.deadlines, f"budget_{name}_ms") / 1000
            for name in ("critical", "normal", "sheddable")
        }

    def cache_on(self) -> bool:
        return self.cache.cache and self.resilience.protection

    def limits_on(self) -> bool:
        return self.admission.rate_limits and self.resilience.protection

    def breaker_config(self, name: str) -> BreakerConfig | None:
        """resilience4j semantics over a time window; billing opens at 10% of >= 20 calls in 10 s."""
        guards = self.resilience
        if not (guards.breakers and guards.protection):
            return None
        backend = self.backend(name)
        return BreakerConfig(
            sliding_window_type=SlidingWindowType.TIME_BASED,
            sliding_window_size=guards.breaker_window_s,
            minimum_number_of_calls=guards.breaker_minimum_calls,
            failure_rate_threshold=backend.breaker_failure_rate,
            slow_call_rate_threshold=guards.breaker_slow_call_rate,
            slow_call_duration_threshold_s=backend.timeout_s * 0.8,
            wait_duration_in_open_state_s=guards.breaker_wait_s,
            wait_jitter=0.1,
            permitted_number_of_calls_in_half_open_state=guards.breaker_half_open_calls,
        )

    def backend_configs(self) -> dict[str, BackendConfig]:
        """One `BackendConfig` per back office, in the shape `Backends.open` takes. Without
        `protection`: no rate budget, bulkhead or retries (and no breaker, see `breaker_config`)."""
        guards, billing = self.resilience, self.billing
        on = guards.protection
        wait_s = guards.bulkhead_max_wait_ms / 1000
        bulkhead = (
            BulkheadConfig(
                billing.max_concurrent,
                billing.critical_reserve,
                wait_s,
                sheddable_max_concurrent=billing.sheddable_max_concurrent,
            )
            if on
            else None
        )
        rate = (
            RateBudgetConfig(
                billing.max_rps,
                billing.critical_reserve_rps,
                billing.sheddable_max_rps,
                burst=billing.rps_burst,
                max_wait_s=wait_s,
            )
            if on
            else None
        )
        retry = (
            RetryConfig(
                max_attempts=guards.retry_max_attempts,
                backoff_s=guards.retry_backoff_ms / 1000,
                budget_ratio=guards.retry_budget_ratio,
                budget_window_s=guards.retry_budget_window_s,
                min_time_left_s=guards.retry_min_time_left_ms / 1000,
            )
            if on and guards.retries
            else None
        )
        return {
            name: BackendConfig(
                name=name,
                base_url=self.backend(name).url,
                timeout_s=self.backend(name).timeout_s,
                max_connections=self.backend(name).max_connections,
                breaker=self.breaker_config(name),
                bulkhead=bulkhead if name == "billing" else None,
                rate=rate if name == "billing" else None,
                retry=retry,
            )
            for name in BACKENDS
        }


def flat_prefix(component: type[BaseSettings]) -> str:
    """The keyword prefix of a component's fields: its variables' names without `TIDEGATE_`, lower case
    (`billing_` for `TIDEGATE_BILLING_URL`, empty for `TIDEGATE_PORT`)."""
    prefix = str(component.model_config.get("env_prefix", ""))
    return prefix.removeprefix(ENV_PREFIX).lower()


def compose(settings: type[Settings], values: dict[str, Any]) -> dict[str, Any]:
    """Every component built once, each from the environment under the flat keywords meant for it.

    A value out of bounds is reported under its flat name (`crm_timeout_s`, as the variable
    `TIDEGATE_CRM_TIMEOUT_S`), every component's errors in one `ValidationError`, as before the split."""
    built: dict[str, Any] = {}
    errors: list[InitErrorDetails] = []
    for name, info in settings.model_fields.items():
        component = info.annotation
        assert isinstance(component, type) and issubclass(component, BaseSettings), name
        given = values.get(name)
        if isinstance(given, component):
            built[name] = given
            continue
        prefix = flat_prefix(component)
        flat = {field: values[prefix + field] for field in component.model_fields if prefix + field in values}
        if isinstance(given, dict):
            flat |= given
        try:
            built[name] = component(**flat)
        except ValidationError as error:
            errors += [
                InitErrorDetails(
                    type=PydanticCustomError(detail["type"], detail["msg"]),
                    loc=(f"{prefix}{detail['loc'][0]}", *detail["loc"][1:]) if detail["loc"] else (),
                    input=detail["input"],
                )
                for detail in error.errors()
            ]
    if errors:  # the values left out of the message: some are secrets (the CLI shows them masked)
        raise ValidationError.from_exception_data(settings.__name__, errors, hide_input=True)
    return built
