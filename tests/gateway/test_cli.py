"""`tidegate` argument handling: bad input gets a clear message and exit code 2."""

from __future__ import annotations

import pytest

from gateway.cli import build_parser


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
