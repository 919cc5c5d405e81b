"""Smoke run of bench/versus.py: this tree against its own HEAD, so the benchmark never rots (no
timing asserted: both legs are the same code or nearly, and the run is too short to say anything)."""

from __future__ import annotations

import json
import subprocess

import pytest

from bench import versus


@pytest.mark.slow
def test_versus_serves_both_trees_and_counts_the_same_work_on_both_legs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--baseline", "HEAD", "--seconds", "0.5", "--slice-s", "0.25", "--concurrency", "2"]
    assert versus.main([*argv, "--customers", "300", "--check", "5"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["benchmark"] == "versus" and result["baseline_ref"] == "HEAD" and result["rounds"] >= 2
    for leg in versus.LEGS:
        assert result[leg]["requests"] > 0 and result[leg]["failures"] == 0, result
        assert set(result[leg]["backend_calls_by_system"]) == {"billing", "crm", "gis", "workorders"}
    assert (
        result["candidate"]["backend_calls_by_operation"] == result["baseline"]["backend_calls_by_operation"]
    )
    assert result["answers"] == {"compared": 5, "identical": 5, "differ_first": []}, result["answers"]
    assert "ratio_withheld" not in result and result["ratio_cpu"] > 0
    # the baseline's worktree is gone again
    listed = subprocess.run(
        ["git", "-C", str(versus.ROOT), "worktree", "list"], capture_output=True, text=True
    )
    assert "bench-baseline-" not in listed.stdout


def test_a_baseline_that_is_not_a_commit_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        versus.main(["--baseline", "no-such-ref-at-all", "--seconds", "0.5"])
    assert exit_.value.code == 2
    assert "cannot check out 'no-such-ref-at-all'" in capsys.readouterr().err


@pytest.mark.slow
def test_a_baseline_whose_server_cannot_start_ends_the_run_with_its_own_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The repository's first commit has no `tidegate serve`: its leg never answers, and the run
    ends with exit status 1 and what the server said (its CLI's usage error), not a traceback."""
    shallow = subprocess.run(
        ["git", "-C", str(versus.ROOT), "rev-parse", "--is-shallow-repository"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if shallow == "true":
        pytest.skip("a shallow clone has no first commit to serve")
    first = subprocess.run(
        ["git", "-C", str(versus.ROOT), "rev-list", "--max-parents=0", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    argv = ["--baseline", first, "--seconds", "0.5", "--concurrency", "2", "--customers", "300"]
    assert versus.main(argv) == 1
    err = capsys.readouterr().err
    assert "the baseline leg's server did not start" in err and "invalid choice: 'serve'" in err, err
