"""The clock is a parameter: components take a `Clock`, tests pass one they move."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]
"""Returns the current time in milliseconds since the epoch (UTC)."""


def system_clock() -> int:
    return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start_ms: int = 1_700_049_600_000):  # 2023-11-15 12:00 UTC
        self.now_ms = start_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, seconds: float) -> None:
        self.now_ms += round(seconds * 1000)
