"""Run-time knobs over HTTP, the same on every simulator: `/_sim/faults`, and a product's own
(`/_sim/webhooks`, `/_sim/crew`).

GET shows the settings; PUT replaces them all (unset ones back to defaults), PATCH and POST change the
ones given; a body that is not a JSON object is 400, invalid settings 422, and neither changes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

M = TypeVar("M", bound=BaseModel)


def knob_routes(
    path: str,
    model: type[M],
    current: Callable[[], M],
    apply: Callable[[M], None],
    show: Callable[[M], dict[str, Any]],
    *,
    what: str,
) -> list[Route]:
    """GET and PUT/PATCH/POST on `path` for the settings `current()` returns and `apply` installs;
    `show` is how they are displayed (secrets masked), `what` names them in errors."""

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
            return JSONResponse({"error": f"invalid {what} settings", "details": errors}, status_code=422)
        apply(config)
        return JSONResponse(show(config))

    return [
        Route(path, get, methods=["GET"]),
        Route(path, put, methods=["PUT", "PATCH", "POST"]),
    ]
