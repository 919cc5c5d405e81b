"""The fenced blocks of README.md and docs/*.md, and what each says about being run.

A shell block (`sh`, `bash`, `shell`, `console`, `zsh`) is preceded by one marker line:

    <!-- doc-test -->                    run it against the demo stack
    <!-- doc-test: skip (why not) -->    never run; the reason is required

and a runnable block may be followed by its expected standard output, the next fenced block,
marked `<!-- doc-test: output -->`, where `...` stands for any text. Every fence names its
language, so no command hides in an unlabelled block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

SHELL_INFOS = frozenset({"sh", "bash", "shell", "console", "zsh"})
MARKER = re.compile(r"^<!--\s*doc-test(?::\s*(?P<kind>skip|output)\b\s*(?P<reason>.*?))?\s*-->$")
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\s`]*)")
# The demo's default ports as the docs write them; a test stack shifts them all by one offset.
DEFAULT_PORT_URL = re.compile(r"(?<=127\.0\.0\.1:)(8000|8101|8102|8103|8104)\b")


class Mark(Enum):
    RUN = "run"
    SKIP = "skip"
    OUTPUT = "output"
    NONE = "none"


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    info: str
    text: str
    mark: Mark
    reason: str = ""

    @property
    def is_shell(self) -> bool:
        return self.info in SHELL_INFOS

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.line}"


@dataclass(frozen=True)
class Example:
    """A runnable block and the output the docs promise for it, if they show one."""

    block: Block
    expected: str | None


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a markdown file with the marker on the line before it (blank lines
    between allowed)."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    last_text = ""
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            if lines[i].strip():
                last_text = lines[i].strip()
            i += 1
            continue
        fence, start = opening["fence"], i
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            i += 1
        mark, reason = Mark.NONE, ""
        if m := MARKER.match(last_text):
            mark = Mark(m["kind"]) if m["kind"] else Mark.RUN
            reason = (m["reason"] or "").strip().strip("()").strip()
        text = "\n".join(lines[start + 1 : i]) + "\n"
        found.append(Block(path, start + 1, opening["info"], text, mark, reason))
        last_text = ""
        i += 1
    return found


def examples(found: list[Block]) -> list[Example]:
    """Runnable blocks paired with the output block that immediately follows each."""
    paired: list[Example] = []
    for index, block in enumerate(found):
        if block.mark is not Mark.RUN:
            continue
        following = found[index + 1] if index + 1 < len(found) else None
        expected = following.text if following is not None and following.mark is Mark.OUTPUT else None
        paired.append(Example(block, expected))
    return paired


def problems(found: list[Block]) -> list[str]:
    """What breaks the rules above: unmarked shell blocks, skips without a reason, unlabelled
    fences, runnable blocks that are not shell, output blocks that follow no runnable block."""
    issues: list[str] = []
    for index, block in enumerate(found):
        where = f"{block.path.name}:{block.line}"
        previous = found[index - 1] if index else None
        if not block.info:
            issues.append(f"{where}: a fence without a language")
        elif block.is_shell and block.mark in (Mark.NONE, Mark.OUTPUT):
            issues.append(f"{where}: a {block.info} block neither marked doc-test nor skipped with a reason")
        elif block.mark is Mark.SKIP and not block.reason:
            issues.append(f"{where}: skipped without a reason")
        elif block.mark in (Mark.RUN, Mark.SKIP) and not block.is_shell:
            issues.append(f"{where}: doc-test marks a {block.info} block, not a shell one")
        elif block.mark is Mark.OUTPUT and (previous is None or previous.mark is not Mark.RUN):
            issues.append(f"{where}: an output block that follows no runnable block")
    return issues


def shift_ports(text: str, offset: int) -> str:
    """The docs' default ports (127.0.0.1:8000, :8101-8104) moved by `offset`."""
    return DEFAULT_PORT_URL.sub(lambda m: str(int(m[1]) + offset), text)


def output_matches(expected: str, actual: str) -> bool:
    """`actual` is `expected` with each `...` standing for any text (lines' ends compared stripped)."""
    want = "\n".join(line.rstrip() for line in expected.strip().split("\n"))
    got = "\n".join(line.rstrip() for line in actual.strip().split("\n"))
    pattern = ".*?".join(re.escape(part) for part in want.split("..."))
    return re.fullmatch(pattern, got, flags=re.DOTALL) is not None
