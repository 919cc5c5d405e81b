"""docs/configuration.md is the printout of `Settings`: current, complete, and free of secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import Settings
from gateway.settings_doc import DOC_PATH, SECTIONS, components, main, render
from tests.gateway.settings_contract import VARIABLES


def test_committed_configuration_doc_is_current() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "run `python -m gateway.settings_doc --write` and commit docs/configuration.md"
    )


def test_every_setting_has_a_row_with_a_description() -> None:
    page = render()
    for component, kind in components().items():
        assert kind.__doc__, f"{component} has no docstring: say what it is for"
        for name, info in kind.model_fields.items():
            assert info.description, f"{component}.{name} has no docstring: say what it is for"
    for env in VARIABLES:
        assert page.count(f"| `{env}` |") == 1, env


def test_every_component_has_a_section() -> None:
    assert list(SECTIONS) == list(Settings.model_fields)


def test_secret_defaults_are_never_printed() -> None:
    page = render()
    assert "demo-secret" not in page  # the demo clients' secrets stay in code and docs/security.md
    assert "| `TIDEGATE_CACHE_KEY` | str (optional) | unset |" in page


def test_check_fails_on_a_stale_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text(render().replace("`8000`", "`8080`"), encoding="utf-8")
    monkeypatch.setattr("gateway.settings_doc.DOC_PATH", stale)
    assert main(["--check"]) == 1
    assert main(["--write"]) == 0
    assert main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == render()
