"""Rules for deploy/compose.yaml, each a function returning the problems it finds.

What one `docker compose up` needs to work, read from the places that decide it rather than typed
twice: the BFF's variables are fields of `Settings`, its backend URLs name the simulator services on
`DEFAULT_PORTS`, published ports are the defaults `make demo` uses (bound to 127.0.0.1), images are
pinned, the BFF waits for healthy dependencies, and the work-order simulator signs its webhooks with
the secret the BFF checks. Values are read as a fresh `docker compose up` would see them: every
`${NAME:-default}` at its default.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings

from gateway.demo_secrets import DEMO_CTI_SECRET, DEMO_WEBHOOK_SECRET
from gateway.live.webhook_signature import parse_secrets
from gateway.settings import ServingSettings, Settings
from infra.sealed import Sealer
from simulators.kit.options import DEFAULT_PORTS, SERVICES
from tests.deploy.dockerfile import Dockerfile
from tests.deploy.dockerfile_rules import ROOT, image_problems, listening_port

COMPOSE = ROOT / "deploy" / "compose.yaml"
EXPECTED_SERVICES = {"bff", "redis", *SERVICES}
LOOPBACK = "127.0.0.1"
REDIS_PORT = 6379
_DEFAULTED = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")

Compose = dict[str, Any]
Rule = Callable[[Compose, Dockerfile], list[str]]


def interpolate(value: Any) -> Any:
    """Compose's `${NAME:-default}` at its default (unset variables: empty), `$$` as `$`."""
    if isinstance(value, str):
        return _DEFAULTED.sub(lambda m: m.group(2) or "", value).replace("$$", "$")
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    return value


def services(compose: Compose) -> dict[str, dict[str, Any]]:
    found = compose.get("services") or {}
    return found if isinstance(found, dict) else {}


def bff_env(compose: Compose) -> dict[str, str]:
    env = services(compose).get("bff", {}).get("environment") or {}
    if isinstance(env, list):  # the `- NAME=value` form
        env = dict(item.partition("=")[::2] for item in env)
    return {str(k): str(v) for k, v in env.items()}


def settings_fields() -> dict[str, tuple[str, str]]:
    """`TIDEGATE_<FIELD>` -> (component, field), for every field of the BFF's settings components."""
    found: dict[str, tuple[str, str]] = {}
    for component, info in Settings.model_fields.items():
        kind = info.annotation
        assert isinstance(kind, type) and issubclass(kind, BaseSettings)
        prefix = str(kind.model_config.get("env_prefix", ""))
        found |= {f"{prefix}{name}".upper(): (component, name) for name in kind.model_fields}
    return found


def settings_of(values: dict[tuple[str, str], str]) -> Settings:
    """Settings from these values alone, not the environment too (`model_validate` reads no variable)."""
    components = {}
    for component, info in Settings.model_fields.items():
        kind = info.annotation
        assert isinstance(kind, type) and issubclass(kind, BaseSettings)
        own = {field: value for (name, field), value in values.items() if name == component}
        components[component] = kind.model_validate(own)
    return Settings.model_validate(components)


def service_set(compose: Compose, _dockerfile: Dockerfile) -> list[str]:
    found = set(services(compose))
    problems = []
    if missing := EXPECTED_SERVICES - found:
        problems.append(f"services missing: {sorted(missing)}")
    if extra := found - EXPECTED_SERVICES:
        problems.append(f"services nobody expects: {sorted(extra)}")
    return problems


def settings_env(compose: Compose, _dockerfile: Dockerfile) -> list[str]:
    """Every variable given to the BFF is a Settings field, and together they validate."""
    env, fields = bff_env(compose), settings_fields()
    unknown = sorted(set(env) - set(fields))
    if unknown:
        return [f"the BFF reads no such settings: {unknown}"]
    if not env:
        return ["the BFF gets no TIDEGATE_* settings"]
    values = {fields[name]: value for name, value in env.items()}
    try:
        settings = settings_of(values)
        Sealer.from_setting(settings.cache.cache_key)
        parse_secrets(settings.webhooks.workorders_webhook_secrets)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        return [f"the BFF's settings do not validate: {exc}"]
    return []


