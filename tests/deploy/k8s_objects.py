"""A rendered kustomization read as the kubelet would: the Deployment, its BFF container, the
variables it starts with, and the settings those make."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager

from gateway.demo_secrets import DEMO_CTI_SECRET, DEMO_WEBHOOK_SECRET
from gateway.settings import Settings
from gateway.settings.component import ENV_PREFIX
from tests.deploy.kustomize import Object, containers
from tests.gateway.settings_contract import VARIABLES

PLACEHOLDER = "CHANGE-ME"  # every value of the committed Secret holds it (k8s_rules.placeholders)
# Values of the format a placeholder stands for, where the settings check the format.
STAND_INS = {
    "TIDEGATE_CACHE_KEY": base64.b64encode(bytes(range(32))).decode(),
    "TIDEGATE_CTI_SECRETS": DEMO_CTI_SECRET,
    "TIDEGATE_WORKORDERS_WEBHOOK_SECRETS": DEMO_WEBHOOK_SECRET,
}


def of_kind(objects: list[Object], kind: str) -> list[Object]:
    return [o for o in objects if o.get("kind") == kind]


def named(objects: list[Object], kind: str, name: str) -> Object | None:
    return next((o for o in of_kind(objects, kind) if o["metadata"]["name"] == name), None)


def deployment(objects: list[Object]) -> Object:
    found = of_kind(objects, "Deployment")
    assert len(found) == 1, f"expected one Deployment, found {len(found)}"
    return found[0]


def pod(objects: list[Object]) -> Object:
    spec: Object = deployment(objects)["spec"]["template"]["spec"]
    return spec


def bff(objects: list[Object]) -> Object:
    return next(iter(containers(deployment(objects))))


def decoded(secret: Object) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()} | dict(
        secret.get("stringData") or {}
    )


def environment(objects: list[Object]) -> dict[str, str]:
    """The BFF container's variables as the kubelet sets them: envFrom in order, then env."""
    env: dict[str, str] = {}
    for source in bff(objects).get("envFrom") or []:
        if ref := source.get("configMapRef"):
            config = named(objects, "ConfigMap", ref["name"])
            env |= (config or {}).get("data") or {}
        if ref := source.get("secretRef"):
            secret = named(objects, "Secret", ref["name"])
            env |= decoded(secret) if secret else {}
    env |= {e["name"]: e["value"] for e in bff(objects).get("env") or [] if "value" in e}
    return env


@contextmanager
def _no_settings_in_process() -> Iterator[None]:
    """The test process's own TIDEGATE_* variables (the suite sets some) hidden while settings are read."""
    saved = {k: os.environ.pop(k) for k in [k for k in os.environ if k.startswith(ENV_PREFIX)]}
    try:
        yield
    finally:
        os.environ.update(saved)


def settings(objects: list[Object], *, placeholders: bool = False) -> Settings:
    """The settings a replica starts with: the manifests' variables, the rest at their defaults. The
    Secret's `CHANGE-ME` placeholders stop start-up (the settings refuse them: issue 20), so they are
    read as a stand-in of the right format (the demo's), unless `placeholders`: as committed."""
    env = environment(objects)
    if not placeholders:
        env |= {k: STAND_INS[k] for k, v in env.items() if k in STAND_INS and v == PLACEHOLDER}
    with _no_settings_in_process():
        return Settings(**{k.removeprefix(ENV_PREFIX).lower(): v for k, v in env.items() if k in VARIABLES})
