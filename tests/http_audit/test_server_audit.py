"""graphql-http's `serverAudits` against `tidegate serve` as a process: the GraphQL-over-HTTP draft's
MUST items (error) and SHOULD items (warn) all pass; the MAY items that do not (notice) are exactly
the ones docs/api.md lists, with its reasons.

The gate runs with dev-mode settings (introspection on): several audits use `__type(name: ...)` as
their stand-in for "any query with variables", and production refuses introspection on purpose
(`INTROSPECTION_DISABLED`). A second run with production settings checks that this is the only
difference: exactly those audits (28B9, a MUST, and 2EA1, a SHOULD) fail there, each refused with
that code and nothing else. The audits' requests carry a supervisor's token (a role allowed
free-form documents even when persisted-only is on), added by `audit.mjs`'s fetch and nothing else.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SERVICES, Simulators
from tests.http_audit.conftest import report_line
from tests.support.processes import ROOT, BffProcess, start_bff

HERE = Path(__file__).parent
STATUSES = ("ok", "warn", "notice", "error")

# The MAY items Tidegate decides against, by audit id; docs/api.md shows the same list (tested below).
ALLOWED_NOTICES = {
    "5A70": "a GET without a CSRF preflight header is refused (400 CSRF_PREFLIGHT_REQUIRED)",
    "D6D5": "the same GET rule, with variables, asking for application/graphql-response+json",
    "6A70": "the same GET rule, with variables, asking for application/json",
}
# What production's introspection refusal costs in the audit, and only that.
INTROSPECTION_AUDITS = {"28B9": "error", "2EA1": "warn"}


def run_audits(bff: BffProcess) -> list[dict[str, Any]]:
    """Every server audit against `bff`, as `audit.mjs` reports them."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "graphql-http").is_dir():
        pytest.fail("the audit needs Node and `npm ci --prefix tests/http_audit` (`make test` runs it)")
    done = subprocess.run(
        [node, str(HERE / "audit.mjs"), f"{bff.url}/graphql"],
        cwd=HERE,
        env={**os.environ, "TIDEGATE_AUDIT_TOKEN": bff.token("supervisor")},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr}\n{bff.log()[-3000:]}"
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def counts(results: list[dict[str, Any]]) -> Counter[str]:
    return Counter(result["status"] for result in results)


def counts_line(results: list[dict[str, Any]]) -> str:
    found = counts(results)
    return "graphql-http audit: " + " / ".join(f"{status} {found[status]}" for status in STATUSES)


def failing(results: list[dict[str, Any]], *statuses: str) -> dict[str, dict[str, Any]]:
    return {result["id"]: result for result in results if result["status"] in statuses}


def documented_notices() -> dict[str, str]:
    """The audit ids (and their MAY items) in docs/api.md's list of what Tidegate does not do."""
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split("## GraphQL over HTTP", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([0-9A-Z]{4})` \| (MAY [^|]+?) \|", section, flags=re.M))


@pytest.fixture(scope="module")
def started_sims(sims: Simulators) -> Simulators:
    for name in SERVICES:
        _ = sims[name]
    return sims


@pytest.fixture(scope="module")
def dev_bff(started_sims: Simulators) -> Iterator[BffProcess]:
    started = start_bff(started_sims, env={"TIDEGATE_DEV_MODE": "true"})
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def production_bff(started_sims: Simulators) -> Iterator[BffProcess]:
    started = start_bff(started_sims, env={"TIDEGATE_DEV_MODE": "false", "TIDEGATE_PERSISTED_ONLY": "true"})
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def dev_results(dev_bff: BffProcess, pytestconfig: pytest.Config) -> list[dict[str, Any]]:
    """One run of the audit with dev-mode settings; its counts line goes to the run's summary."""
    results = run_audits(dev_bff)
    report_line(pytestconfig, counts_line(results))
    return results


@pytest.mark.slow
def test_every_must_and_should_passes(dev_results: list[dict[str, Any]]) -> None:
    results = dev_results
    assert len(results) == len({r["id"] for r in results}) >= 60  # the whole suite ran, once each
    assert failing(results, "warn", "error") == {}
    notices = failing(results, "notice")
    assert set(notices) == set(ALLOWED_NOTICES), notices
    # docs/api.md names each as the audit does: the table says which MAY items these are.
    assert {audit_id: r["name"] for audit_id, r in notices.items()} == documented_notices()


@pytest.mark.slow
def test_the_notices_are_tidegates_get_rule(dev_results: list[dict[str, Any]]) -> None:
    """The MAY items not met fail for the documented reason, not some other one."""
    for result in failing(dev_results, "notice").values():
        assert result["httpStatus"] == 400, result
        assert json.loads(result["body"])["errors"][0]["extensions"]["code"] == "CSRF_PREFLIGHT_REQUIRED"


def test_docs_list_the_same_may_items() -> None:
    documented = documented_notices()
    assert set(documented) == set(ALLOWED_NOTICES)
    assert all(name.startswith("MAY ") for name in documented.values())


@pytest.mark.slow
def test_with_production_settings_only_the_introspection_audits_fail(production_bff: BffProcess) -> None:
    results = run_audits(production_bff)
    refused = failing(results, "warn", "error")
    assert {audit_id: r["status"] for audit_id, r in refused.items()} == INTROSPECTION_AUDITS
    for result in refused.values():
        body = json.loads(result["body"])
        assert [e["extensions"]["code"] for e in body["errors"]] == ["INTROSPECTION_DISABLED"], result
    # 2EA1 asks for application/graphql-response+json: a validation error, so 400 and no `data`.
    assert refused["2EA1"]["httpStatus"] == 400 and "data" not in json.loads(refused["2EA1"]["body"])
    assert set(failing(results, "notice")) == set(ALLOWED_NOTICES)
