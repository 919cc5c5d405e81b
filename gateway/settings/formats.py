"""Formats of the string settings that used to fail only once the server was starting: checked by the
settings fields themselves (`field_validator`s call these), so a bad value stops `tidegate serve`
before anything is built, with the variable named (`gateway.settings.problems`).

Each returns the value (normalised) or raises `ValueError` with what a good value looks like; none
repeats the value (it may be a secret: the caller shows it, masked when it is one).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
SEALING_KEY_BYTES = 32


def http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return value


def redis_url(value: str | None) -> str | None:
    """A URL redis-py opens (`redis://`, `rediss://` with TLS, `unix://`); empty reads as unset."""
    if not value:
        return None
    if not value.startswith(REDIS_SCHEMES):
        raise ValueError(f"expected a URL starting with {', '.join(REDIS_SCHEMES)}")
    return value


def sealing_key(value: str | None) -> str | None:
    """Base64 (standard or url-safe, padding optional) of 32 bytes, as `infra.sealed.Sealer` reads it."""
    if not value:
        return None
    try:
        key = base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "==")
    except (binascii.Error, ValueError):
        raise ValueError(f"expected base64 of {SEALING_KEY_BYTES} random bytes") from None
    if len(key) != SEALING_KEY_BYTES:
        raise ValueError(f"expected base64 of {SEALING_KEY_BYTES} random bytes, got {len(key)} bytes")
    return value


def json_object(value: Any) -> Any:
    """A JSON object given as text (an environment variable) parsed; anything else passed on."""
    if not isinstance(value, str | bytes):
        return value
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed
