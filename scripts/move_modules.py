"""One-off refactoring aid (issue 16): move modules with `git mv` and rewrite every reference.

Usage: python scripts/move_modules.py MAPFILE   (lines "old/path.py new/path.py"; a directory
moves whole when both sides end in "/"). Rewrites dotted module names and slash paths in every
tracked text file. Kept in scripts/ for the next move; it never runs in the build.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = {".py", ".md", ".toml", ".yaml", ".yml", ".cfg", ".ini", ".txt", ".graphql", ".json", ""}
SKIP = ("gateway/static/vendor", "requirements", "package-lock.json", "gql/manifest.json")


def dotted(path: str) -> str:
    p = path[:-3] if path.endswith(".py") else path.rstrip("/")
    if p.endswith("/__init__"):
        p = p[: -len("/__init__")]
    return p.replace("/", ".")


def pairs(mapfile: Path) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for line in mapfile.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        old, new = line.split()
        if old.endswith("/"):
            for f in sorted((ROOT / old).rglob("*.py")):
                rel = f.relative_to(ROOT).as_posix()
                out.append((rel, new + rel[len(old) :]))
        else:
            out.append((old, new))
    return out


def dirs(mapfile: Path) -> list[tuple[str, str]]:
    lines = [ln.split("#", 1)[0].split() for ln in mapfile.read_text().splitlines()]
    return [(ln[0], ln[1]) for ln in lines if ln and ln[0].endswith("/")]


def _alternation(names: list[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


def rewrite_rules(
    moves: list[tuple[str, str]], moved_dirs: list[tuple[str, str]]
) -> list[tuple[re.Pattern[str], dict[str, str]]]:
    """Dotted names, then slash paths; a bare package name only where code names it."""
    packages = {dotted(o): dotted(n) for o, n in moves if o.endswith("__init__.py")}
    modules = {dotted(o): dotted(n) for o, n in moves if dotted(o) not in packages}
    rules: list[tuple[re.Pattern[str], dict[str, str]]] = []
    if modules:
        rules.append((re.compile(rf"(?<![\w.])({_alternation(list(modules))})(?![\w])"), modules))
    if packages:
        alt = _alternation(list(packages))
        for pattern in (
            rf"(?<=from )({alt})(?= import)",
            rf"(?<=import )({alt})(?=[\s,.])",
            rf"(?<![\w.])({alt})(?=\.[a-z_])",
            rf"(?<=[\"'`])({alt})(?=[\"'`*])",
        ):
            rules.append((re.compile(pattern), packages))
    paths = dict(moved_dirs) | dict(moves)
    rules.append((re.compile(rf"(?<![\w/.])({_alternation(list(paths))})"), paths))
    return rules


def main() -> None:
    moves = pairs(Path(sys.argv[1]))
    targets = {new for _, new in moves}
    for old, new in sorted(moves, key=lambda p: not p[0].endswith("__init__.py")):
        target = ROOT / new
        target.parent.mkdir(parents=True, exist_ok=True)
        init = target.parent / "__init__.py"
        subprocess.run(["git", "mv", old, new], cwd=ROOT, check=True)
        if not init.exists() and init.relative_to(ROOT).as_posix() not in targets:
            init.write_text("")
            subprocess.run(["git", "add", str(init)], cwd=ROOT, check=True)
    rules = rewrite_rules(moves, dirs(Path(sys.argv[1])))
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    for name in files:
        path = ROOT / name
        if path.suffix not in TEXT or any(s in name for s in SKIP) or not path.is_file():
            continue
        if path.suffix == "" and path.name not in {"Makefile", "Dockerfile", "run"}:
            continue
        text = path.read_text(encoding="utf-8")
        new_text = text
        for pattern, table in rules:  # each rule one pass: a rewritten name is never rewritten again
            new_text = pattern.sub(lambda m, t=table: t.get(m.group(1), m.group(0)), new_text)
        if new_text != text:
            path.write_text(new_text, encoding="utf-8")


if __name__ == "__main__":
    main()
