"""Money as integer fen: no floats anywhere between the ledger and the agent's screen."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Money:
    fen: int

    @property
    def yuan(self) -> str:
        """Decimal string with two places: 1234 fen -> "12.34", -5 -> "-0.05"."""
        sign = "-" if self.fen < 0 else ""
        whole, part = divmod(abs(self.fen), 100)
        return f"{sign}{whole}.{part:02d}"

    def __add__(self, other: Money) -> Money:
        return Money(self.fen + other.fen)

    @classmethod
    def zero(cls) -> Money:
        return cls(0)
