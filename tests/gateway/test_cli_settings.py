"""Issue 20: every misconfiguration of `tidegate serve` is one line on stderr and exit 2, before
anything starts, run as real processes; unknown variables are a warning; the port is checked first."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET_TEXT = "hunter2-hunter2"


def tidegate(
    args: list[str], env: dict[str, str], tmp_path: Path, timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m gateway.cli ARGS` with only `env` (and a local issuer whose key lives in tmp_path):
    nothing of this process's TIDEGATE_* variables leaks in."""
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TIDEGATE_LOCAL_ISSUER": "true",
        "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(tmp_path / "issuer-key.pem"),
        "TIDEGATE_AUDIT_PATH": str(tmp_path / "audit.jsonl"),
    }
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


# (extra arguments, environment, what the line must name, what it must never show)
MISCONFIGURATIONS = {
    "clients-broken-json": (
        [],
        {"TIDEGATE_CLIENTS": '{"desk": {"secret": "' + SECRET_TEXT},
        "TIDEGATE_CLIENTS=",
    ),
    "cache-key-not-base64": ([], {"TIDEGATE_CACHE_KEY": SECRET_TEXT}, "TIDEGATE_CACHE_KEY="),
    "cache-key-too-short": ([], {"TIDEGATE_CACHE_KEY": "aGVsbG8="}, "TIDEGATE_CACHE_KEY="),
    "redis-url-without-scheme": ([], {"TIDEGATE_REDIS_URL": "localhost:6379"}, "TIDEGATE_REDIS_URL="),
    "audit-redis-url-http": (
        [],
        {"TIDEGATE_AUDIT_REDIS_URL": f"http://:{SECRET_TEXT}@localhost:6379"},
        "TIDEGATE_AUDIT_REDIS_URL=",
    ),
    "webhook-secret-not-whsec": (
        [],
        {"TIDEGATE_WORKORDERS_WEBHOOK_SECRETS": SECRET_TEXT},
        "WEBHOOK_SECRETS=",
    ),
    "below-bound": ([], {"TIDEGATE_MAX_QUERY_DEPTH": "0"}, "TIDEGATE_MAX_QUERY_DEPTH=0"),
    "not-a-number": ([], {"TIDEGATE_BILLING_TIMEOUT_S": "fast"}, "TIDEGATE_BILLING_TIMEOUT_S=fast"),
    "not-a-level": ([], {"TIDEGATE_LOG_LEVEL": "loud"}, "TIDEGATE_LOG_LEVEL=loud"),
    "not-a-boolean": ([], {"TIDEGATE_DEV_MODE": "maybe"}, "TIDEGATE_DEV_MODE=maybe"),
    "backend-url": ([], {"TIDEGATE_CRM_URL": "crm.internal:8102"}, "TIDEGATE_CRM_URL="),
    "otlp-endpoint": ([], {"TIDEGATE_OTLP_ENDPOINT": "collector:4318"}, "TIDEGATE_OTLP_ENDPOINT="),
    "algorithm": ([], {"TIDEGATE_TOKEN_ALGORITHMS": "HS256"}, "TIDEGATE_TOKEN_ALGORITHMS=HS256"),
    "key-file-cannot-be-created": (
        [],
        {"TIDEGATE_LOCAL_ISSUER_KEY_PATH": "/proc/no-such-dir/issuer-key.pem"},
        "TIDEGATE_LOCAL_ISSUER_KEY_PATH=/proc/no-such-dir/issuer-key.pem: cannot read or create the key",
    ),
    "key-file-not-a-key": (
        [],
        {"TIDEGATE_LOCAL_ISSUER_KEY_PATH": "{tmp}/junk.pem"},
        "junk.pem: not an unencrypted PEM private key",
    ),
    "port-flag": (["--port", "70000"], {}, "--port 70000"),
    "replicas-without-redis": (
        [],
        {"TIDEGATE_REPLICAS": "2"},
        "TIDEGATE_REPLICAS=2 needs TIDEGATE_REDIS_URL",
    ),
    "workers-without-redis": (["--workers", "2"], {}, "2 workers need TIDEGATE_REDIS_URL"),
}


