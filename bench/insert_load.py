"""Inserts while a bench queries: events of a second site, through Redis and a real aggregator.

`bench/dashboard.py --insert-rate 2000` runs its calls while this module adds page views
of `SITE` ("load.example") to its Redis stream at the rate asked and an `Aggregator`
(aggregator/consumer.py, as `footfall serve` runs it: the same ClickHouse client and
thread as the dashboard) inserts them, so that queries meet inserts, materialized views
and merges in the tables they read. The bench's own site is not touched, so its answers
stay comparable to raw events. Events are dated at the bench's stopped clock ("now",
the data's end: its open day). Bounded: at most `MAX_SECONDS` and as many events as the
rate gives in that time. `remove` deletes the load's rows afterwards, so that the bench's
folder holds only its data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from aggregator.consumer import Aggregator
from footfall import keys
from footfall.connections import AsyncClickHouse, async_redis
from footfall.settings import Settings
from footfall.wire import StreamEvent, days_since_epoch, stream_entry

SITE = "load.example"
MAX_SECONDS = 3600
ARTICLES = 500
_TICK = 0.05


@dataclass
class Load:
    """What a load added: events sent to the stream, the seconds it ran, and how many the
    aggregator inserted (counted in ClickHouse after it stopped)."""

    sent: int = 0
    seconds: float = 0.0
    inserted: int = 0

    def describe(self) -> str:
        rate = self.sent / self.seconds if self.seconds else 0
        return (
            f"insert load: {self.sent:,} page views of {SITE} in {self.seconds:.0f} s "
            f"({rate:,.0f}/s) through Redis and an aggregator; {self.inserted:,} in ClickHouse"
        )


async def run(
    settings: Settings,
    clickhouse: AsyncClickHouse,
    rate: int,
    clock: Callable[[], int],
    local_date: dt.date,
    stop: asyncio.Event,
) -> Load:
    """Send page views at `rate` per second until `stop` (or `MAX_SECONDS`), an aggregator
    inserting them meanwhile; then drain what is left and count what ClickHouse holds."""
    redis = async_redis(settings.redis_url)
    aggregator = Aggregator(settings, redis, clickhouse, consumer="bench-load", clock=clock)
    await aggregator.prepare()
    consuming = asyncio.create_task(aggregator.run())
    load = Load()
    started = time.monotonic()
    date = days_since_epoch(local_date)
    try:
        while not stop.is_set() and time.monotonic() - started < MAX_SECONDS:
            due = int((time.monotonic() - started) * rate)
            if due > load.sent:
                async with redis.pipeline(transaction=False) as pipe:
                    for i in range(load.sent, due):
                        pipe.xadd(keys.stream(SITE), _entry(i, clock(), date))
                    await pipe.execute()
                load.sent = due
            await asyncio.sleep(_TICK)
        load.seconds = time.monotonic() - started
    finally:
        aggregator.stop()
        await consuming
        await aggregator.drain()
        await redis.aclose()
    rows = await clickhouse.query(
        "SELECT count() FROM events WHERE site = {s:String}", parameters={"s": SITE}
    )
    load.inserted = rows[0][0]
    return load


def _entry(i: int, now_ms: int, date: int) -> dict[str, bytes | int]:
    """Page view `i`: a visit of one page view by visitor `i`, on one of `ARTICLES` articles."""
    article = i % ARTICLES
    event = StreamEvent(ts=now_ms, site=SITE, date=date, type="pageview", name="pageview",
                        url=f"https://{SITE}/news/a-{article}.html", visitor_id=i,
                        article=str(article))  # fmt: skip
    return stream_entry(event, True, now_ms, 1, 0)


def remove(client) -> list[str]:  # type: ignore[no-untyped-def]
    """Delete the load's rows from every table that has a `site` column (mutations, waited
    for); returns those tables."""
    tables = [
        table
        for (table,) in client.query(
            "SELECT table FROM system.columns WHERE database = currentDatabase() "
            "AND name = 'site' AND table IN (SELECT name FROM system.tables "
            "WHERE database = currentDatabase() AND engine LIKE '%MergeTree')"
        ).result_rows
    ]
    for table in tables:
        client.command(
            f"ALTER TABLE {table} DELETE WHERE site = {{s:String}}",
            parameters={"s": SITE},
            settings={"mutations_sync": 1},
        )
    return tables
