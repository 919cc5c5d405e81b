"""A small Dockerfile reader for the static container checks: stages, instructions, ENV, RUN commands.

No Docker daemon runs where the tests run, so the Dockerfile is read rather than built. This covers
the syntax our Dockerfile uses (continuation lines, comment lines, global `ARG` defaults in `FROM`,
`ENV k=v` pairs, exec-form JSON arguments) and no more; a construct it does not know is left as
text, where a rule that needs it will fail rather than pass by accident.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_FLAG = re.compile(r"--([\w-]+)=(\S+)\s*")
_SHELL_SPLIT = re.compile(r"&&|\|\||;")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str  # the rest of the logical line, continuation lines joined

    def flags(self) -> dict[str, str]:
        """Leading `--name=value` options (`COPY --from=builder`, `HEALTHCHECK --interval=10s`)."""
        return dict(_FLAG.findall(self._split_flags()[0]))

    def body(self) -> str:
        """The arguments after the leading flags."""
        return self._split_flags()[1]

    def _split_flags(self) -> tuple[str, str]:
        rest, flags = self.args, ""
        while match := _FLAG.match(rest):
            flags += match.group(0)
            rest = rest[match.end() :]
        return flags, rest

    def argv(self) -> list[str]:
        """Exec-form (`["a", "b"]`) arguments as a list; shell form split as a shell would."""
        body = self.body()
        if body.startswith("["):
            parsed = json.loads(body)
            assert isinstance(parsed, list)
            return [str(item) for item in parsed]
        return shlex.split(body)


@dataclass
class Stage:
    name: str | None
    base: str  # after the global ARG defaults are substituted
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        """Variables set by this stage's `ENV key=value ...` lines (later ones win)."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for token in shlex.split(instruction.args):
                name, _, value = token.partition("=")
                values[name] = value
        return values

    def exposed(self) -> set[int]:
        return {int(port.split("/")[0]) for i in self.all("EXPOSE") for port in i.args.split()}

    def copied_from(self) -> list[tuple[str, list[str]]]:
        """(source stage, source paths) of every `COPY --from=...`."""
        found = []
        for instruction in self.all("COPY"):
            source = instruction.flags().get("from")
            if source is not None:
                found.append((source, instruction.argv()[:-1]))
        return found

    def commands(self) -> list[list[str]]:
        """Every simple command of every RUN, split on `&&`, `||` and `;`, as argv lists."""
        return [
            shlex.split(part)
            for instruction in self.all("RUN")
            for part in _SHELL_SPLIT.split(instruction.args)
            if part.strip()
        ]


@dataclass
class Dockerfile:
    args: dict[str, str]  # global ARG defaults (before the first FROM)
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def stage_names(self) -> set[str]:
        return {s.name for s in self.stages if s.name}


def logical_lines(text: str) -> list[str]:
    """Comment lines dropped (also inside a continuation, as Docker does), continuations joined."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    if pending:
        lines.append(pending.strip())
    return lines


def substitute(text: str, values: dict[str, str]) -> str:
    """`${NAME}` and `$NAME` replaced by `values`; unknown names left as written."""
    return _VARIABLE.sub(lambda m: values.get(m.group(1) or m.group(2), m.group(0)), text)


def parse(text: str) -> Dockerfile:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical_lines(text):
        keyword, _, rest = line.partition(" ")
        instruction = Instruction(keyword.upper(), rest.strip())
        if instruction.keyword == "FROM":
            words = substitute(instruction.body(), args).split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(name, words[0] if words else ""))
        elif not stages:
            if instruction.keyword == "ARG":
                name, _, default = instruction.args.partition("=")
                args[name.strip()] = default.strip()
        else:
            stages[-1].instructions.append(instruction)
    return Dockerfile(args, stages)


def read(path: Path) -> Dockerfile:
    return parse(path.read_text(encoding="utf-8"))
