"""The call log the fakes share: method names in call order, like a simulator's request stats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class CallLog:
    """What the fakes were asked, in order; one log may be shared by all four."""

    names: list[str] = field(default_factory=list)

    def record(self, name: str) -> None:
        self.names.append(name)

    def count(self, name: str) -> int:
        return self.names.count(name)


def check_batch(keys: Sequence[object], limit: int, what: str, *, empty_ok: bool = True) -> None:
    """The adapters refuse a batch larger than their system takes, before any call, and the CRM's and
    the work-order system's an empty one too: so do the fakes."""
    if isinstance(keys, str | bytes):
        raise TypeError(f"{what}: expected a sequence of keys, got a single string")
    if len(set(keys)) > limit or (not keys and not empty_ok):
        raise ValueError(f"{what}: batches take {0 if empty_ok else 1}..{limit} keys, got {len(set(keys))}")


def positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be 1 or more, got {value}")
