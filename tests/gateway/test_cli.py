"""`tidegate` argument handling: bad input gets a clear message and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import build_parser, main


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "mainframe"],
        ["simulate", "billing", "--customers", "0"],
        ["simulate", "billing", "--error-rate", "1.5"],
        ["simulate", "billing", "--as-of", "26/11/2026"],
        ["simulate", "billing", "--port", "http"],
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_simulate_defaults() -> None:
    args = build_parser().parse_args(["simulate", "gis", "--seed", "3", "--customers", "100"])
    assert (args.service, args.seed, args.customers, args.port) == ("gis", 3, 100, None)


def test_serve_refuses_to_start_with_a_manifest_it_cannot_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "manifest.json"
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    monkeypatch.setenv("TIDEGATE_LOCAL_ISSUER", "true")
    monkeypatch.setenv("TIDEGATE_LOCAL_ISSUER_KEY_PATH", str(tmp_path / "key.pem"))
    monkeypatch.setenv("TIDEGATE_PERSISTED_MANIFEST_PATH", str(bad))
    monkeypatch.setattr(
        "gateway.observability.logging.configure_logging", lambda _level: None
    )  # the test's logging stays
    assert main(["serve", "--port", "0"]) == 2  # before any socket is opened
    assert "not an apollo-persisted-query-manifest version 1" in capsys.readouterr().err
