"""Fake time for tests: nothing in the suite sleeps for real.

``FakeClock`` is wall-clock time for the emulator (its injected clock); ``FakeTime`` is the client's
monotonic clock and sleep: sleeping records the wait and moves the time on, optionally dragging an
emulator's ``FakeClock`` along (so a cluster starts while the waiter "waits") and running hooks.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class FakeClock:
    """Epoch seconds that move only when a test advances them."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeTime:
    """A monotonic clock that moves only when the code under test sleeps (or a test moves it)."""

    def __init__(self, *, start: float = 0.0, follow: FakeClock | None = None) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.on_sleep: list[Callable[[], object]] = []
        self.follow = follow

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.follow is not None:
            self.follow.advance(seconds)
        for hook in self.on_sleep:
            hook()
