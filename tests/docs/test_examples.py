"""Every shell example in README.md and docs/ runs, as a reader would run it, against a real demo.

The stack is `tidegate demo` itself (the simulators and the BFF as processes, the command the
README starts with), on a free port range at latency 0 with 300 customers; each block runs in its
own `bash` with `set -euo pipefail` from the checkout's root, its default ports shifted to the
stack's. A block passes when it exits 0 and prints what the output block after it shows (`...`
standing for any text); a GraphQL `"errors"` in its output fails it unless the docs show one.
Tokens come the way the docs say, from `tidegate token` with the demo's key file.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.doc_blocks import Example, blocks, examples, output_matches, problems, shift_ports
from tests.support.demo_stack import DemoRun, start_demo
from tests.support.processes import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = [example for path in DOCS for example in examples(blocks(path))]


def test_every_shell_block_is_run_or_skipped_with_a_reason() -> None:
    assert [issue for path in DOCS for issue in problems(blocks(path))] == []


def test_the_readme_fits_one_screen_and_keeps_its_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 120
    assert "make demo" in readme and "make test" in readme


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoRun, dict[str, str]]]:
    """The demo, and the environment its examples run in: no TIDEGATE_* of the caller's, and the
    demo's key file and audit trail in a temporary directory, never the checkout's."""
    home = tmp_path_factory.mktemp("doc-stack")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDEGATE_")}
    env["TIDEGATE_LOCAL_ISSUER_KEY_PATH"] = str(home / "issuer-key.pem")
    env["TIDEGATE_AUDIT_PATH"] = str(home / "audit.jsonl")
    run = start_demo(env=env)
    try:
        assert "bff" in run.children, "".join(run.lines)
        yield run, env
    finally:
        if run.proc.poll() is None:
            run.proc.send_signal(signal.SIGINT)
            try:
                run.proc.wait(30)
            except subprocess.TimeoutExpired:
                run.kill()


def _id(example: Example) -> str:
    return example.block.where(ROOT)


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_example(example: Example, stack: tuple[DemoRun, dict[str, str]]) -> None:
    run, env = stack
    script = "set -euo pipefail\n" + shift_ports(example.block.text, run.offset)
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    if example.expected is not None:
        expected = shift_ports(example.expected, run.offset)
        assert output_matches(expected, done.stdout), f"expected:\n{expected}\ngot:\n{done.stdout}"
    if '"errors"' not in (example.expected or ""):
        assert '"errors"' not in done.stdout, done.stdout


def test_examples_were_found() -> None:
    # A parser that finds nothing would pass every test above: the README's tour alone has three.
    readme = [e for e in EXAMPLES if e.block.path == Path(ROOT / "README.md")]
    assert len(readme) >= 3 and len(EXAMPLES) >= 10
