"""`/_sim/webhooks` and `/_sim/crew`: the work-order system's own knobs, served like `/_sim/faults`
(`simulators.kit.knobs`; the webhook secrets shown masked)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel
from starlette.routing import Route

from simulators.kit.knobs import knob_routes
from simulators.workorders.crew import CrewConfig, FieldCrew
from simulators.workorders.webhook_config import WebhookConfig

M = TypeVar("M", bound=BaseModel)


class Webhooks:
    """The subscription, shared by the outbox (what to queue) and the sender (where, how)."""

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.listeners: list[Callable[[], None]] = []  # told after every change (the sender wakes up)

    def current(self) -> WebhookConfig:
        return self.config

    def replace(self, config: WebhookConfig) -> None:
        self.config = config
        for listener in self.listeners:
            listener()


def admin_routes(webhooks: Webhooks, crew: FieldCrew) -> list[Route]:
    return [
        *knob_routes(
            "/_sim/webhooks",
            WebhookConfig,
            webhooks.current,
            webhooks.replace,
            WebhookConfig.public,
            what="/_sim/webhooks",
        ),
        *knob_routes(
            "/_sim/crew",
            CrewConfig,
            lambda: crew.config,
            crew.reconfigure,
            CrewConfig.model_dump,
            what="/_sim/crew",
        ),
    ]
