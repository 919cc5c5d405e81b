"""Rules for the rendered deploy/k8s/ manifests, each a function returning the problems it finds.

The schema rule asks the Kubernetes API's own JSON schemas (the `kubernetes-validate` package, strict:
an unknown field is an error) for the oldest and the newest Kubernetes this base claims. The other
rules hold the manifests to the app, read from the places that decide it rather than typed twice:
setting names from the settings contract, probe paths from the app's route table, the uid, Python
and virtual environment from the Dockerfile, the code tables from backends/, the drain from the
deadline settings.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import kubernetes_validate
from pydantic_settings import BaseSettings

from backends.registry import BACKENDS
from gateway.settings import Settings
from gateway.settings.component import ENV_PREFIX
from tests.deploy.dockerfile import Stage
from tests.deploy.dockerfile_rules import ROOT, listening_port
from tests.deploy.k8s_objects import bff, decoded, deployment, environment, named, of_kind, pod, settings
from tests.deploy.kustomize import Object, containers, split_image
from tests.gateway.settings_contract import VARIABLES

K8S = ROOT / "deploy" / "k8s"
# The oldest Kubernetes the manifests claim to fit, and the newest the schemas know.
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.latest_version())
PLACEHOLDER = "CHANGE-ME"
IMAGE = "tidegate-bff"
LIVENESS, READINESS = "/healthz", "/readyz"
# What a replica still does after SIGTERM besides finishing requests: each cache refresh in flight
# ends within its backend's timeout and retries; with tracing on, the batch span processor exports
# what is queued within its export timeout (OTel's default, OTEL_BSP_EXPORT_TIMEOUT: 30 s).
SPAN_EXPORT_TIMEOUT_S = 30.0
# Settings that may carry a credential besides those marked `repr=False`: the Redis URLs (a password)
# and the local issuer's registered clients (their secrets).
CREDENTIAL_URLS = frozenset({"TIDEGATE_REDIS_URL", "TIDEGATE_AUDIT_REDIS_URL", "TIDEGATE_CLIENTS"})


@dataclass(frozen=True)
class App:
    """What the manifests must agree with: the image's stage and the app's routes."""

    bff: Stage  # the Dockerfile's bff stage
    routes: frozenset[str]  # paths answering GET


Rule = Callable[[list[Object], App], list[str]]


def secret_settings() -> frozenset[str]:
    """Every variable whose value is a key or a password: fields hidden from `repr`, and the URLs."""
    found = set(CREDENTIAL_URLS)
    for component in Settings.model_fields.values():
        kind = component.annotation
        assert isinstance(kind, type) and issubclass(kind, BaseSettings)
        prefix = str(kind.model_config.get("env_prefix", ENV_PREFIX))
        found |= {f"{prefix}{name}".upper() for name, info in kind.model_fields.items() if not info.repr}
    return frozenset(found)


def schemas(objects: list[Object], _app: App) -> list[str]:
    problems = []
    for version in KUBERNETES_VERSIONS:
        for obj in objects:
            where = f"{obj.get('kind')} {obj.get('metadata', {}).get('name')} (Kubernetes {version})"
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = ".".join(str(p) for p in error.path)
                problems.append(f"{where}: {path}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError as error:
                problems.append(f"{where}: {error.message}")
    return problems


def references(objects: list[Object], _app: App) -> list[str]:
    """Every ConfigMap and Secret the pod names is in the render."""
    problems = []
    spec = pod(objects)
    for container in containers(deployment(objects)):
        for source in container.get("envFrom") or []:
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if (ref := source.get(key)) and named(objects, kind, ref["name"]) is None:
                    problems.append(
                        f"{container['name']} takes its environment from a missing {kind} {ref['name']}"
                    )
    for volume in spec.get("volumes") or []:
        if (ref := volume.get("configMap")) and named(objects, "ConfigMap", ref["name"]) is None:
            problems.append(f"volume {volume['name']} mounts a missing ConfigMap {ref['name']}")
        if (ref := volume.get("secret")) and named(objects, "Secret", ref["secretName"]) is None:
            problems.append(f"volume {volume['name']} mounts a missing Secret {ref['secretName']}")
    return problems


def setting_names(objects: list[Object], _app: App) -> list[str]:
    """Only real TIDEGATE_* names, keys only in Secrets, the whole set valid as Settings."""
    problems = []
    hidden = secret_settings()
    for kind in ("ConfigMap", "Secret"):
        for obj in of_kind(objects, kind):
            keys = set(obj.get("data") or {}) | set(obj.get("stringData") or {})
            if not any(k.startswith(ENV_PREFIX) for k in keys):
                continue  # not settings (the code tables)
            name = obj["metadata"]["name"]
            problems += [f"{kind} {name}: {k} is not a setting" for k in sorted(keys - set(VARIABLES))]
            if kind == "ConfigMap":
                problems += [
                    f"ConfigMap {name}: {k} is a secret, keep it in a Secret" for k in sorted(keys & hidden)
                ]
    for env in bff(objects).get("env") or []:
        if env["name"].startswith(ENV_PREFIX) and env["name"] not in VARIABLES:
            problems.append(f"env {env['name']} is not a setting")
        if env["name"] in hidden and "value" in env:
            problems.append(f"env {env['name']} is a secret written into the Deployment")
    try:
        settings(objects)
    except ValueError as error:
        problems.append(f"the environment is not valid Settings: {error}")
    return problems


def placeholders(objects: list[Object], _app: App) -> list[str]:
    """No real key in the repository: every Secret value is a marked placeholder."""
    return [
        f"Secret {s['metadata']['name']}: {key} is not a {PLACEHOLDER} placeholder"
        for s in of_kind(objects, "Secret")
        for key, value in decoded(s).items()
        if PLACEHOLDER not in value
    ]


def _port(container: Object, port: object) -> int | None:
    """A probe's or Service's port (a number or a container port's name) as the container's number."""
    for declared in container.get("ports") or []:
        if port in (declared["containerPort"], declared.get("name")):
            return int(declared["containerPort"])
    return None


def ports(objects: list[Object], app: App) -> list[str]:
    """The container listens where the settings say, on all interfaces, and the Service reaches it."""
    problems = []
    env, container = environment(objects), bff(objects)
    listens = int(env.get("TIDEGATE_PORT") or listening_port(app.bff))
    host = env.get("TIDEGATE_HOST") or app.bff.env().get("TIDEGATE_HOST")
    if host != "0.0.0.0":
        problems.append(f"TIDEGATE_HOST is {host}: the kubelet's probes and the Service cannot reach it")
    if listens not in [p["containerPort"] for p in container.get("ports") or []]:
        problems.append(f"the BFF listens on {listens}, which is not a containerPort")
    if pod(objects).get("enableServiceLinks") is not False:
        problems.append(
            "enableServiceLinks is not false: a Service named tidegate sets TIDEGATE_PORT=tcp://..."
        )
    for service in of_kind(objects, "Service"):
        if service["spec"].get("type") == "ExternalName":
            continue
        for port in service["spec"].get("ports") or []:
            if _port(container, port.get("targetPort", port["port"])) != listens:
                problems.append(
                    f"Service {service['metadata']['name']} targets {port.get('targetPort')}, not {listens}"
                )
    return problems


def probes(objects: list[Object], app: App) -> list[str]:
    """Readiness asks /readyz, liveness (and start-up) /healthz: routes of the app, on its port."""
    problems = []
    container = bff(objects)
    expected = {"readinessProbe": READINESS, "livenessProbe": LIVENESS, "startupProbe": LIVENESS}
    for probe, path in expected.items():
        spec = container.get(probe)
        if spec is None:
            if probe != "startupProbe":
                problems.append(f"no {probe}")
            continue
        get = spec.get("httpGet") or {}
        if get.get("path") != path:
            problems.append(f"{probe} asks {get.get('path')}, not {path}")
        if get.get("path") not in app.routes:
            problems.append(f"{probe} asks {get.get('path')}, which the app does not serve")
        if _port(container, get.get("port")) is None:
            problems.append(f"{probe} asks port {get.get('port')}, which the container does not declare")
    readiness = container.get("readinessProbe") or {}
    ping_s = settings(objects).observability.readyz_redis_timeout_ms / 1000
    if readiness.get("timeoutSeconds", 1) <= ping_s:
        problems.append(f"the readiness timeout is not longer than /readyz's Redis PING ({ping_s} s)")
    return problems


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def selectors(objects: list[Object], _app: App) -> list[str]:
    """The Service, PDB and HPA all find the Deployment's pods."""
    problems = []
    workload = deployment(objects)
    labels = workload["spec"]["template"]["metadata"].get("labels") or {}
    match = workload["spec"]["selector"].get("matchLabels") or {}
    if not _selects(match, labels):
        problems.append("the Deployment's selector does not match its own pods")
    for service in of_kind(objects, "Service"):
        if service["spec"].get("type") != "ExternalName" and not _selects(
            service["spec"].get("selector"), labels
        ):
            problems.append(f"Service {service['metadata']['name']} selects no BFF pod")
    for budget in of_kind(objects, "PodDisruptionBudget"):
        if (budget["spec"]["selector"].get("matchLabels") or {}) != match:
            problems.append(
                f"PodDisruptionBudget {budget['metadata']['name']} selects other pods than the Deployment"
            )
    return problems


def scaling(objects: list[Object], _app: App) -> list[str]:
    """An autoscaling/v2 HPA on CPU owns this Deployment's replica count; the PDB lets a drain through."""
    problems = []
    workload = deployment(objects)
    hpas = of_kind(objects, "HorizontalPodAutoscaler")
    if len(hpas) != 1:
        return [f"expected one HorizontalPodAutoscaler, found {len(hpas)}"]
    hpa = hpas[0]
    target = hpa["spec"]["scaleTargetRef"]
    wanted = {"apiVersion": "apps/v1", "kind": "Deployment", "name": workload["metadata"]["name"]}
    if {k: target.get(k) for k in wanted} != wanted:
        problems.append(f"the HPA scales {target}, not the Deployment")
    if hpa["apiVersion"] != "autoscaling/v2":
        problems.append(f"the HPA is {hpa['apiVersion']}, not autoscaling/v2")
    cpu = [m for m in hpa["spec"].get("metrics") or [] if (m.get("resource") or {}).get("name") == "cpu"]
    if not cpu:
        problems.append("the HPA does not scale on CPU")
    if not ((bff(objects).get("resources") or {}).get("requests") or {}).get("cpu"):
        problems.append("no CPU request: the HPA's utilization has nothing to divide by")
    if "replicas" in workload["spec"]:
        problems.append("the Deployment sets replicas: every apply would undo the HPA")
    least = hpa["spec"].get("minReplicas", 1)
    floor = settings(objects).redis.replicas
    if floor > least:
        problems.append(
            f"TIDEGATE_REPLICAS={floor} is above the HPA's minReplicas {least}: billing's budget unused"
        )
    budgets = of_kind(objects, "PodDisruptionBudget")
    if len(budgets) != 1:
        problems.append(f"expected one PodDisruptionBudget, found {len(budgets)}")
    elif budgets[0]["spec"].get("minAvailable", 0) >= least or least < 2:
        problems.append(f"with {least} replicas at least, the PodDisruptionBudget blocks every node drain")
    return problems


def fleet(objects: list[Object], _app: App) -> list[str]:
    """Several replicas share one Redis (the external Service) and one cache key."""
    problems = []
    env = environment(objects)
    for variable in ("TIDEGATE_REDIS_URL", "TIDEGATE_AUDIT_REDIS_URL"):
        if variable not in env:
            if variable == "TIDEGATE_REDIS_URL":
                problems.append("no TIDEGATE_REDIS_URL: more than one replica refuses to start without Redis")
            continue
        url = urlsplit(env[variable])
        service = named(objects, "Service", url.hostname or "")
        if url.scheme not in ("redis", "rediss"):
            problems.append(f"{variable} is not a redis:// or rediss:// URL")
        if service is None or service["spec"].get("type") != "ExternalName":
            problems.append(f"{variable} names {url.hostname}, not the ExternalName Service for Redis")
        elif (url.port or 6379) not in [p["port"] for p in service["spec"].get("ports") or []]:
            problems.append(f"{variable} asks port {url.port or 6379}, which the Redis Service does not name")
    if not env.get("TIDEGATE_CACHE_KEY"):
        problems.append("no TIDEGATE_CACHE_KEY: each replica would seal the shared cache with its own key")
    if int(env.get("TIDEGATE_WORKERS", "1")) != 1:
        problems.append("TIDEGATE_WORKERS is not 1: the HPA adds pods, and CPU is requested for one process")
    return problems


def _pre_stop_s(container: Object) -> float:
    """Seconds a preStop hook holds the pod before SIGTERM (`sleep N`, or the sleep action)."""
    hook = (container.get("lifecycle") or {}).get("preStop") or {}
    if sleep := hook.get("sleep"):
        return float(sleep["seconds"])
    command = (hook.get("exec") or {}).get("command") or []
    return float(command[1]) if command[:1] == ["sleep"] and len(command) == 2 else 0.0


def drain_bound_s(config: Settings) -> float:
    """How long a replica may still work once its socket has closed: the longest request's deadline,
    or uvicorn's drain limit (TIDEGATE_SHUTDOWN_TIMEOUT_S) if shorter, then the lifespan's shutdown
    (cache refreshes within their backend's timeout and retries, spans exported)."""
    deadline_s = max(
        *config.budgets().values(),
        config.live.phone_search_budget_ms / 1000,
        config.live.screen_pop_prefetch_budget_ms / 1000,
        config.auth.jwks_timeout_s,
    )
    request_s = min(deadline_s, config.serving.shutdown_timeout_s)
    attempts = config.resilience.retry_max_attempts if config.resilience.retries else 1
    refresh_s = max(config.backend(name).timeout_s for name in BACKENDS) * attempts
    export_s = SPAN_EXPORT_TIMEOUT_S if config.observability.tracing_exporter != "none" else 0.0
    return request_s + refresh_s + export_s


def termination(objects: list[Object], _app: App) -> list[str]:
    """A stopping replica says not_ready and keeps serving until the readiness probe has seen it
    (TIDEGATE_DRAIN_DELAY_S, or a preStop pause), and the grace period covers that and the drain."""
    spec, container = pod(objects), bff(objects)
    config = settings(objects)
    grace = spec.get("terminationGracePeriodSeconds", 30)
    serving_s = _pre_stop_s(container) + config.serving.drain_delay_s
    readiness = container.get("readinessProbe") or {}
    noticed_s = readiness.get("periodSeconds", 10) * readiness.get("failureThreshold", 3)
    needed = serving_s + drain_bound_s(config)
    problems = []
    if serving_s < noticed_s:
        problems.append(
            f"the replica closes its socket {serving_s:.0f} s after SIGTERM, before the readiness probe "
            f"can see it not ready ({noticed_s} s): raise TIDEGATE_DRAIN_DELAY_S"
        )
    if grace <= needed:
        problems.append(
            f"terminationGracePeriodSeconds {grace} is not longer than the wait and drain ({needed:.1f} s)"
        )
    return problems


def _python(stage: Stage) -> str:
    match = re.search(r"python:(\d+\.\d+)\.", stage.base)
    assert match, stage.base
    return match.group(1)


def _venv(stage: Stage) -> str:
    for source, paths in stage.copied_from():
        if source == "builder" and paths:
            return paths[0]
    raise AssertionError("the bff stage copies no virtual environment from the builder")


def code_tables(objects: list[Object], app: App) -> list[str]:
    """Each backend's codes.yaml is mounted, as the repository has it, where the image's package has it."""
    problems = []
    spec, container = pod(objects), bff(objects)
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    site = PurePosixPath(_venv(app.bff)) / "lib" / f"python{_python(app.bff)}" / "site-packages"
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts") or []}
    for backend in BACKENDS:
        repo_file = ROOT / "backends" / backend / "codes.yaml"
        path = str(site / repo_file.relative_to(ROOT).as_posix())
        mount = mounts.get(path)
        if mount is None:
            problems.append(f"{backend}'s code tables are not mounted at {path}")
            continue
        source = (volumes.get(mount["name"]) or {}).get("configMap") or {}
        config = named(objects, "ConfigMap", source.get("name", ""))
        data = ((config or {}).get("data") or {}).get(mount.get("subPath", ""))
        if data is None:
            problems.append(f"{backend}'s mount names no file of a ConfigMap ({mount.get('subPath')})")
        elif data != repo_file.read_text(encoding="utf-8"):
            problems.append(
                f"{backend}'s code tables differ from {repo_file.relative_to(ROOT)}: copy it into "
                f"{(K8S / 'base' / 'code-tables').relative_to(ROOT)}/"
            )
        if not mount.get("readOnly"):
            problems.append(f"{backend}'s code tables are mounted writable")
    return problems


def _writable(spec: Object, container: Object) -> list[PurePosixPath]:
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    return [
        PurePosixPath(m["mountPath"])
        for m in container.get("volumeMounts") or []
        if not m.get("readOnly") and {"emptyDir", "persistentVolumeClaim"} & set(volumes.get(m["name"], {}))
    ]


def security(objects: list[Object], app: App) -> list[str]:
    """Non-root as the image's user, nothing to escalate, a read-only root with the app's writes mounted."""
    problems = []
    spec, container = pod(objects), bff(objects)
    pod_context, context = spec.get("securityContext") or {}, container.get("securityContext") or {}
    user_line, workdir_line = app.bff.last("USER"), app.bff.last("WORKDIR")
    user = user_line.args.split(":")[0] if user_line else "0"
    if not (pod_context.get("runAsNonRoot") or context.get("runAsNonRoot")):
        problems.append("runAsNonRoot is not set")
    if str(context.get("runAsUser", pod_context.get("runAsUser"))) != user:
        problems.append(f"runAsUser is not the image's user {user}")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    seccomp = context.get("seccompProfile") or pod_context.get("seccompProfile") or {}
    if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
        problems.append("no seccomp profile (PodSecurity's restricted level asks for RuntimeDefault)")
    if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
        problems.append("capabilities are not all dropped")
    if spec.get("automountServiceAccountToken") is not False:
        problems.append("the service account token is mounted: the BFF never calls the Kubernetes API")
    if context.get("readOnlyRootFilesystem"):
        workdir = PurePosixPath(workdir_line.args if workdir_line else "/")
        config = settings(objects)
        writes = {
            "the audit file's fallback": workdir / config.observability.audit_path,
            "temporary files": PurePosixPath("/tmp"),
        }
        if config.auth.local_issuer:
            writes["the local issuer's key"] = workdir / str(config.auth.local_issuer_key_path)
        writable = _writable(spec, container)
        for what, path in writes.items():
            if not any(path.is_relative_to(w) for w in writable):
                problems.append(f"{what} ({path}) is on the read-only root filesystem")
    return problems


def image(objects: list[Object], _app: App) -> list[str]:
    """The Dockerfile's BFF image at the project's version (or pinned by digest), never `latest`."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    reference = str(bff(objects).get("image", ""))
    name, suffix = split_image(reference)
    if PurePosixPath(name).name != IMAGE or (suffix != f":{version}" and not suffix.startswith("@sha256:")):
        return [f"the image is {reference}, not {IMAGE}:{version} (the Dockerfile's bff stage)"]
    return []


RULES: tuple[Rule, ...] = (
    schemas,
    references,
    setting_names,
    placeholders,
    ports,
    probes,
    selectors,
    scaling,
    fleet,
    termination,
    code_tables,
    security,
    image,
)


def problems(objects: list[Object], app: App) -> list[str]:
    return [f"{rule.__name__}: {p}" for rule in RULES for p in rule(objects, app)]
