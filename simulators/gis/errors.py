"""esriJSON error bodies: ArcGIS reports failures inside an HTTP 200 response."""

from __future__ import annotations

from typing import Any

UNABLE = "Unable to complete operation."
INVALID_INPUT = "Invalid or missing input parameters."


class GisError(Exception):
    """A request the service refuses; rendered as `{"error": {...}}`."""

    def __init__(self, details: list[str], message: str = UNABLE, code: int = 400) -> None:
        super().__init__("; ".join(details) or message)
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(code: int, message: str, details: list[str] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": list(details or [])}}


def bad_param(name: str, why: str | None = None) -> GisError:
    """ArcGIS's terse "'x' parameter is invalid", with the reason as a second detail."""
    details = [f"'{name}' parameter is invalid"]
    if why:
        details.append(why)
    return GisError(details)
