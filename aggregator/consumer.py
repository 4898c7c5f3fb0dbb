"""The aggregator's loop: from the Redis stream into ClickHouse, exactly once.

One batch at a time, as a member of the `aggregators` consumer group:

1. read (first this consumer's own pending entries, then those of consumers
   silent for longer than `claim_after`, then new ones),
2. decode and enrich; an entry that cannot be decoded goes to the dead-letter
   stream,
3. insert with a deduplication token made of the batch's stream ids, so a
   batch retried after a crash changes no table, rollups included; retry with
   backoff while ClickHouse fails, reading nothing new meanwhile; rows that
   ClickHouse refuses as data are isolated by halving and sent to dead letters,
4. acknowledge and delete the entries, and add the batch's deltas to the hot
   counters, in one Redis script (`ack.lua`).

A consumer reads a new batch only after acknowledging the previous one, so its
pending entries are always exactly one batch, and a retry (by itself after a
restart, or by another consumer that claims them) sees the same batch and the
same token.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources

import msgspec
import redis.asyncio
import redis.exceptions
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from aggregator.counters import reseed
from aggregator.rows import COLUMNS, SiteDays, to_row
from footfall import keys
from footfall.clock import Clock, system_clock
from footfall.connections import AsyncClickHouse
from footfall.metrics import (
    BATCH_EVENTS,
    EVENTS_DEAD,
    EVENTS_INSERTED,
    INSERT_SECONDS,
    STORE_ERRORS,
)
from footfall.settings import Settings
from footfall.wire import StreamEvent, decode_entry

log = logging.getLogger(__name__)

Entry = tuple[bytes, dict[bytes, bytes]]
Dead = tuple[Entry, str]
_ACK = resources.files("aggregator").joinpath("ack.lua").read_text()
_REDIS_ERRORS = (redis.exceptions.RedisError, OSError)
# ClickHouse refuses these rows for what they contain; anything else is the server's trouble.
_DATA_ERRORS = (TypeError, ValueError, OverflowError, UnicodeError, msgspec.ValidationError)
BACKOFF_MAX = 10.0


class Row(msgspec.Struct, gc=False):
    """One event of the batch: its stream entry, the event, and its row for ClickHouse.

    Not tracked by the garbage collector, like `StreamEvent`: it is in no reference
    cycle, and a batch's rows all live until it is acknowledged, so collections in
    between would only scan them again and again.
    """

    entry: Entry
    event: StreamEvent
    values: tuple


@dataclass
class Health:
    """What `/ready` and `footfall status` report about the aggregator."""

    last_insert_ms: int = 0
    failing_since_ms: int = 0
    last_error: str = ""

    def problem(self) -> str | None:
        return f"ClickHouse insert failing: {self.last_error}" if self.failing_since_ms else None


class Aggregator:
    def __init__(
        self,
        settings: Settings,
        redis: redis.asyncio.Redis,
        clickhouse: AsyncClickHouse,
        *,
        consumer: str,
        clock: Clock = system_clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self._settings = settings
        self._redis = redis
        self._clickhouse = clickhouse
        self._consumer = consumer
        self._clock = clock
        self._sleep = sleep
        self._ack = redis.register_script(_ACK)
        self._days = SiteDays(redis)
        self._stop = asyncio.Event()
        self._in_hand: list[Entry] | None = None
        self.health = Health()

    async def run(self) -> None:
        """Consume until `stop()`; the batch in hand is finished, or abandoned to be redelivered."""
        try:
            await self._until_ok(self.prepare)
            while not self._stop.is_set():
                await self._until_ok(lambda: self.step(block_ms=self._settings.batch_wait_ms))
        except Abandoned as e:
            log.warning("batch abandoned: %s", e)

    def stop(self) -> None:
        self._stop.set()

    async def prepare(self) -> None:
        """Join the group, finish what this consumer left pending, then reseed the counters.

        Reseeding comes after recovery so that no inserted batch is waiting for
        its deltas when ClickHouse's totals are read.
        """
        try:
            await self._redis.xgroup_create(keys.STREAM, keys.CONSUMER_GROUP, id="0", mkstream=True)
        except redis.exceptions.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise
        while await self._process(await self._read_own_pending()):
            pass
        await self.claim_abandoned()
        await reseed(self._redis, self._clickhouse)

    async def step(self, block_ms: int | None = None) -> int:
        """Process one batch; returns how many entries it had.

        The batch in hand is kept until acknowledged, so a step retried after
        a Redis failure finishes that batch (its insert is deduplicated) before
        reading anything new.
        """
        try:
            if self._in_hand is None:
                with _collections_deferred():  # the reply is a batch's worth of containers
                    reply = await self._redis.xreadgroup(
                        keys.CONSUMER_GROUP,
                        self._consumer,
                        {keys.STREAM: ">"},
                        count=self._settings.batch_size,
                        block=block_ms,
                    )
                self._in_hand = reply[0][1] if reply else []
            count = await self._process(self._in_hand)
        except redis.exceptions.ResponseError as e:
            if "NOGROUP" not in str(e):
                raise
            log.warning("the consumer group is gone (Redis lost its data): joining anew")
            self._in_hand = None
            await self.prepare()
            return 0
        self._in_hand = None
        if not await self._redis.exists(keys.COUNTERS_SEEDED):
            await reseed(self._redis, self._clickhouse)
        if not count:
            await self.claim_abandoned()
        return count

    async def drain(self) -> int:
        """Process everything in the stream now, without waiting: for tests and imports."""
        total = 0
        while count := await self.step():
            total += count
        return total

    async def claim_abandoned(self) -> int:
        """Take over the pending batch of each consumer silent for longer than `claim_after`."""
        idle_ms = self._settings.claim_after * 1000
        claimed = 0
        for consumer in await self._redis.xinfo_consumers(keys.STREAM, keys.CONSUMER_GROUP):
            name = _text(consumer["name"])
            if name == self._consumer or not consumer["pending"] or consumer["idle"] < idle_ms:
                continue
            pending = await self._redis.xpending_range(
                keys.STREAM, keys.CONSUMER_GROUP, "-", "+", consumer["pending"], consumername=name
            )
            ids = [p["message_id"] for p in pending]
            entries = await self._redis.xclaim(
                keys.STREAM, keys.CONSUMER_GROUP, self._consumer, idle_ms, ids
            )
            log.info("claimed %d pending events of silent consumer %s", len(ids), name)
            await self._process([e for e in entries if e[1]])
            await self._redis.xgroup_delconsumer(keys.STREAM, keys.CONSUMER_GROUP, name)
            claimed += len(ids)
        return claimed

    async def _read_own_pending(self) -> list[Entry]:
        with _collections_deferred():
            reply = await self._redis.xreadgroup(
                keys.CONSUMER_GROUP,
                self._consumer,
                {keys.STREAM: "0"},
                count=self._settings.batch_size,
            )
        return [e for e in reply[0][1] if e[1]] if reply else []

    async def _process(self, entries: list[Entry]) -> int:
        if not entries:
            return 0
        rows, dead = await self._rows(entries)
        inserted = await self._insert_isolating_poison(rows, dead)
        await self._acknowledge(entries, inserted, dead)
        return len(entries)

    async def _rows(self, entries: list[Entry]) -> tuple[list[Row], list[Dead]]:
        with _collections_deferred():
            decoded, dead = _decoded(entries)
        # The one await, between the two passes: the timezones of the batch's sites.
        await self._days.know({event.site for _, event in decoded})
        rows = []
        with _collections_deferred():
            for entry, event in decoded:
                try:
                    day = self._days.date_of(event.site, event.ts)
                    rows.append(Row(entry, event, to_row(entry[0], event, day)))
                except _DATA_ERRORS as e:
                    dead.append((entry, f"undecodable: {type(e).__name__}: {e}"))
        return rows, dead

    async def _insert_isolating_poison(self, rows: list[Row], dead: list[Dead]) -> list[Row]:
        """Insert `rows`; those ClickHouse refuses as data are added to `dead`."""
        if not rows:
            return []
        try:
            await self._insert_retrying(rows)
            return rows
        except _Refused as refused:
            if len(rows) == 1:
                dead.append((rows[0].entry, f"refused by ClickHouse: {refused}"))
                return []
        half = len(rows) // 2
        return await self._insert_isolating_poison(
            rows[:half], dead
        ) + await self._insert_isolating_poison(rows[half:], dead)

    async def _insert_retrying(self, rows: list[Row]) -> None:
        token = f"{rows[0].entry[0].decode()}:{rows[-1].entry[0].decode()}:{len(rows)}"
        delay = 0.1
        while True:
            started = time.perf_counter()
            try:
                await self._clickhouse.insert(
                    "events",
                    [row.values for row in rows],
                    COLUMNS,
                    settings={
                        "insert_deduplication_token": token,
                        "deduplicate_blocks_in_dependent_materialized_views": 1,
                    },
                )
            except _DATA_ERRORS as e:
                raise _Refused(f"{type(e).__name__}: {e}") from e
            except (DatabaseError, OperationalError, OSError) as e:
                if _is_data_error(e):
                    raise _Refused(str(e).splitlines()[0]) from e
                STORE_ERRORS.labels("clickhouse").inc()
                self._failing(e)
                if self._stop.is_set():
                    raise Abandoned("stopping while ClickHouse fails") from e
                log.warning("ClickHouse insert failed, retrying in %.1fs: %s", delay, e)
                await self._sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            INSERT_SECONDS.observe(time.perf_counter() - started)
            BATCH_EVENTS.observe(len(rows))
            self.health.failing_since_ms = 0
            self.health.last_insert_ms = self._clock()
            return

    async def _acknowledge(
        self, entries: list[Entry], inserted: list[Row], dead: list[Dead]
    ) -> None:
        # Counted by Counter(iterable), in C: a loop of `+= 1` took twice as long.
        events = [row.event for row in inserted]
        pageviews = [event for event in events if event.type == "pageview"]
        totals = Counter((event.site, "pageviews") for event in pageviews)
        totals.update((event.site, "visits") for event in events if event.new_visit)
        views = Counter((event.site, event.article) for event in pageviews if event.article)
        script_keys = [keys.STREAM, keys.COUNTERS_SEEDED, keys.DEAD_LETTERS]
        # The ids as one argument: one join in C, where redis-py would encode ten
        # thousand arguments one by one in Python (6 % of the event loop's CPU, measured).
        ids = b" ".join(entry[0] for entry in entries)
        args: list[object] = [keys.CONSUMER_GROUP, len(entries), len(dead), ids]
        for (stream_id, fields), reason in dead:
            args += [stream_id, reason, fields.get(b"e", b"")]
            EVENTS_DEAD.labels(reason.split(":")[0]).inc()
        for (site, measure), count in totals.items():
            script_keys.append(keys.totals(site))
            args += [measure, count]
        for (site, article), count in views.items():
            script_keys.append(keys.article_views(site))
            args += [article, count]
        await self._ack(keys=script_keys, args=args)
        EVENTS_INSERTED.inc(len(inserted))

    async def _until_ok(self, step: Callable[[], Awaitable[object]]) -> None:
        """Run `step` until it succeeds or the aggregator stops, waiting out Redis failures."""
        delay = 0.1
        while not self._stop.is_set():
            try:
                await step()
                return
            except _REDIS_ERRORS as e:
                STORE_ERRORS.labels("redis").inc()
                log.warning("Redis failed, retrying in %.1fs: %s", delay, e)
                await self._sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)

    def _failing(self, error: Exception) -> None:
        if not self.health.failing_since_ms:
            self.health.failing_since_ms = self._clock()
        self.health.last_error = str(error).splitlines()[0][:300] if str(error) else repr(error)


class Abandoned(Exception):
    """The batch in hand is left pending, to be redelivered: the aggregator is stopping."""


class _Refused(Exception):
    """ClickHouse will not take these rows, however often asked."""


# Server error codes that mean "this data", not "this server": TYPE_MISMATCH,
# CANNOT_PARSE_*, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE, TOO_LARGE_STRING_SIZE,
# VIOLATED_CONSTRAINT...
_DATA_ERROR_CODES = {6, 27, 32, 33, 38, 41, 53, 69, 70, 72, 131, 321, 469}


def _decoded(entries: list[Entry]) -> tuple[list[tuple[Entry, StreamEvent]], list[Dead]]:
    decoded, dead = [], []
    for entry in entries:
        try:
            decoded.append((entry, decode_entry(entry[1])))
        except (KeyError, *_DATA_ERRORS, msgspec.DecodeError) as e:
            dead.append((entry, f"undecodable: {type(e).__name__}: {e}"))
    return decoded, dead


@contextmanager
def _collections_deferred() -> Iterator[None]:
    """No garbage collection inside: one after the block instead of dozens during it.

    A batch makes tens of thousands of container objects that all live until it is
    acknowledged (the parsed XREADGROUP reply, the decoded events, the rows);
    collecting while they are made scans them again and again and triggers full
    collections (about a third of the enrichment's time, measured; deferring them
    during the read as well halved the collections' time again). Inside, code may
    await nothing but one Redis reply: at most `batch_wait_ms` on an idle stream, the
    socket timeout at worst. The process's other tasks (collector and dashboard under
    `footfall serve`) run meanwhile without collections, which only delays the
    freeing of their reference cycles by as long: none is missed.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _is_data_error(error: Exception) -> bool:
    code = getattr(error, "code", None)
    if code is None:
        text = str(error)
        marker = "Code: "
        if marker in text:
            digits = text.split(marker, 1)[1].split(".", 1)[0].strip()
            code = int(digits) if digits.isdigit() else None
    return code in _DATA_ERROR_CODES
