"""Pushed events: CTI call events and the screen pop, subscriptions, and work-order webhooks."""

from __future__ import annotations

from pydantic import Field, field_validator

from gateway.live.webhook_signature import parse_secrets
from gateway.settings.component import ComponentSettings


class LiveSettings(ComponentSettings):
    """CTI call events, the ring-time screen pop, and the websocket subscriptions that carry them."""

    cti_secrets: str = Field(default="", repr=False)
    """Comma-separated HMAC-SHA256 secrets the CTI signs call events with (several: rotation)."""
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
    phone_search_wait_ms: int = Field(default=250, ge=0)
    """How long a screen pop waits for billing's phone search when the CRM knows nobody on the number;
    then it answers no match and the search goes on for the call (a later match updates the pop)."""
    phone_search_budget_ms: int = Field(default=5_000, ge=100)
    """billing's phone search's own deadline, in the background."""
    phone_search_max_running: int = Field(default=64, ge=1)
    """billing phone searches at once per process; past it an unknown caller is no match at once."""
    identify_max_attempts: int = Field(default=3, ge=1, le=10)
    """Wrong answers to the identification questions before the call is locked for identification."""
    subscriptions_per_connection: int = Field(default=10, ge=1)
    """Operations one websocket may run (`TOO_MANY_SUBSCRIPTIONS`)."""
    subscription_connections_per_client: int = Field(default=10, ge=1)
    """Sockets one token subject may hold on one process (then closed 4403)."""
    subscription_init_timeout_s: float = Field(default=10.0, gt=0)
    """`connection_init` must arrive within this (else closed 4408)."""
    outage_index: bool = True
    """Keep the index of who the active outages leave without water (by phone and account) for the
    IVR's `callerOutageStatus`, built at start-up and refreshed in the background. Off: it is built
    on the first look-up instead (which answers not affected until then)."""
    outage_index_refresh_s: float = Field(default=15.0, ge=1, le=3_600)
    """How often the index re-reads the GIS's active outages (and reads phones of new accounts)."""

    def cti_secret_list(self) -> list[str]:
        return [s.strip() for s in self.cti_secrets.split(",") if s.strip()]


class WebhookSettings(ComponentSettings):
    """The work-order system's Standard Webhooks, and the ticket states they push."""

    workorders_webhook_secrets: str = Field(default="", repr=False)
    """Comma-separated Standard Webhooks secrets, `whsec_...` (two during a rotation). Empty: every
    delivery refused. A malformed one stops start-up, naming the variable but never echoing it."""
    workorders_webhook_tolerance_s: int = Field(default=300, ge=1, le=3_600)
    """How far `webhook-timestamp` may be from our clock, either way."""
    workorders_webhook_dedupe_ttl_s: float = Field(default=259_200.0, ge=60)
    """How long a webhook id is remembered (3 days: longer than the sender retries)."""
    workorders_ticket_state_ttl_s: float = Field(default=2_592_000.0, ge=60)
    """How long a ticket's pushed state is kept (30 days)."""

    @field_validator("workorders_webhook_secrets")
    @classmethod
    def _webhook_secrets(cls, value: str) -> str:
        parse_secrets(value)  # ValueError without the secret: a malformed one stops start-up
        return value