def backend_urls(compose: Compose, _dockerfile: Dockerfile) -> list[str]:
    """Each back office is reached at its service's name, on the simulator's default port."""
    env, found = bff_env(compose), services(compose)
    problems = []
    for name in SERVICES:
        variable, expected = f"TIDEGATE_{name.upper()}_URL", f"http://{name}:{DEFAULT_PORTS[name]}"
        if env.get(variable) != expected:
            problems.append(f"{variable} is {env.get(variable)}, not {expected}")
        command = [str(word) for word in found.get(name, {}).get("command") or []]
        if command[:1] != [name]:
            problems.append(f"{name}: the command does not simulate {name}: {command}")
        if _option(command, "--host") != "0.0.0.0":
            problems.append(f"{name}: not started with --host 0.0.0.0 (unreachable from the BFF)")
        port = int(_option(command, "--port") or DEFAULT_PORTS[name])
        if port != DEFAULT_PORTS[name]:
            problems.append(f"{name}: listens on --port {port}, not {DEFAULT_PORTS[name]}")
    return problems


def redis(compose: Compose, _dockerfile: Dockerfile) -> list[str]:
    url = bff_env(compose).get("TIDEGATE_REDIS_URL")
    if url is None:
        return ["the BFF is given no TIDEGATE_REDIS_URL"]
    parts = urlsplit(url)
    image = str(services(compose).get(parts.hostname or "", {}).get("image", ""))
    problems = []
    if not image.startswith("redis:"):
        problems.append(f"TIDEGATE_REDIS_URL {url} does not name the redis service")
    if (parts.port or REDIS_PORT) != REDIS_PORT:
        problems.append(f"TIDEGATE_REDIS_URL {url}: Redis listens on {REDIS_PORT}")
    return problems


def published_ports(compose: Compose, dockerfile: Dockerfile) -> list[str]:
    """Ports bound to 127.0.0.1 only, each published on the port the service listens on by default."""
    env = bff_env(compose)
    bff_port = int(env.get("TIDEGATE_PORT") or listening_port(dockerfile.final))
    default_port = int(ServingSettings.model_fields["port"].default)
    expected = {"bff": (default_port, bff_port), **{n: (p, p) for n, p in DEFAULT_PORTS.items()}}
    problems = []
    for name, service in services(compose).items():
        published = [_port(entry) for entry in service.get("ports") or []]
        for host_ip, _, container_port in published:
            if host_ip != LOOPBACK:
                problems.append(f"{name}: port {container_port} published on {host_ip or 'every interface'}")
        if name in expected and [(p[1], p[2]) for p in published] != [expected[name]]:
            problems.append(f"{name}: publishes {[(p[1], p[2]) for p in published]}, not {[expected[name]]}")
    return problems


