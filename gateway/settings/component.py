"""What every settings component shares: frozen, its own flat `TIDEGATE_*` variables, documented.

Each component is its own `BaseSettings` reading flat variables under its prefix (`TIDEGATE_` or
`TIDEGATE_BILLING_`, ...): nesting them as pydantic-settings sub-models would rename every variable to
`TIDEGATE_BILLING__URL`, and users already set today's names (tests/gateway/settings_contract.py).
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "TIDEGATE_"


class ComponentSettings(BaseSettings):
    """One component's settings: frozen, unknown variables ignored, and every field's docstring its
    description in docs/configuration.md (`python -m gateway.settings_doc --write`): say what it is for."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="ignore", use_attribute_docstrings=True
    )
