"""Hadolint-like rules for Tidegate's Dockerfile, each a function returning the problems it finds.

The rules are what the images promise (docs/container.md): exact base images, a non-root user with a
fixed uid in every image that runs, the locked packages only (hash-checked, the BFF's runtime subset),
a liveness check on the port the BFF listens on, and a build context that holds what the build copies.
Each returns a list of sentences rather than asserting, so that a test can feed it a broken copy and
see it complain (tests/deploy/test_container.py): a rule that cannot fail checks nothing.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from pathlib import Path

from gateway.settings import ServingSettings
from tests.deploy.dockerfile import Dockerfile, Instruction, Stage

ROOT = Path(__file__).resolve().parents[2]
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+")
# The image locks (Makefile `lock`): requirements.lock itself holds the test tools and Faker.
RUNTIME_LOCK = "requirements-runtime.lock"
FULL_LOCK = "requirements.lock"
PYTHON = "3.11."  # the lock is resolved for Python 3.11 (`--python-version 3.11`)

Rule = Callable[[Dockerfile, Path], list[str]]


def image_problems(reference: str) -> list[str]:
    """An image reference must name an exact release: a tag with a full x.y.z version, never `latest`."""
    if "$" in reference:
        return [f"{reference}: an unresolved variable"]
    name = reference.partition("@")[0]
    repository, _, tag = name.rpartition(":") if ":" in name.split("/")[-1] else (name, "", "")
    if not tag:
        return [f"{reference}: untagged (means latest)"]
    if tag == "latest":
        return [f"{reference}: the latest tag moves under us"]
    if not EXACT_VERSION.match(tag):
        return [f"{reference}: tag {tag!r} is not an exact x.y.z version"]
    if repository.split("/")[-1] == "python" and not tag.startswith(PYTHON):
        return [f"{reference}: not the Python the lock is resolved for ({PYTHON}x)"]
    return []


def pinned_bases(dockerfile: Dockerfile, _root: Path) -> list[str]:
    problems: list[str] = []
    earlier: set[str] = set()
    for stage in dockerfile.stages:
        if stage.base not in earlier:
            problems += [p for p in image_problems(stage.base) if p not in problems]
        if stage.name:
            earlier.add(stage.name)
    return problems


def multi_stage(dockerfile: Dockerfile, _root: Path) -> list[str]:
    """Built in one stage, run from another: the final image gets packages, never build tools."""
    earlier = {s.name for s in dockerfile.stages[:-1] if s.name}
    if not dockerfile.final.copied_from() or not {s for s, _ in dockerfile.final.copied_from()} <= earlier:
        return ["the final stage copies nothing from an earlier (build) stage"]
    if any(_installs(argv) for argv in dockerfile.final.commands()):
        return ["the final stage installs packages itself"]
    return []


def runnable_stages(dockerfile: Dockerfile) -> list[Stage]:
    """Stages that are images someone runs: the final one and any no other stage copies from."""
    sources = {source for stage in dockerfile.stages for source, _ in stage.copied_from()}
    return [s for s in dockerfile.stages if s is dockerfile.final or s.name not in sources]


def non_root(dockerfile: Dockerfile, _root: Path) -> list[str]:
    """Every runnable stage ends as a fixed, numeric, non-zero uid that the stage itself creates."""
    problems: list[str] = []
    for stage in runnable_stages(dockerfile):
        user = stage.last("USER")
        uid = user.args.split(":")[0] if user else ""
        if not uid.isdigit() or int(uid) == 0:
            problems.append(f"stage {stage.name}: USER {uid or '(none)'} is not a fixed non-root uid")
        elif not any("useradd" in a and f"--uid={uid}" in _joined_options(a) for a in stage.commands()):
            problems.append(f"stage {stage.name}: uid {uid} is not created with useradd --uid")
    return problems


def listening_port(stage: Stage) -> int:
    """Where the BFF listens: TIDEGATE_PORT from the stage's ENV, else the Settings default."""
    value = stage.env().get("TIDEGATE_PORT")
    return int(value) if value else int(ServingSettings.model_fields["port"].default)


