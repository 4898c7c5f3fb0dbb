"""Background work (closing days) on ClickHouse's one thread lets the calls made for
someone (a dashboard's queries, an insert) go first, and is never starved by them."""

from __future__ import annotations

import asyncio
import threading

from footfall.connections import AsyncClickHouse


async def test_a_query_made_while_background_work_waits_its_turn_goes_first(ch):
    clickhouse = AsyncClickHouse(ch)
    done: list[str] = []
    release = threading.Event()

    def call(name: str, *, hold: bool = False) -> None:
        if hold:
            release.wait(10)
        done.append(name)

    first = asyncio.ensure_future(clickhouse.run(call, "query 1", hold=True))
    await asyncio.sleep(0)  # it holds the thread
    closing = asyncio.ensure_future(clickhouse.in_background().run(call, "closing"))
    await asyncio.sleep(0)  # it waits for its turn
    second = asyncio.ensure_future(clickhouse.run(call, "query 2"))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, second, closing)
    assert done == ["query 1", "query 2", "closing"]  # in the order asked, "closing" was 2nd
    clickhouse.close()


async def test_background_work_goes_on_under_calls_that_never_stop(ch):
    clickhouse = AsyncClickHouse(ch)
    closing = asyncio.ensure_future(clickhouse.in_background().query("SELECT 1"))
    calls = 0
    while not closing.done() and calls < 10_000:  # bounded: ~10 s of back-to-back calls
        await clickhouse.query("SELECT 1")
        calls += 1
    assert closing.done() and await closing == [(1,)]
    clickhouse.close()
