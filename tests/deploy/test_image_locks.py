"""The container images' locks are subsets of requirements.lock: same pins, same markers, same hashes.

`make lock` derives requirements-runtime.lock (the BFF image) and requirements-simulators.lock from
requirements.lock, used as constraints, and `make lock-check` proves they are current. This test says
what they must be whoever wrote them: nothing in them that the main lock (what the tests ran with)
does not hold exactly, the BFF's whole runtime and none of the test tools or Faker.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "requirements.lock"
RUNTIME = ROOT / "requirements-runtime.lock"
SIMULATORS = ROOT / "requirements-simulators.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?:\s*;\s*(.+?))?\s*\\?$")
_HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")


@dataclass(frozen=True)
class Pin:
    version: str
    marker: str | None
    hashes: frozenset[str]


def normalized(name: str) -> str:
    """PEP 503: `Types_PyYAML` and `types-pyyaml` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(text: str) -> dict[str, Pin]:
    """`name==version [; marker] \\` lines and the `--hash=` lines under each, by normalized name."""
    pins: dict[str, Pin] = {}
    current: tuple[str, str, str | None] | None = None
    hashes: set[str] = set()
    for line in [*text.splitlines(), "end==0"]:
        if match := _PIN.match(line):
            if current is not None:
                pins[current[0]] = Pin(current[1], current[2], frozenset(hashes))
            current, hashes = (normalized(match[1]), match[2], match[3]), set()
        hashes.update(_HASH.findall(line))
    return pins


def differences(subset: dict[str, Pin], main: dict[str, Pin]) -> list[str]:
    """Every way `subset` is not exactly a part of `main`."""
    return [
        f"{name}: {pin} (main lock: {main.get(name)})"
        for name, pin in sorted(subset.items())
        if main.get(name) != pin
    ]


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalized(re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0]) for r in requirements}


def project() -> dict[str, Any]:
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: dict[str, Any] = doc["project"]
    return found


@pytest.fixture(scope="module")
def main() -> dict[str, Pin]:
    return read_lock(MAIN.read_text(encoding="utf-8"))


@pytest.mark.parametrize("lock", [RUNTIME, SIMULATORS], ids=lambda p: p.name)
def test_an_image_lock_holds_only_the_main_locks_pins(lock: Path, main: dict[str, Pin]) -> None:
    pins = read_lock(lock.read_text(encoding="utf-8"))
    assert len(pins) >= 40  # the lock was read: a parse that finds nothing must not pass
    assert all(pin.hashes for pin in pins.values())
    assert differences(pins, main) == []


def test_the_runtime_lock_is_the_runtime_and_nothing_for_tests_or_simulators() -> None:
    pins = set(read_lock(RUNTIME.read_text(encoding="utf-8")))
    extras = project()["optional-dependencies"]
    assert requirement_names(project()["dependencies"]) <= pins
    assert requirement_names(extras["dev"] + extras["simulators"]) & pins == set()


def test_the_simulators_lock_is_the_runtime_and_faker() -> None:
    runtime = read_lock(RUNTIME.read_text(encoding="utf-8"))
    simulators = read_lock(SIMULATORS.read_text(encoding="utf-8"))
    assert set(runtime) < set(simulators)
    assert "faker" in simulators


def test_a_changed_pin_or_hash_is_a_difference(main: dict[str, Pin]) -> None:
    text = RUNTIME.read_text(encoding="utf-8")
    redis = read_lock(text)["redis"]
    other_version = text.replace(f"redis=={redis.version}", "redis==0.0.1")
    one_hash = sorted(redis.hashes)[0]
    other_hash = text.replace(one_hash, "sha256:" + "0" * 64)
    for broken in (other_version, other_hash):
        assert [d.split(":")[0] for d in differences(read_lock(broken), main)] == ["redis"]
