"""deploy/k8s/, checked statically: there is no cluster and no kustomize binary here.

The base and the example overlay are rendered in Python (`tests.deploy.kustomize`), every object is
validated against the Kubernetes API's schemas, and the rules in `k8s_rules` hold the manifests to
the app (settings, routes, image, code tables, drain). Every rule also fails on a copy of the
manifests broken the way it exists to catch. docs/kubernetes.md says what this cannot check.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from starlette.routing import Route

from gateway.app import create_app
from gateway.settings import Settings
from tests.deploy import k8s_objects, k8s_rules
from tests.deploy.dockerfile import parse
from tests.deploy.dockerfile_rules import ROOT
from tests.deploy.k8s_rules import K8S, App
from tests.deploy.kustomize import Object, Unsupported, content_hash, merge_patch, render

KUSTOMIZATIONS = ["base", "overlays/example"]
VALID_CACHE_KEY = base64.b64encode(bytes(range(32))).decode()


def real_secrets(objects: list[Object]) -> Settings:
    """The rendered settings with the placeholders swapped for valid keys (the demo's)."""
    return k8s_objects.settings(objects)


@pytest.fixture(scope="module")
def app() -> App:
    """The Dockerfile's bff stage, and the GET routes of the app the base's settings build."""
    built = create_app(real_secrets(render(K8S / "base")))
    routes = frozenset(r.path for r in built.routes if isinstance(r, Route) and "GET" in (r.methods or ()))
    stage = parse((ROOT / "Dockerfile").read_text(encoding="utf-8")).stage("bff")
    assert stage is not None
    return App(bff=stage, routes=routes)


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_the_manifests_pass_every_rule(kustomization: str, app: App) -> None:
    assert k8s_rules.problems(render(K8S / kustomization), app) == []


def test_the_base_holds_the_bff_its_budgets_and_its_external_redis() -> None:
    objects = render(K8S / "base")
    generated = {"ConfigMap", "Secret"}  # named with a hash suffix
    kinds = sorted(
        (
            o["kind"],
            o["metadata"]["name"].rsplit("-", 1)[0] if o["kind"] in generated else o["metadata"]["name"],
        )
        for o in objects
    )
    assert kinds == [
        ("ConfigMap", "tidegate-code-tables"),
        ("ConfigMap", "tidegate-config"),
        ("Deployment", "tidegate"),
        ("HorizontalPodAutoscaler", "tidegate"),
        ("PodDisruptionBudget", "tidegate"),
        ("Secret", "tidegate-secrets"),
        ("Service", "tidegate"),
        ("Service", "tidegate-redis"),
    ]
    redis = k8s_objects.named(objects, "Service", "tidegate-redis")
    assert redis is not None and redis["spec"]["type"] == "ExternalName"


def test_the_placeholders_keep_the_bff_from_starting() -> None:
    """Applied as committed, the Secret's placeholders stop start-up rather than run with a known key."""
    with pytest.raises(ValidationError) as refused:  # by the settings, before anything is built
        k8s_objects.settings(render(K8S / "base"), placeholders=True)
    assert {error["loc"][0] for error in refused.value.errors()} == {
        "cache_key",
        "workorders_webhook_secrets",
    }


def test_the_overlay_keeps_the_base_and_changes_what_it_says() -> None:
    base, overlay = render(K8S / "base"), render(K8S / "overlays/example")
    assert {o["metadata"].get("namespace") for o in overlay} == {"contact-centre"}
    assert k8s_objects.bff(overlay)["image"] == "registry.example.internal/tidegate/tidegate-bff:0.1.0"
    env_base, env_overlay = k8s_objects.environment(base), k8s_objects.environment(overlay)
    assert env_overlay["TIDEGATE_BILLING_URL"] != env_base["TIDEGATE_BILLING_URL"]
    assert env_overlay["TIDEGATE_REPLICAS"] == env_base["TIDEGATE_REPLICAS"]  # merged, not replaced
    # The merged ConfigMap gets a new name, and the Deployment follows it: the pods roll.
    config_ref = k8s_objects.bff(overlay)["envFrom"][0]["configMapRef"]["name"]
    assert config_ref != k8s_objects.bff(base)["envFrom"][0]["configMapRef"]["name"]
    assert k8s_objects.named(overlay, "ConfigMap", config_ref) is not None


# --- the renderer -----------------------------------------------------------------------------


def test_name_hashes_are_kustomizes() -> None:
    """Names from the Kubernetes documentation's kustomize examples (`kubectl kustomize ./`)."""
    files = {"application.properties": "FOO=Bar\n"}
    assert content_hash(
        {"kind": "ConfigMap", "metadata": {"name": "example-configmap-1"}, "data": files}
    ) == ("8mbdf7882g")
    assert content_hash(
        {"kind": "ConfigMap", "metadata": {"name": "example-configmap-2"}, "data": {"FOO": "Bar"}}
    ) == ("g2hdhfc6tk")
    password = base64.b64encode(b"username=admin\npassword=secret\n").decode()
    secret = {"kind": "Secret", "metadata": {"name": "example-secret-1"}, "type": "Opaque"}
    assert content_hash(secret | {"data": {"password.txt": password}}) == "t2kt65hgtb"


def test_strategic_merge_merges_named_lists_and_replaces_the_rest() -> None:
    target = {"containers": [{"name": "a", "image": "x", "args": ["1"]}, {"name": "b"}], "n": 1}
    patched = merge_patch(target, {"containers": [{"name": "a", "args": ["2"]}], "n": 2})
    assert patched == {"containers": [{"name": "b"}, {"name": "a", "image": "x", "args": ["2"]}], "n": 2}


def write(directory: Path, name: str, content: object) -> None:
    (directory / name).write_text(yaml.safe_dump(content) if not isinstance(content, str) else content)


@pytest.mark.parametrize(
    ("kustomization", "message"),
    [
        ({"resources": [], "commonLabels": {"a": "b"}}, "commonLabels"),
        ({"configMapGenerator": [{"name": "c", "files": ["../outside.txt"]}]}, "load restrictor"),
        ({"configMapGenerator": [{"name": "c", "envs": ["bare.env"]}]}, "has no value"),
        ({"configMapGenerator": [{"name": "c", "behavior": "merge", "literals": ["A=1"]}]}, "no such object"),
        (
            {"resources": ["cm.yaml"], "patches": [{"path": "cm.yaml", "target": {"kind": "ConfigMap"}}]},
            "only",
        ),
    ],
)
def test_the_renderer_refuses_what_it_does_not_do(
    tmp_path: Path, kustomization: object, message: str
) -> None:
    inner = tmp_path / "k"
    inner.mkdir()
    write(tmp_path, "outside.txt", "x")
    write(inner, "bare.env", "FROM_MY_SHELL\n")
    write(inner, "cm.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    write(inner, "kustomization.yaml", kustomization)
    with pytest.raises(Unsupported, match=message):
        render(inner)


# --- each rule fails on manifests broken the way it exists to catch ---------------------------

DEPLOYMENT, CONFIG, SECRETS = "base/deployment.yaml", "base/config.env", "base/secrets.env"
# (rule, file under deploy/k8s, old text, new text, which kustomization renders it)
MUTATIONS = [
    ("schemas", DEPLOYMENT, "failureThreshold: 2", "failureTreshold: 2", "base"),
    ("schemas", DEPLOYMENT, "periodSeconds: 5", "periodSeconds: five", "base"),
    ("schemas", "overlays/example/hpa.yaml", "maxReplicas: 10", "maxReplicas: ten", "overlays/example"),
    ("references", DEPLOYMENT, "name: tidegate-config", "name: tidegate-configuration", "base"),
    (
        "setting_names",
        CONFIG,
        "TIDEGATE_LOG_LEVEL=INFO",
        "TIDEGATE_LOG_LEVEL=INFO\nTIDEGATE_REDIS_HOST=x",
        "base",
    ),
    ("setting_names", CONFIG, "TIDEGATE_LOG_LEVEL=INFO", "TIDEGATE_LOG_LEVEL=LOUD", "base"),
    (
        "setting_names",
        CONFIG,
        "TIDEGATE_WORKERS=1",
        "TIDEGATE_WORKERS=1\nTIDEGATE_METRICS_TOKEN=CHANGE-ME",
        "base",
    ),
    (
        "placeholders",
        SECRETS,
        "TIDEGATE_CACHE_KEY=CHANGE-ME",
        f"TIDEGATE_CACHE_KEY={VALID_CACHE_KEY}",
        "base",
    ),
    ("ports", DEPLOYMENT, "containerPort: 8000", "containerPort: 8080", "base"),
    ("ports", CONFIG, "TIDEGATE_HOST=0.0.0.0", "TIDEGATE_HOST=127.0.0.1", "base"),
    ("ports", DEPLOYMENT, "enableServiceLinks: false", "enableServiceLinks: true", "base"),
    ("ports", "base/service.yaml", "targetPort: http", "targetPort: 8080", "base"),
    ("probes", DEPLOYMENT, "path: /readyz", "path: /healthz", "base"),
    ("probes", DEPLOYMENT, "path: /readyz", "path: /ready", "base"),
    (
        "probes",
        DEPLOYMENT,
        "port: http\n            periodSeconds: 10",
        "port: 8080\n            periodSeconds: 10",
        "base",
    ),
    (
        "probes",
        CONFIG,
        "TIDEGATE_WORKERS=1",
        "TIDEGATE_WORKERS=1\nTIDEGATE_READYZ_REDIS_TIMEOUT_MS=2500",
        "base",
    ),
    (
        "selectors",
        "base/pdb.yaml",
        "      app.kubernetes.io/component: bff",
        "      app.kubernetes.io/component: api",
        "base",
    ),
    ("selectors", "base/service.yaml", "component: bff\n  ports", "component: api\n  ports", "base"),
    (
        "scaling",
        "base/hpa.yaml",
        "    name: tidegate\n  minReplicas",
        "    name: tidegate-bff\n  minReplicas",
        "base",
    ),
    ("scaling", "base/hpa.yaml", "name: cpu", "name: memory", "base"),
    ("scaling", DEPLOYMENT, "              cpu: 500m\n", "", "base"),
    ("scaling", DEPLOYMENT, "revisionHistoryLimit: 5", "replicas: 3\n  revisionHistoryLimit: 5", "base"),
    ("scaling", CONFIG, "TIDEGATE_REPLICAS=2", "TIDEGATE_REPLICAS=3", "base"),
    ("scaling", "base/pdb.yaml", "maxUnavailable: 1", "minAvailable: 2", "base"),
    ("fleet", SECRETS, "@tidegate-redis:6379/0", "@redis.example.internal:6379/0", "base"),
    ("fleet", SECRETS, "@tidegate-redis:6379/1", "@tidegate-redis:6380/1", "base"),
    ("fleet", SECRETS, "TIDEGATE_CACHE_KEY=CHANGE-ME\n", "", "base"),
    ("fleet", CONFIG, "TIDEGATE_WORKERS=1", "TIDEGATE_WORKERS=4", "base"),
    (
        "termination",
        DEPLOYMENT,
        "terminationGracePeriodSeconds: 60",
        "terminationGracePeriodSeconds: 15",
        "base",
    ),
    ("termination", CONFIG, "TIDEGATE_DRAIN_DELAY_S=10", "TIDEGATE_DRAIN_DELAY_S=0", "base"),
    ("termination", CONFIG, "TIDEGATE_DRAIN_DELAY_S=10", "TIDEGATE_DRAIN_DELAY_S=3", "base"),
    ("termination", DEPLOYMENT, "failureThreshold: 2", "failureThreshold: 4", "base"),
    (
        "termination",
        CONFIG,
        "TIDEGATE_WORKERS=1",
        "TIDEGATE_WORKERS=1\nTIDEGATE_SHUTDOWN_TIMEOUT_S=600\nTIDEGATE_BUDGET_SHEDDABLE_MS=60000",
        "base",
    ),
    # 30 s would do without tracing; the overlay turns the OTLP exporter on (its export may take 30 s).
    ("termination", DEPLOYMENT, "GracePeriodSeconds: 60", "GracePeriodSeconds: 30", "overlays/example"),
    ("code_tables", "base/code-tables/gis.yaml", "\n", "\n# edited in the copy only\n", "base"),
    ("code_tables", DEPLOYMENT, "subPath: crm.yaml", "subPath: crm.yml", "base"),
    (
        "code_tables",
        DEPLOYMENT,
        "python3.11/site-packages/backends/billing",
        "python3.12/site-packages/backends/billing",
        "base",
    ),
    ("security", DEPLOYMENT, "runAsUser: 10001", "runAsUser: 0", "base"),
    ("security", DEPLOYMENT, "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", "base"),
    ("security", DEPLOYMENT, "mountPath: /var/lib/tidegate", "mountPath: /var/lib/state", "base"),
    (
        "security",
        DEPLOYMENT,
        "automountServiceAccountToken: false",
        "automountServiceAccountToken: true",
        "base",
    ),
    ("image", DEPLOYMENT, "image: tidegate-bff:0.1.0", "image: tidegate-bff:latest", "base"),
    ("image", "overlays/example/kustomization.yaml", "newTag: 0.1.0", "newTag: 0.0.9", "overlays/example"),
]


@pytest.mark.parametrize(("rule", "file", "old", "new", "kustomization"), MUTATIONS)
def test_each_rule_fails_on_manifests_broken_its_way(
    tmp_path: Path, app: App, rule: str, file: str, old: str, new: str, kustomization: str
) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    path = copy / file
    source = path.read_text(encoding="utf-8")
    assert old in source, f"the mutation's text is not in {file} any more: {old!r}"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    found = getattr(k8s_rules, rule)(render(copy / kustomization), app)
    assert found, f"{rule} found nothing wrong with {file} after {old!r} -> {new!r}"