def pinned_images(compose: Compose, dockerfile: Dockerfile) -> list[str]:
    """Pulled images name exact releases; built ones name a Dockerfile stage and our version."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    problems = []
    for name, service in services(compose).items():
        image = str(service.get("image", ""))
        build = service.get("build")
        if build is None:
            problems += [f"{name}: {p}" for p in image_problems(image)]
            continue
        if (COMPOSE.parent / build.get("context", ".")).resolve() != ROOT:
            problems.append(f"{name}: builds from {build.get('context')}, not the checkout")
        if build.get("target") not in dockerfile.stage_names():
            problems.append(f"{name}: builds target {build.get('target')}, which the Dockerfile lacks")
        if not image.endswith(f":{version}"):
            problems.append(f"{name}: the built image {image!r} is not tagged with our version {version}")
    return problems


def healthchecks(compose: Compose, dockerfile: Dockerfile) -> list[str]:
    """Every service has one (its own or its image's); a simulator's asks its own port."""
    problems = []
    for name, service in services(compose).items():
        test = [str(word) for word in (service.get("healthcheck") or {}).get("test") or []]
        target = (service.get("build") or {}).get("target")
        stage = dockerfile.stage(target) if target else None
        if not test or test[0] == "NONE":
            if stage is None or stage.last("HEALTHCHECK") is None:
                problems.append(f"{name}: no healthcheck")
        elif name in DEFAULT_PORTS and f"{LOOPBACK}:{DEFAULT_PORTS[name]}/_sim/health" not in " ".join(test):
            problems.append(f"{name}: the healthcheck does not ask its own /_sim/health")
    return problems


def startup_order(compose: Compose, _dockerfile: Dockerfile) -> list[str]:
    """The BFF starts once Redis and every back office answer their healthchecks."""
    depends = services(compose).get("bff", {}).get("depends_on") or {}
    if not isinstance(depends, dict):  # the list form waits for nothing but the start
        depends = {}
    waits = {name for name, c in depends.items() if (c or {}).get("condition") == "service_healthy"}
    missing = sorted(EXPECTED_SERVICES - {"bff"} - waits)
    return [f"the BFF does not wait for a healthy {missing}"] if missing else []


def webhooks(compose: Compose, dockerfile: Dockerfile) -> list[str]:
    """The work-order simulator posts to the BFF's webhook, signed with the secret the BFF checks;
    the trial's secrets are the demo's, so `tidegate cti` and the README's examples work unchanged."""
    env = bff_env(compose)
    command = [str(w) for w in services(compose).get("workorders", {}).get("command") or []]
    port = int(env.get("TIDEGATE_PORT") or listening_port(dockerfile.final))
    problems = []
    if _option(command, "--webhook-url") != f"http://bff:{port}/webhooks/workorders":
        problems.append(f"workorders posts to {_option(command, '--webhook-url')}, not the BFF's webhook")
    if _option(command, "--webhook-secret") != env.get("TIDEGATE_WORKORDERS_WEBHOOK_SECRETS"):
        problems.append("workorders signs with a secret the BFF does not check")
    if env.get("TIDEGATE_WORKORDERS_WEBHOOK_SECRETS") != DEMO_WEBHOOK_SECRET:
        problems.append("the trial's webhook secret is not the demo's (gateway/demo_secrets.py)")
    if env.get("TIDEGATE_CTI_SECRETS") != DEMO_CTI_SECRET:
        problems.append("the trial's CTI secret is not the demo's, which `tidegate cti` signs with")
    return problems


RULES: dict[str, Rule] = {
    "service_set": service_set,
    "settings_env": settings_env,
    "backend_urls": backend_urls,
    "redis": redis,
    "published_ports": published_ports,
    "pinned_images": pinned_images,
    "healthchecks": healthchecks,
    "startup_order": startup_order,
    "webhooks": webhooks,
}


def problems(compose: Compose, dockerfile: Dockerfile) -> list[str]:
    resolved = interpolate(compose)
    return [f"{name}: {p}" for name, rule in RULES.items() for p in rule(resolved, dockerfile)]


def _option(argv: list[str], name: str) -> str | None:
    return next((argv[i + 1] for i, word in enumerate(argv[:-1]) if word == name), None)


def _port(entry: object) -> tuple[str, int, int]:
    """`[IP:]HOST:CONTAINER` (short syntax) or the long syntax's mapping, as (ip, host, container)."""
    if isinstance(entry, dict):
        return str(entry.get("host_ip", "")), int(entry.get("published", 0)), int(entry["target"])
    parts = str(entry).split("/")[0].split(":")
    if len(parts) == 1:
        return "", 0, int(parts[0])
    ip = parts[0] if len(parts) == 3 else ""
    return ip, int(parts[-2]), int(parts[-1])
