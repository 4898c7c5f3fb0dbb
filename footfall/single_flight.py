"""One Redis lookup per key at a time: concurrent callers of a key share its answer.

A cold collector (just started, or a new day's salt) may receive hundreds of
requests at once that all miss the same cache entry; without this each would
take a Redis connection for the same read and the pool would run dry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._calls: dict[Hashable, asyncio.Future[T]] = {}

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        future = self._calls.get(key)
        if future is None:
            future = asyncio.ensure_future(call())
            self._calls[key] = future
            future.add_done_callback(lambda _: self._calls.pop(key, None))
        # Shielded: one caller giving up must not cancel the lookup the others wait on.
        return await asyncio.shield(future)
