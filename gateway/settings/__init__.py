"""The BFF's settings, read from `TIDEGATE_*` environment variables: one small class per component
(serving, each back office, limits, protection, stores, live updates, auth, observability), composed
once into `Settings` (gateway/settings/composed.py)."""

from gateway.settings.auth import AuthSettings
from gateway.settings.backends import (
    BackendSettings,
    BillingSettings,
    CrmSettings,
    GisSettings,
    WorkOrdersSettings,
)
from gateway.settings.composed import Settings
from gateway.settings.limits import LimitSettings, PersistedSettings
from gateway.settings.live import LiveSettings, WebhookSettings
from gateway.settings.observability import ObservabilitySettings
from gateway.settings.protection import AdmissionSettings, DeadlineSettings, ResilienceSettings
from gateway.settings.serving import LogLevel, ServingSettings
from gateway.settings.stores import CacheSettings, RedisSettings, WriteSettings

__all__ = [
    "AdmissionSettings",
    "AuthSettings",
    "BackendSettings",
    "BillingSettings",
    "CacheSettings",
    "CrmSettings",
    "DeadlineSettings",
    "GisSettings",
    "LimitSettings",
    "LiveSettings",
    "LogLevel",
    "ObservabilitySettings",
    "PersistedSettings",
    "RedisSettings",
    "ResilienceSettings",
    "ServingSettings",
    "Settings",
    "WebhookSettings",
    "WorkOrdersSettings",
    "WriteSettings",
]