def healthcheck(dockerfile: Dockerfile, _root: Path) -> list[str]:
    """The final stage probes /healthz with Python (the slim base has no curl) on its own port."""
    stage = dockerfile.final
    check = stage.last("HEALTHCHECK")
    if check is None or check.body().upper() == "NONE" or not check.body().startswith("CMD"):
        return ["the final stage has no HEALTHCHECK CMD"]
    command = check.body().removeprefix("CMD").strip()
    argv = Instruction("CMD", command).argv()
    port = listening_port(stage)
    script = " ".join(argv)
    problems = []
    if argv[0] not in {"python", "python3"}:
        problems.append(f"HEALTHCHECK runs {argv[0]}, which the slim base may not have")
    if "/healthz" not in script:
        problems.append("HEALTHCHECK does not ask /healthz")
    reads_setting = "TIDEGATE_PORT" in script and "TIDEGATE_PORT" in stage.env()
    if not reads_setting and f":{port}/healthz" not in script:
        problems.append(f"HEALTHCHECK does not ask the port the BFF listens on ({port})")
    if port not in stage.exposed():
        problems.append(f"the final stage does not EXPOSE the BFF's port {port}")
    if stage.env().get("TIDEGATE_HOST") != "0.0.0.0":
        problems.append("TIDEGATE_HOST is not 0.0.0.0: the BFF would listen on the container's loopback only")
    started = [*_argv(stage.last("ENTRYPOINT")), *_argv(stage.last("CMD"))]
    if {"--port", "--host"} & set(started):
        problems.append("ENTRYPOINT/CMD override the host or port the HEALTHCHECK reads from ENV")
    return problems


def hashed_installs(dockerfile: Dockerfile, root: Path) -> list[str]:
    """Packages come from committed locks, hash-checked; the only other thing installed is our wheel."""
    problems: list[str] = []
    installs = 0
    for stage in dockerfile.stages:
        for argv in stage.commands():
            if _installs(argv):
                installs += 1
                problems += _install_problems(argv, root)
            if _builds(argv):
                options = _joined_options(argv)
                if "--require-hashes" not in options or not any(
                    o.startswith("--build-constraints=requirements") for o in options
                ):
                    problems.append(f"{' '.join(argv)}: its build backend is not hash-checked from a lock")
    return problems if installs else ["no package installs found"]


def runtime_subset(dockerfile: Dockerfile, _root: Path) -> list[str]:
    """Each environment the final image copies was filled from the runtime lock alone."""
    copied = [path for _, paths in dockerfile.final.copied_from() for path in paths]
    problems = []
    for stage in dockerfile.stages:
        for argv in stage.commands():
            if not _installs(argv):
                continue
            target = _option(argv, "--python") or ""
            locks = _locks(argv)
            copied_here = any(target.startswith(path.rstrip("/") + "/") for path in copied)
            if copied_here and locks and locks != [RUNTIME_LOCK]:
                problems.append(f"the final image's environment is filled from {locks}, not {RUNTIME_LOCK}")
    if not any("--python" in argv for s in dockerfile.stages for argv in s.commands() if _installs(argv)):
        problems.append("no install names the environment it fills (--python)")
    return problems


