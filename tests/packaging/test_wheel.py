"""The wheel holds the product only: the BFF imports and runs without the simulators or Faker.

The simulators are other companies' systems, run from a checkout (`tidegate demo`); a utility
installing Tidegate gets gateway, schema, services, backends, infra and domain, and Faker is only in the
`simulators` extra. The wheel is built here with the locked setuptools, without build isolation,
from a copy of the tracked files (a build writes into its source tree).
"""

from __future__ import annotations

import email
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PRODUCT = {"gateway", "schema", "services", "backends", "infra", "domain", "gql"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    for name in filter(None, tracked):
        path = Path(name.decode())
        if (ROOT / path).is_file():
            (source / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, source / path)
    out = tmp_path_factory.mktemp("dist")
    build = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
    subprocess.run([sys.executable, "-c", build, str(out)], cwd=source, check=True, capture_output=True)
    (built,) = out.glob("*.whl")
    yield built


def test_the_wheel_holds_the_product_packages_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        top = {
            name.split("/")[0] for name in archive.namelist() if not name.split("/")[0].endswith(".dist-info")
        }
    assert top == PRODUCT


def test_faker_is_only_in_the_simulators_extra(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        requires = email.message_from_bytes(archive.read(metadata)).get_all("Requires-Dist") or []
    faker = [r for r in requires if r.lower().startswith("faker")]
    assert faker and all('extra == "simulators"' in r for r in faker), faker


def test_the_bff_imports_and_builds_its_cli_without_simulators_or_faker(wheel: Path, tmp_path: Path) -> None:
    """Run from the unpacked wheel with the checkout off sys.path and Faker made unimportable."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path)
    probe = (
        "import sys\n"
        f"sys.path = [p for p in sys.path if p not in ('', {str(ROOT)!r})]\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "sys.modules['faker'] = None\n"
        "import gateway.app, gateway.cli\n"
        "assert gateway.app.__file__.startswith(sys.path[0]), gateway.app.__file__\n"
        "assert 'simulators' not in sys.modules\n"
        "parser = gateway.cli.build_parser()\n"
        "print(sorted(parser._subparsers._group_actions[0].choices))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["['cti',", "'pq',", "'sdl',", "'serve',", "'token']"]


def test_the_image_copies_every_product_package() -> None:
    """The Dockerfile builds the wheel from what it COPYs: a package the wheel holds but the image
    never copies fails only when someone builds the image (`domain/` was missing that way)."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\w+)/ \1/$", dockerfile, flags=re.M))
    allowed = (ROOT / ".dockerignore").read_text(encoding="utf-8")
    assert copied >= PRODUCT
    assert all(f"!{package}/" in allowed for package in PRODUCT)
