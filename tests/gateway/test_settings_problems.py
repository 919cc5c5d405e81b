"""`gateway.settings.problems`, `.unknown` and `.formats`: a line per bad value, secrets masked, an
example that passes; unknown variables named with the closest setting."""

from __future__ import annotations

import base64

import pytest

from gateway.settings.problems import EXAMPLES, BadSettings, example, fields, load_settings
from gateway.settings.unknown import OTHER_VARIABLES, unknown_variable_warnings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in [n for n in os.environ if n.upper().startswith("TIDEGATE_")]:
        monkeypatch.delenv(name)


def lines_for(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> list[str]:
    monkeypatch.setenv(name, value)
    with pytest.raises(BadSettings) as refused:
        load_settings()
    return refused.value.lines


def test_a_bad_value_is_one_line_with_the_variable_the_problem_and_an_example(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert lines_for(monkeypatch, "TIDEGATE_MAX_QUERY_DEPTH", "0") == [
        "tidegate: TIDEGATE_MAX_QUERY_DEPTH=0: input should be greater than or equal to 1;"
        " e.g. TIDEGATE_MAX_QUERY_DEPTH=12"
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIDEGATE_CACHE_KEY", "not-a-key-at-all"),
        ("TIDEGATE_CTI_SECRETS", ""),  # passes: a control for the masking below
        ("TIDEGATE_WORKORDERS_WEBHOOK_SECRETS", "not-a-key-at-all"),
        ("TIDEGATE_CLIENTS", '{"x": {"secret": "not-a-key-at-all"'),
    ],
)
def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    try:
        load_settings()
    except BadSettings as refused:
        assert len(refused.lines) == 1 and name in refused.lines[0]
        assert value not in str(refused) and f"<hidden, {len(value)} characters>" in str(refused)


def test_a_urls_password_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    (line,) = lines_for(monkeypatch, "TIDEGATE_REDIS_URL", "tcp://:s3cret@redis:6379/0")
    assert "s3cret" not in line and "tcp://:***@redis:6379/0" in line


def test_a_flag_is_named_as_the_flag() -> None:
    with pytest.raises(BadSettings) as refused:
        load_settings({"port": 70_000}, flags={"port": "--port"})
    assert refused.value.lines == [
        "tidegate: --port 70000: input should be less than or equal to 65535; e.g. --port 8000"
    ]


def test_every_example_passes_its_own_setting() -> None:
    """The curated examples and the defaults: each, set alone, is valid (shell commands aside)."""
    for flat, (variable, info) in fields().items():
        good = example(variable, info)
        if good is None or good.startswith(("$(", "whsec_$(", "'")):
            continue
        load_settings({flat: good})
    assert set(EXAMPLES) <= {variable for variable, _ in fields().values()}


def test_a_good_cache_key_and_clients_json_pass() -> None:
    key = base64.b64encode(bytes(32)).decode()
    settings = load_settings(
        {"cache_key": key, "clients": '{"desk": {"secret": "long-enough", "role": "agent"}}'}
    )
    assert settings.cache.cache_key == key and set(settings.auth.clients) == {"desk"}


def test_unknown_variables_name_the_closest_setting() -> None:
    environ = {
        "TIDEGATE_MAX_QUERY_DEPT": "3",
        "tidegate_cach_key": "x",  # read case-insensitively, warned alike
        "TIDEGATE_PORT": "8000",  # a setting
        "TIDEGATE_SDL_TOKEN": "t",  # read by a tool, not the settings
        "TIDEGATE_ZZZ": "1",
        "PATH": "/bin",
    }
    assert unknown_variable_warnings(environ) == [
        "tidegate: warning: TIDEGATE_MAX_QUERY_DEPT is not a setting; did you mean TIDEGATE_MAX_QUERY_DEPTH?",
        "tidegate: warning: TIDEGATE_ZZZ is not a setting; docs/configuration.md lists the settings",
        "tidegate: warning: tidegate_cach_key is not a setting; did you mean TIDEGATE_CACHE_KEY?",
    ]
    assert "TIDEGATE_BOARD_SCREENSHOT" in OTHER_VARIABLES


def test_a_worker_with_bad_settings_exits_2_with_the_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gateway.app import app_from_environment

    monkeypatch.setenv("TIDEGATE_REDIS_URL", "localhost:6379")
    with pytest.raises(SystemExit) as done:
        app_from_environment()
    assert done.value.code == 2
    assert capsys.readouterr().err.startswith("tidegate: TIDEGATE_REDIS_URL=localhost:6379: expected a URL")


def test_the_demo_checks_its_bffs_settings_before_starting_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("simulators")
    from gateway.demo import settings_problems

    ports = {"billing": 8101, "crm": 8102, "gis": 8103, "workorders": 8104}
    assert settings_problems(ports) == []
    monkeypatch.setenv("TIDEGATE_CACHE_KEY", "hello")
    (line,) = settings_problems(ports)
    assert line.startswith("tidegate: TIDEGATE_CACHE_KEY=<hidden, 5 characters>")
    monkeypatch.delenv("TIDEGATE_CACHE_KEY")
    monkeypatch.setenv("TIDEGATE_REPLICAS", "2")
    assert settings_problems(ports) == [
        "tidegate: TIDEGATE_REPLICAS=2 needs TIDEGATE_REDIS_URL (or TIDEGATE_REDIS_SENTINELS, or"
        " TIDEGATE_REDIS_CLUSTER_NODES): replicas share limits, idempotency keys,"
        " calls and screen pops through Redis. Set it, or run one replica."
    ]


@pytest.mark.parametrize(
    ("name", "value"), [("TIDEGATE_REDIS_URL", "localhost:6379"), ("TIDEGATE_CACHE_KEY", "hello")]
)
def test_the_lines_docs_api_md_shows_are_the_ones_printed(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    from tests.support.processes import ROOT

    (line,) = lines_for(monkeypatch, name, value)
    assert line in (ROOT / "docs" / "api.md").read_text(encoding="utf-8").splitlines()
