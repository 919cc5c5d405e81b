"""The workbench's typed operations follow the schema: GraphQL Code Generator regenerates them from
schema/schema.graphql and gql/*.graphql (a stale generated file fails), and TypeScript checks the
workbench's code against them (a schema change that breaks the workbench fails the build)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.processes import ROOT

WORKBENCH = ROOT / "web" / "workbench"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None or not (WORKBENCH / "node_modules" / ".bin" / "graphql-codegen").exists():
        pytest.fail("the workbench's packages are missing: `make install` (npm ci --prefix web/workbench)")
    return subprocess.run(
        [str(WORKBENCH / "node_modules" / ".bin" / args[0]), *args[1:]],
        cwd=WORKBENCH,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_workbench_generated_types_match_the_schema_and_operations() -> None:
    done = _run("graphql-codegen", "--config", "codegen.yml", "--check")
    assert done.returncode == 0, (
        "web/workbench/src/generated/graphql.ts is stale: run `npx graphql-codegen --config codegen.yml` "
        f"in web/workbench and commit it\n{done.stdout}{done.stderr}"
    )


def test_workbench_code_typechecks_against_the_generated_types() -> None:
    done = _run("tsc", "--noEmit", "-p", ".")
    assert done.returncode == 0, f"the workbench no longer fits the schema:\n{done.stdout}{done.stderr}"
