"""`/_sim/webhooks` and `/_sim/crew`: the work-order system's own knobs, in the style of `/_sim/faults`.

GET shows the settings (secrets masked); PUT replaces them all (unset ones back to defaults), PATCH
and POST change the ones given; invalid settings get 422 and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

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


def _knob_routes(
    path: str,
    model: type[M],
    current: Callable[[], M],
    apply: Callable[[M], None],
    show: Callable[[M], dict[str, Any]],
) -> list[Route]:
    async def get(_: Request) -> JSONResponse:
        return JSONResponse(show(current()))

    async def put(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body must be JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        merged = body if request.method == "PUT" else {**current().model_dump(), **body}
        try:
            config = model.model_validate(merged)
        except ValidationError as exc:
            errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
            return JSONResponse({"error": f"invalid {path} settings", "details": errors}, status_code=422)
        apply(config)
        return JSONResponse(show(config))

    return [
        Route(path, get, methods=["GET"]),
        Route(path, put, methods=["PUT", "PATCH", "POST"]),
    ]


def admin_routes(webhooks: Webhooks, crew: FieldCrew) -> list[Route]:
    return [
        *_knob_routes(
            "/_sim/webhooks", WebhookConfig, webhooks.current, webhooks.replace, WebhookConfig.public
        ),
        *_knob_routes("/_sim/crew", CrewConfig, lambda: crew.config, crew.reconfigure, CrewConfig.model_dump),
    ]
