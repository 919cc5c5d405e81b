"""The webhook subscription and its delivery habits: changed at run time through `/_sim/webhooks`.

Real senders deliver at least once: a lost acknowledgement means a second delivery, parallel
workers and retries mean out-of-order arrival. The knobs make those habits as frequent as a test
or the demo wants them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulators.workorders.signing import decode_secret


class WebhookConfig(BaseModel):
    """Where status changes go and how. No `url`: the system has no subscriber and sends nothing."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    url: str | None = Field(default=None, description="the receiver; events from then on are sent there")
    secrets: list[str] = Field(
        default_factory=list, max_length=5, description="whsec_...; each signs every attempt (rotation)"
    )
    duplicate_rate: float = Field(
        default=0.05, ge=0, le=1, description="acknowledged events sent once more, same webhook-id"
    )
    reorder_rate: float = Field(
        default=0.05, ge=0, le=1, description="events held back hold_back_ms, so later ones overtake them"
    )
    hold_back_ms: int = Field(default=2_000, ge=0, le=600_000)
    backoff_base_ms: int = Field(default=500, ge=1, le=600_000, description="first retry after ~this")
    backoff_cap_ms: int = Field(default=30_000, ge=1, le=3_600_000, description="retries never wait longer")
    timeout_ms: int = Field(default=5_000, ge=1, le=120_000, description="one attempt's time limit")
    max_in_flight: int = Field(default=8, ge=1, le=256, description="attempts running at once")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s):// URL, got {value!r}")
        return value or None

    @field_validator("secrets")
    @classmethod
    def _whsec(cls, value: list[str]) -> list[str]:
        for secret in value:
            decode_secret(secret)
        return value

    @model_validator(mode="after")
    def _cap_not_below_base(self) -> WebhookConfig:
        if self.backoff_cap_ms < self.backoff_base_ms:
            raise ValueError("backoff_cap_ms must be at least backoff_base_ms")
        return self

    def keys(self) -> list[bytes]:
        return [decode_secret(s) for s in self.secrets]

    def public(self) -> dict[str, object]:
        """The settings as the admin API shows them: secrets never leave the process."""
        return {**self.model_dump(), "secrets": ["whsec_***" for _ in self.secrets]}