@pytest.mark.parametrize(("args", "env", "named"), MISCONFIGURATIONS.values(), ids=MISCONFIGURATIONS.keys())
def test_each_misconfiguration_is_one_line_and_exit_2(
    args: list[str], env: dict[str, str], named: str, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key\n", encoding="utf-8")
    junk.chmod(0o600)
    env = {name: value.replace("{tmp}", str(tmp_path)) for name, value in env.items()}
    done = tidegate(["serve", "--port", "0", *args], env, tmp_path)
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tidegate: ") and named in lines[0]
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert SECRET_TEXT not in done.stderr  # secrets masked, a URL's password too
    assert "TIDEGATE_" in lines[0] or " --" in lines[0]  # the setting named as it was set
    if "=" in named and "needs" not in named:
        assert "; e.g. " in lines[0]  # and a value that would do


def test_several_bad_settings_are_a_line_each(tmp_path: Path) -> None:
    env = {"TIDEGATE_CACHE_KEY": "hello", "TIDEGATE_REDIS_URL": "localhost:6379", "TIDEGATE_MAX_COST": "-1"}
    done = tidegate(["serve", "--port", "0"], env, tmp_path)
    assert done.returncode == 2
    assert sorted(line.split("=")[0] for line in done.stderr.splitlines()) == [
        "tidegate: TIDEGATE_CACHE_KEY",
        "tidegate: TIDEGATE_MAX_COST",
        "tidegate: TIDEGATE_REDIS_URL",
    ]


def test_an_unknown_variable_is_a_warning_naming_the_closest_setting(tmp_path: Path) -> None:
    """A warning, not an error: `tidegate token` still prints its token and exits 0."""
    done = tidegate(
        ["token", "--role", "agent", "--agent-id", "A1001"], {"TIDEGATE_MAX_QUERY_DEPT": "3"}, tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "tidegate: warning: TIDEGATE_MAX_QUERY_DEPT is not a setting; did you mean TIDEGATE_MAX_QUERY_DEPTH?"
    ]
    assert done.stdout.count(".") == 2  # a JWT


def test_serve_warns_about_an_unknown_variable_too(tmp_path: Path) -> None:
    done = tidegate(["serve", "--port", "0"], {"TIDEGATE_REDIS": "x", "TIDEGATE_REPLICAS": "2"}, tmp_path)
    assert done.returncode == 2
    warning, refusal = done.stderr.splitlines()
    assert warning == "tidegate: warning: TIDEGATE_REDIS is not a setting; did you mean TIDEGATE_REDIS_URL?"
    assert "TIDEGATE_REPLICAS=2 needs TIDEGATE_REDIS_URL" in refusal


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def test_serve_on_a_busy_port_is_refused_before_start_up(busy_port: int, tmp_path: Path) -> None:
    done = tidegate(["serve", "--port", str(busy_port)], {}, tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"tidegate: cannot listen on 127.0.0.1:{busy_port}: the port is in use"
    ]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == "tidegate 0.1.0"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["ringing"], "--caller is required for ringing"),
        (["ringing", "--caller", "12345"], "--caller '12345': not a mainland mobile or landline"),
        (["answered", "--caller", "call me"], "--caller 'call me'"),
        (["ended", "--event-id", "has space"], "--event-id 'has space'"),
        (["ended", "--url", "127.0.0.1:8000"], "--url '127.0.0.1:8000'"),
    ],
)
def test_cti_checks_its_arguments_before_sending(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing is sent (no server listens here): the refusal is the command's own, exit 2."""
    from gateway.cli import main

    assert main(["cti", *args, "--agent-id", "A1001", "--call-id", "c-1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("tidegate cti: ") and named in err[0], err


def test_cti_empty_agent_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli import main

    assert main(["cti", "ended", "--agent-id", "", "--call-id", "c-1"]) == 2
    assert "--agent-id and --call-id must not be empty" in capsys.readouterr().err


def _time_wait_port() -> int:
    """A port whose last connection sits in TIME_WAIT (the server side closed first), nothing listening."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the active close: TIME_WAIT on the listening port's side
        client.recv(1)
        client.close()
    return port


def test_a_port_in_time_wait_reads_as_free_as_uvicorn_binds_it() -> None:
    from gateway.http.serving import bind_problem
    from simulators.launch import port_free

    port = _time_wait_port()
    with socket.socket() as plain:  # the old check: bind without SO_REUSEADDR
        try:
            plain.bind(("127.0.0.1", port))
        except OSError:
            pass
        else:
            pytest.skip("no TIME_WAIT left on the port here")
    assert port_free(port)
    assert bind_problem("127.0.0.1", port) is None


@pytest.mark.parametrize(("ttl", "accepted"), [("3600", True), ("3601", False), ("86400", False)])
def test_a_token_lasts_at_most_an_hour_as_the_docs_say(ttl: str, accepted: bool, tmp_path: Path) -> None:
    """docs/security.md (printed from `MAX_TOKEN_TTL_S`) says an hour: `tidegate token` keeps to it."""
    done = tidegate(["token", "--role", "agent", "--agent-id", "A1001", "--ttl-s", ttl], {}, tmp_path)
    if accepted:
        assert done.returncode == 0 and done.stdout.count(".") == 2, done.stderr
        return
    assert done.returncode == 2 and done.stdout == ""
    *usage, line = done.stderr.splitlines()  # argparse's usage lines, then the refusal
    assert usage[0].startswith("usage: tidegate token")
    assert "--ttl-s" in line and "at most 3600 s" in line
