"""Time that moves only when a test says so: injected wherever state depends on time."""

from __future__ import annotations


class FakeClock:
    """A clock (`clock()` → seconds) a test moves by hand; pass the start that suits the test."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeTime(FakeClock):
    """A clock and a `sleep` that returns at once, moving the clock and noting how long it slept."""

    def __init__(self, now: float = 0.0) -> None:
        super().__init__(now)
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
