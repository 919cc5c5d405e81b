"""Bad settings as one line each, checked before anything starts: `load_settings` and `BadSettings`.

    tidegate: TIDEGATE_CACHE_KEY=<hidden, 5 characters>: expected base64 of 32 random bytes; e.g. ...

Every line names the variable (or the command-line flag that set it), shows the value given (masked
when it is a secret: `repr=False` fields and the clients' JSON; a URL's password always), says what is
wrong, and gives a value that would do: from `EXAMPLES`, else the setting's own default. `tidegate
serve`, `demo`, `token` and `cti`, and each worker's `app_from_environment`, build their settings
through `load_settings` and exit 2 with these lines, never with a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import SettingsError

from gateway.settings.component import ENV_PREFIX
from gateway.settings.composed import Settings, flat_prefix

# Good values where the default is no example (unset, empty, or a secret).
EXAMPLES: dict[str, str] = {
    "TIDEGATE_REDIS_URL": "redis://127.0.0.1:6379/0",
    "TIDEGATE_AUDIT_REDIS_URL": "redis://127.0.0.1:6379/0",
    "TIDEGATE_CACHE_KEY": "$(openssl rand -base64 32)",
    "TIDEGATE_JWKS_URL": "https://idp.example.com/.well-known/jwks.json",
    "TIDEGATE_METRICS_TOKEN": "$(openssl rand -hex 24)",
    "TIDEGATE_CTI_SECRETS": "$(openssl rand -hex 32)",
    "TIDEGATE_WORKORDERS_WEBHOOK_SECRETS": "whsec_$(openssl rand -base64 32)",
    "TIDEGATE_CLIENTS": """'{"workbench": {"secret": "at-least-8-chars", "role": "agent"}}'""",
    "TIDEGATE_PERSISTED_FREE_FORM_CLIENTS": "router",
}
SECRETS = frozenset({"TIDEGATE_CLIENTS"})  # besides every `repr=False` field
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_SHOWN_CHARS = 80


class BadSettings(ValueError):
    """Settings that fail validation; `lines` holds one `tidegate: ...` line per bad value."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def fields() -> dict[str, tuple[str, FieldInfo]]:
    """Every setting's keyword (flat) name -> (its `TIDEGATE_*` variable, its field)."""
    found: dict[str, tuple[str, FieldInfo]] = {}
    for info in Settings.model_fields.values():
        component = info.annotation
        assert isinstance(component, type), info
        prefix = flat_prefix(component)
        for name, field in component.model_fields.items():
            found[prefix + name] = (f"{ENV_PREFIX}{prefix}{name}".upper(), field)
    return found


def load_settings(
    overrides: Mapping[str, Any] | None = None, *, flags: Mapping[str, str] | None = None
) -> Settings:
    """`Settings(**overrides)` from the environment, or `BadSettings` with one line per bad value.
    `flags` names the command-line flag behind an override (`{"port": "--port"}`) for its line."""
    try:
        return Settings(**(overrides or {}))
    except ValidationError as error:
        raise BadSettings(problem_lines(error, flags or {})) from None
    except SettingsError as error:  # a value pydantic-settings could not even decode
        raise BadSettings([f"tidegate: bad settings: {error}"]) from None


def problem_lines(
    error: ValidationError, flags: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> list[str]:
    environ = os.environ if environ is None else environ
    known = fields()
    lines: list[str] = []
    for detail in error.errors():
        flat = str(detail["loc"][0]) if detail["loc"] else ""
        variable, info = known.get(flat, (f"{ENV_PREFIX}{flat}".upper(), None))
        problem = _problem(detail["msg"], detail["loc"][1:])
        good = example(variable, info)
        if flat in flags:
            given, name, sep = detail["input"], flags[flat], " "
        else:
            given, name, sep = _environ_value(environ, variable, detail["input"]), variable, "="
        shown = _shown(given, secret=variable in SECRETS or (info is not None and info.repr is False))
        line = f"tidegate: {name}{sep}{shown}: {problem}"
        if good is not None:
            line += f"; e.g. {name}{sep}{good}"
        lines.append(line)
    return list(dict.fromkeys(lines))


def example(variable: str, info: FieldInfo | None) -> str | None:
    """A value that passes: the curated example, else the default as a variable would spell it."""
    if variable in EXAMPLES:
        return EXAMPLES[variable]
    if info is None or info.default_factory is not None or info.default in (None, ""):
        return None
    default = info.default
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, tuple):
        return ",".join(map(str, default))
    if isinstance(default, Path):
        return str(default)
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def _environ_value(environ: Mapping[str, str], variable: str, fallback: object) -> object:
    """The text as set (variable names are case-insensitive, as pydantic-settings reads them)."""
    for name, value in environ.items():
        if name.upper() == variable:
            return value
    return fallback


def _shown(value: object, *, secret: bool) -> str:
    text = value if isinstance(value, str) else repr(value)
    if secret:
        return f"<hidden, {len(text)} characters>"
    text = _URL_PASSWORD.sub(r"\1***@", text)
    if not text or not text.isprintable() or " " in text:
        text = repr(text)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _problem(message: str, where: tuple[int | str, ...]) -> str:
    """pydantic's message as a clause: `Value error, x` -> `x`, lower case first, and where in a JSON
    value it applies (`clients.workbench.secret`)."""
    message = message.removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    return f"{'.'.join(map(str, where))}: {message}" if where else message