def context_holds_copies(dockerfile: Dockerfile, root: Path) -> list[str]:
    """Every COPY source exists and gets past .dockerignore (an allowlist): else the build fails."""
    ignore = root / ".dockerignore"
    patterns = [
        line.strip()
        for line in ignore.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    problems = []
    for stage in dockerfile.stages:
        for instruction in stage.all("COPY"):
            if "from" in instruction.flags():
                continue
            for source in instruction.argv()[:-1]:
                path = source.rstrip("/")
                if not (root / path).exists():
                    problems.append(f"COPY {source}: no such file in the checkout")
                elif not in_context(path, patterns):
                    problems.append(f"COPY {source}: left out of the build context by .dockerignore")
    return problems


def in_context(path: str, patterns: list[str]) -> bool:
    """Docker's rule, for the patterns we use: the last pattern matching the path or a parent wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.lstrip("!").rstrip("/")
        for candidate in candidates:
            name = candidate.split("/")[-1]
            if fnmatch.fnmatchcase(candidate, glob) or (
                glob.startswith("**/") and fnmatch.fnmatchcase(name, glob.removeprefix("**/"))
            ):
                included = negated
    return included


RULES: dict[str, Rule] = {
    "pinned_bases": pinned_bases,
    "multi_stage": multi_stage,
    "non_root": non_root,
    "healthcheck": healthcheck,
    "hashed_installs": hashed_installs,
    "runtime_subset": runtime_subset,
    "context_holds_copies": context_holds_copies,
}


def problems(dockerfile: Dockerfile, root: Path = ROOT) -> list[str]:
    return [f"{name}: {p}" for name, rule in RULES.items() for p in rule(dockerfile, root)]


def _argv(instruction: Instruction | None) -> list[str]:
    return instruction.argv() if instruction is not None else []


def _joined_options(argv: list[str]) -> list[str]:
    """`--name value` and `--name=value` both as `--name=value`; bare flags as they are."""
    joined: list[str] = []
    for i, word in enumerate(argv):
        takes_value = i + 1 < len(argv) and not argv[i + 1].startswith("-")
        if word.startswith("--") and "=" not in word and takes_value:
            joined.append(f"{word}={argv[i + 1]}")
        joined.append(word)
    return joined


def _option(argv: list[str], name: str) -> str | None:
    for i, word in enumerate(argv[:-1]):
        if word == name:
            return argv[i + 1]
    return None


def _installs(argv: list[str]) -> bool:
    """`pip install`, `python -m pip install`, `uv pip install` and `uv pip sync`."""
    return any(
        word.split("/")[-1] == "pip" and argv[i + 1] in {"install", "sync"}
        for i, word in enumerate(argv[:-1])
    )


def _builds(argv: list[str]) -> bool:
    return any(w.split("/")[-1] == "uv" and argv[i + 1] == "build" for i, w in enumerate(argv[:-1])) or (
        "wheel" in argv and any(w.split("/")[-1] == "pip" for w in argv)
    )


def _locks(argv: list[str]) -> list[str]:
    """The lock files an install reads: `-r FILE` for install, positional files for sync."""
    found = [argv[i + 1] for i, w in enumerate(argv[:-1]) if w in {"-r", "--requirement"}]
    if "sync" in argv:
        found += [w for w in argv if w.endswith((".lock", ".txt")) and w not in found]
    return found


def _install_problems(argv: list[str], root: Path) -> list[str]:
    command = " ".join(argv)
    locks = _locks(argv)
    wheels = [w for w in argv if w.endswith(".whl")]
    start = next(i for i, w in enumerate(argv) if w in {"install", "sync"}) + 1
    takes_value = {"-r", "--requirement", "--python", "-c", "--constraint"}
    named = [
        w
        for i, w in enumerate(argv[start:], start)
        if not w.startswith("-") and argv[i - 1] not in takes_value and w not in locks and w not in wheels
    ]
    problems = []
    if named:
        problems.append(f"{command}: installs {named} from the index, not from a lock")
    if locks and "--require-hashes" not in argv:
        problems.append(f"{command}: reads a lock without --require-hashes")
    if "install" in argv and (locks or wheels) and "--no-deps" not in argv:
        problems.append(f"{command}: without --no-deps, dependencies could come from outside the lock")
    for lock in locks:
        if not re.fullmatch(r"requirements(-[a-z]+)?\.lock", lock) or not (root / lock).is_file():
            problems.append(f"{command}: {lock} is not one of the committed locks")
        if lock == FULL_LOCK:
            problems.append(f"{command}: {FULL_LOCK} holds the test tools; an image takes a subset")
    if not (locks or wheels):
        problems.append(f"{command}: installs neither a lock nor our wheel")
    return problems
