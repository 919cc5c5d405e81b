"""The Dockerfile and deploy/compose.yaml, checked statically: there is no Docker daemon here.

Nothing builds or starts the images on these machines (docs/container.md says so). What can be
checked without a daemon is checked here: the rules in `dockerfile_rules` and `compose_rules` pass
on the committed files, and every rule fails on a copy broken the way it exists to catch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.deploy import compose_rules, dockerfile_rules
from tests.deploy.dockerfile import parse
from tests.deploy.dockerfile_rules import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
RUNTIME_SYNC = "--require-hashes requirements-runtime.lock"
HEALTH_URL = "'http://127.0.0.1:' + os.environ['TIDEGATE_PORT'] + '/healthz'"
DEMO_WHSEC = "whsec_dGlkZWdhdGUtZGVtby13ZWJob29rLXNlY3JldC0zMmI="
OTHER_WHSEC = "whsec_b3RoZXItd2ViaG9vay1zZWNyZXQtMzItYnl0ZXMhIQ=="


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def mutate(source: str, old: str, new: str, occurrence: int = 0) -> str:
    """`source` with the `occurrence`-th (negative: from the end) `old` replaced by `new`."""
    starts = [i for i in range(len(source)) if source.startswith(old, i)]
    assert starts, f"the mutation's text is not in the file any more: {old!r}"
    at = starts[occurrence]
    return source[:at] + new + source[at + len(old) :]


def compose_problems(compose_text: str, dockerfile_text: str | None = None) -> list[str]:
    return compose_rules.problems(yaml.safe_load(compose_text), parse(dockerfile_text or text(DOCKERFILE)))


def test_the_dockerfile_has_a_builder_and_two_images() -> None:
    dockerfile = parse(text(DOCKERFILE))
    assert [s.name for s in dockerfile.stages] == ["builder", "simulators", "bff"]
    assert [s.name for s in dockerfile_rules.runnable_stages(dockerfile)] == ["simulators", "bff"]


def test_the_dockerfile_passes_every_rule() -> None:
    assert dockerfile_rules.problems(parse(text(DOCKERFILE))) == []


def test_the_compose_file_passes_every_rule() -> None:
    assert compose_problems(text(compose_rules.COMPOSE)) == []


# (rule, old text, new text, occurrence of old): each a way the Dockerfile could go wrong.
DOCKERFILE_MUTATIONS = [
    ("pinned_bases", "python:3.11.13-slim-bookworm", "python:latest", 0),
    ("pinned_bases", "python:3.11.13-slim-bookworm", "python", 0),
    ("pinned_bases", "python:3.11.13-slim-bookworm", "python:3.11-slim-bookworm", 0),
    ("pinned_bases", "python:3.11.13-slim-bookworm", "python:3.12.8-slim-bookworm", 0),
    ("pinned_bases", "FROM ${PYTHON_IMAGE} AS bff", "FROM ${PYTHON} AS bff", 0),
    ("multi_stage", "COPY --from=builder /opt/tidegate /opt/tidegate", "", 0),
    ("multi_stage", 'CMD ["serve"]', "RUN pip install --require-hashes --no-deps -r requirements.lock", 0),
    ("non_root", "USER 10001:10001", "USER root", -1),
    ("non_root", "USER 10001:10001", "USER 0:0", 0),
    ("non_root", "USER 10001:10001", "", 0),
    ("non_root", "USER 10001:10001", "USER 10002", -1),
    ("healthcheck", "HEALTHCHECK --interval", "# HEALTHCHECK --interval", 0),
    ("healthcheck", "/healthz', timeout=2)", "/readyz', timeout=2)", 0),
    ("healthcheck", HEALTH_URL, "'http://127.0.0.1:8001/healthz'", 0),
    ("healthcheck", "TIDEGATE_PORT=8000", "TIDEGATE_PORT=9000", 0),
    ("healthcheck", "TIDEGATE_HOST=0.0.0.0", "TIDEGATE_HOST=127.0.0.1", 0),
    ("healthcheck", 'CMD ["python", "-c", "import os', 'CMD ["curl", "-c", "import os', 0),
    ("healthcheck", 'CMD ["serve"]', 'CMD ["serve", "--port", "9000"]', 0),
    ("hashed_installs", RUNTIME_SYNC, "requirements-runtime.lock", 0),
    ("hashed_installs", "--no-deps -r requirements-bootstrap.lock", "-r requirements-bootstrap.lock", 0),
    ("hashed_installs", "/wheels/tidegate-*.whl", "tidegate", 0),
    ("hashed_installs", "--build-constraints requirements.lock --require-hashes .", ".", 0),
    ("hashed_installs", RUNTIME_SYNC, "--require-hashes requirements.lock", 0),
    ("hashed_installs", RUNTIME_SYNC, "--require-hashes requirements-prod.lock", 0),
    ("runtime_subset", RUNTIME_SYNC, "--require-hashes requirements-simulators.lock", 0),
    ("context_holds_copies", "COPY gql/ gql/", "COPY queries/ gql/", 0),
]


@pytest.mark.parametrize(("rule", "old", "new", "occurrence"), DOCKERFILE_MUTATIONS)
def test_each_dockerfile_rule_catches_what_it_is_for(rule: str, old: str, new: str, occurrence: int) -> None:
    broken = parse(mutate(text(DOCKERFILE), old, new, occurrence))
    assert any(p.startswith(f"{rule}: ") for p in dockerfile_rules.problems(broken)), (rule, old, new)


def test_a_copy_left_out_of_the_build_context_is_caught(tmp_path: Path) -> None:
    """The build context is the allowlist in .dockerignore: a source it leaves out breaks the build."""
    for entry in ROOT.iterdir():
        if entry.name != ".dockerignore":
            (tmp_path / entry.name).symlink_to(entry)
    (tmp_path / ".dockerignore").write_text(mutate(text(DOCKERIGNORE), "!gql/\n", ""), encoding="utf-8")
    found = dockerfile_rules.context_holds_copies(parse(text(DOCKERFILE)), tmp_path)
    assert found == ["COPY gql/: left out of the build context by .dockerignore"]


def test_the_build_context_leaves_out_local_state() -> None:
    patterns = [line for line in text(DOCKERIGNORE).splitlines() if line and not line.startswith("#")]
    for local in (".venv", ".cache", ".tidegate", "var", ".git", "tests", "gateway/static/vendor"):
        assert not dockerfile_rules.in_context(local, patterns), local
    assert dockerfile_rules.in_context("gateway/app.py", patterns)


# (rule, old text, new text, occurrence of old): each a way deploy/compose.yaml could go wrong.
COMPOSE_MUTATIONS = [
    ("service_set", "\n  gis:\n", "\n  maps:\n", 0),
    ("settings_env", "TIDEGATE_DEV_MODE:", "TIDEGATE_DEVMODE:", 0),
    ("settings_env", 'TIDEGATE_LOCAL_ISSUER: "true"', 'TIDEGATE_LOCAL_ISSUER: "sometimes"', 0),
    ("settings_env", "TIDEGATE_CACHE_KEY:-dGlk", "TIDEGATE_CACHE_KEY:-x", 0),
    ("settings_env", DEMO_WHSEC, "secret", -1),
    ("backend_urls", "TIDEGATE_CRM_URL: http://crm:8102", "TIDEGATE_CRM_URL: http://127.0.0.1:8102", 0),
    ("backend_urls", "TIDEGATE_GIS_URL: http://gis:8103", "TIDEGATE_GIS_URL: http://gis:8003", 0),
    ("backend_urls", '["gis", "--host", "0.0.0.0"]', '["gis"]', 0),
    (
        "backend_urls",
        '"0.0.0.0"]\n    ports: ["127.0.0.1:8101',
        '"0.0.0.0", "--port", "9101"]\n    ports: ["127.0.0.1:8101',
        0,
    ),
    ("backend_urls", '["crm", "--host", "0.0.0.0"]', '["gis", "--host", "0.0.0.0"]', 0),
    ("redis", "redis://redis:6379/0", "redis://cache:6379/0", 0),
    ("redis", "redis://redis:6379/0", "redis://redis:6380/0", 0),
    ("published_ports", '"127.0.0.1:8000:8000"', '"8000:8000"', 0),
    ("published_ports", '"127.0.0.1:8000:8000"', '"0.0.0.0:8000:8000"', 0),
    ("published_ports", '"127.0.0.1:8103:8103"', '"127.0.0.1:8103:9103"', 0),
    ("published_ports", '"127.0.0.1:8000:8000"', '"127.0.0.1:8080:8000"', 0),
    ("pinned_images", "redis:7.4.7-bookworm", "redis:latest", 0),
    ("pinned_images", "redis:7.4.7-bookworm", "redis:7.4-bookworm", 0),
    ("pinned_images", "target: bff", "target: runtime", 0),
    ("pinned_images", "image: tidegate-bff:0.1.0", "image: tidegate-bff:latest", 0),
    ("pinned_images", "context: ..", "context: .", -1),
    ("healthchecks", "http://127.0.0.1:8102/_sim/health", "http://127.0.0.1:8101/_sim/health", 0),
    ("healthchecks", 'test: ["CMD", "redis-cli", "ping"]', 'test: ["NONE"]', 0),
    ("startup_order", "gis: {condition: service_healthy}", "gis: {condition: service_started}", 0),
    ("startup_order", "      redis: {condition: service_healthy}\n", "", 0),
    ("webhooks", "http://bff:8000/webhooks/workorders", "http://bff:8000/hooks", 0),
    ("webhooks", DEMO_WHSEC, OTHER_WHSEC, 0),
    ("webhooks", DEMO_WHSEC, OTHER_WHSEC, -1),
    ("webhooks", "TIDEGATE_CTI_SECRETS:-demo-cti-secret", "TIDEGATE_CTI_SECRETS:-other", 0),
]


@pytest.mark.parametrize(("rule", "old", "new", "occurrence"), COMPOSE_MUTATIONS)
def test_each_compose_rule_catches_what_it_is_for(rule: str, old: str, new: str, occurrence: int) -> None:
    broken = mutate(text(compose_rules.COMPOSE), old, new, occurrence)
    assert any(p.startswith(f"{rule}: ") for p in compose_problems(broken)), (rule, old, new)


def test_a_bff_port_moved_in_the_dockerfile_must_move_in_compose_too() -> None:
    """The published port follows where the image's BFF listens (its ENV), not a number typed twice."""
    moved = mutate(text(DOCKERFILE), "TIDEGATE_PORT=8000", "TIDEGATE_PORT=9000")
    found = compose_problems(text(compose_rules.COMPOSE), moved)
    assert any(p.startswith("published_ports: bff") for p in found)


def test_compose_values_are_read_at_their_defaults() -> None:
    assert compose_rules.interpolate("${A:-x}/${B-y}/${C}/$$HOME") == "x/y//$HOME"
