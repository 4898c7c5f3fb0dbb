"""The aggregator's loop: from the sites' Redis streams into ClickHouse, exactly once.

Each registered site has its own stream (`ff:{site}:events`, so that on a Redis
Cluster it lives in the site's slot), and the `aggregators` consumer group on
each. The streams are those of the sites mirror (`ff:sites`), read again on each
idle cycle and at least every second; a new site's group is made at id 0, so
nothing added before is missed. One batch at a time, a batch being what one
cycle reads from all the streams (in order of site, then stream id):

1. read (first this consumer's own pending entries, then those of consumers
   silent for longer than `claim_after`, then new ones): on a single Redis one
   XREADGROUP over every stream, blocking; on a Redis Cluster one non-blocking
   XREADGROUP per stream in one pipeline (a round trip per node), then a short
   sleep when all were empty; live traffic (the last read took less than a whole
   batch of every stream) is read again only `batch_wait_ms` after the last read,
   so that it goes in as one insert per `batch_wait_ms`, a backlog at once,
2. make each entry's row (`aggregator.rows`: the event as the collector wrote it,
   enriched); an entry that cannot be decoded goes to the dead-letter stream,
3. insert with a deduplication token made of each site's stream ids, so a
   batch retried after a crash changes no table, rollups included; retry with
   backoff while ClickHouse fails, reading nothing new meanwhile; rows that
   ClickHouse refuses as data are isolated by halving and sent to dead letters;
   while the insert runs (on ClickHouse's thread), read ahead: the entries that
   follow a stream the batch filled, read with XRANGE and made into rows, which
   the next batch takes instead of making them again (see `_read_ahead_of`),
4. note the days the batch added to after they were due to close (late events:
   see `aggregator.closing`) in a Redis set per site, before acknowledging it, so
   that a crash leaves the batch to be read again and noted again,
5. per site, acknowledge and delete its entries and add its deltas to the hot
   counters, in one Redis script call (`ack.lua`, the site's keys only).

Beside the batches (`close_in_turn`), every `CLOSE_EVERY` seconds, it closes the days
due, a few a site at a time (after an upgrade or a pause, a backlog closes round after
round until done, resting `BACKLOG_PAUSE` times as long as each round took), and closes
again the days noted late. Its statements let the inserts go first on ClickHouse's
thread, and no batch waits for a closing (a month of a site of 100 M page views a year
takes minutes).

A consumer reads a new batch only after acknowledging the previous one, so its
pending entries are always exactly one batch, and a retry (by itself after a
restart, or by another consumer that claims them) sees the same batch and the
same token. A batch of several sites is acknowledged site by site, which no
Redis Cluster can do atomically; so before its acknowledgements the consumer
records the batch (`keys.batch_record`: each site's first and last id and
count, and the rows ClickHouse refused). Entries read again that match the
record are the rest of a batch already inserted: they are acknowledged with
their deltas, not inserted again under a token of their own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import hashlib
import logging
import math
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources

import msgspec
import redis.asyncio
import redis.exceptions
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from aggregator import closing
from aggregator.hot_counters import reseed
from aggregator.rows import (
    ARTICLE,
    COLUMNS,
    DATE,
    NEW_VISIT,
    SITE,
    STREAM_ID,
    TYPE,
    Entry,
    Row,
    SiteDays,
    to_row,
)
from footfall import keys, tables
from footfall.clock import Clock, system_clock
from footfall.connections import AsyncClickHouse, is_cluster, run_script_each
from footfall.service_metrics import (
    BATCH_EVENTS,
    EVENTS_DEAD,
    EVENTS_INSERTED,
    INSERT_SECONDS,
    STORE_ERRORS,
)
from footfall.settings import Settings
from footfall.wire import date_from_days, days_since_epoch, payload_of

log = logging.getLogger(__name__)

Batch = list[tuple[str, list[Entry]]]
"""Per site (in order of site), its stream's entries in the batch, in stream order."""
Dead = tuple[Entry, str]
_ACK = resources.files("aggregator").joinpath("ack.lua").read_text()
_TAKE_LATE_DAYS = resources.files("aggregator").joinpath("take_late_days.lua").read_text()
_REDIS_ERRORS = (redis.exceptions.RedisError, OSError)
# ClickHouse refuses these rows for what they contain; anything else is the server's trouble.
_DATA_ERRORS = (TypeError, ValueError, OverflowError, UnicodeError, msgspec.ValidationError)
BACKOFF_MAX = 10.0
SITES_EVERY = 1.0
"""Seconds after which the sites mirror is read again even while batches keep coming."""
CLUSTER_POLL_MS = 50
"""On a Redis Cluster (no blocking read over several nodes): the sleep after an empty read."""
CLOSE_EVERY = 60.0
"""Seconds between two rounds of closing the days due (see `aggregator.closing`)."""
BACKLOG_PAUSE = 3.0
"""While days are left to close, the rest after a round of closing, per second it took: its
statements take ClickHouse's thread a second or two each on a big site (spans and runs of
months), and under `footfall serve` the dashboard's queries wait behind them, so a
backlog takes at most a quarter of that thread (`bench/startup.py`)."""
AHEAD_SLICE = 1_000
"""Entries whose rows are made ahead between two turns of the event loop."""


class BatchRecord(msgspec.Struct):
    """A batch of several sites, inserted: see `keys.batch_record`."""

    sites: dict[str, tuple[str, str, int]]
    """Site -> (first id, last id, number of entries)."""
    refused: list[tuple[str, str]] = []
    """(site, id) of the rows ClickHouse refused (sent to dead letters)."""


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
        timer: Callable[[], float] = time.monotonic,
        rest: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        # `sleep` and `timer` pace live traffic (`_let_batch_fill`): a test passes both, so
        # the wait it sees does not depend on how long a step took on a busy machine.
        # `rest` is how the closing waits between its rounds (`close_in_turn`).
        self._settings = settings
        self._redis = redis
        self._clickhouse = clickhouse
        # No one waits for a closing: its statements let the dashboard's queries go first.
        self._closing = clickhouse.in_background()
        self._consumer = consumer
        self._clock = clock
        self._sleep = sleep
        self._timer = timer
        self._rest = rest
        self._ack = redis.register_script(_ACK)
        self._take_late = redis.register_script(_TAKE_LATE_DAYS)
        self._days = SiteDays(redis)
        self._stop = asyncio.Event()
        self._in_hand: Batch | None = None
        self._ahead: dict[tuple[str, bytes], Row | str] = {}
        """Rows made ahead, by site and entry id: its row, or why it goes to dead letters."""
        self._replaying = False
        """The batch in hand was read again (this consumer's pending entries)."""
        self._delivered_unseen = False
        """A read's reply was lost (Redis failed meanwhile): what it delivered waits in this
        consumer's pending entries, which no other read returns."""
        self._cluster = is_cluster(redis)
        self._sites: list[str] = []
        """The sites whose streams are read: the group exists on each."""
        self._sites_read_at = -math.inf
        self._read_at = -math.inf
        self._read_full = False
        """The last read took a whole `batch_size` of a stream: a backlog, read on at once."""
        self._close_at = -math.inf
        self.health = Health()

    async def run(self) -> None:
        """Consume until `stop()`, closing days beside; the batch in hand is finished, or
        abandoned to be redelivered, and a closing under way is cut short (the next one
        resumes it)."""
        try:
            await self._until_ok(self.prepare)
            closing_days = asyncio.create_task(self.close_in_turn(), name="closing")
            try:
                while not self._stop.is_set():
                    await self._until_ok(lambda: self.step(block_ms=self._settings.batch_wait_ms))
                    if closing_days.done():
                        closing_days.result()  # an error it did not expect stops the aggregator
            finally:
                closing_days.cancel()
                await asyncio.gather(closing_days, return_exceptions=True)
        except Abandoned as e:
            log.warning("batch abandoned: %s", e)

    def stop(self) -> None:
        self._stop.set()

    async def prepare(self) -> None:
        """Join the group, finish what this consumer left pending, then reseed the counters.

        Reseeding comes after recovery so that no inserted batch is waiting for
        its deltas when ClickHouse's totals are read.
        """
        self._sites = []  # every group made anew (after Redis lost them, too)
        self._ahead = {}
        await self._refresh_sites()
        while await self._process(await self._read_own_pending(), replay=True):
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
                if time.monotonic() - self._sites_read_at >= SITES_EVERY:
                    await self._refresh_sites()
                if block_ms:
                    await self._let_batch_fill(block_ms)
                self._in_hand, self._replaying = await self._next_batch(block_ms)
                self._read_at = self._timer()
                full = self._settings.batch_size
                self._read_full = any(len(entries) >= full for _, entries in self._in_hand)
            count = await self._process(self._in_hand, replay=self._replaying)
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
            await self._refresh_sites()
            await self.claim_abandoned()
        return count

    async def _let_batch_fill(self, wait_ms: int) -> None:
        """Unless the last read was a backlog's, wait until `wait_ms` after it before reading
        again, so that live traffic goes in as a batch per `wait_ms`, not an insert per
        event or two: each insert costs ClickHouse a part in every table a view fills (and
        their merges later), and under `footfall serve` the dashboard's queries wait behind
        it on the same thread (`bench/dashboard.py --insert-rate`)."""
        if not self._read_full:
            left = wait_ms / 1000 - (self._timer() - self._read_at)
            if left > 0:
                await self._sleep(left)

    async def close_in_turn(self) -> None:
        """Close the days due (`close_due`) now, then every `CLOSE_EVERY` seconds, or sooner
        while a backlog is left, until cancelled; a Redis failure is logged and left for
        the next round."""
        while True:
            try:
                await self.close_due()
            except _REDIS_ERRORS as e:
                STORE_ERRORS.labels("redis").inc()
                log.warning("closing the days failed, trying again later: %s", e)
                self._close_at = time.monotonic() + CLOSE_EVERY
            await self._rest(max(0.0, self._close_at - time.monotonic()))

    async def close_due(self) -> int:
        """Close the days due of every site, a step of them each (`closing.close_due`), and its
        runs of months due, up to `closing.RUNS_PER_STEP` (see `aggregator.closing`);
        returns how many days. While a site has more, the next round comes
        `BACKLOG_PAUSE` times this one's duration later, else `CLOSE_EVERY` seconds later.

        A ClickHouse failure is logged and left for the next round: the days stay open,
        which costs queries time, not numbers.
        """
        started = time.monotonic()
        await self._days.know(set(self._sites))
        total = 0
        backlog = False
        an_hour_ago = self._clock() - closing.CLOSE_GRACE_MS
        for site in self._sites:
            last = closing.last_due(self._days.date_of(site, an_hour_ago))
            timezone = self._days.timezone_of(site)
            late = await self._take_late_days(site)
            try:
                again = await closing.close_again(self._closing, site, timezone, late)
                closed = await closing.close_due(self._closing, site, timezone, last)
                runs = await closing.close_runs(self._closing, site)
            except (DatabaseError, OperationalError, OSError) as e:
                log.warning("closing the days of %s failed, trying again later: %s", site, e)
                continue
            # A noted day closed now for the first time has its late events: done too.
            done = again | late.intersection(closed)
            if done:
                await self._redis.srem(keys.late_days_closing(site), *(d.isoformat() for d in done))
            total += len(closed)
            # Days are left where this call stopped before the last due (a step's days).
            backlog = backlog or (bool(closed) and closed[-1] < last)
            backlog = backlog or len(runs) == closing.RUNS_PER_STEP
        now = time.monotonic()
        self._close_at = now + (BACKLOG_PAUSE * (now - started) if backlog else CLOSE_EVERY)
        return total

    async def _take_late_days(self, site: str) -> set[dt.date]:
        """The site's noted late days, and those a closing took before and did not close
        (cut short, or not closed for the first time yet): all taken now, in one step
        (`take_late_days.lua`), so that a day a batch notes while they are closed stays
        noted, to be closed again with that batch's events (they may come after the
        closing's read)."""
        days = await self._take_late(keys=[keys.late_days(site), keys.late_days_closing(site)])
        return {dt.date.fromisoformat(_text(day)) for day in days}

    async def drain(self) -> int:
        """Process everything in the streams now, without waiting: for tests and imports."""
        await self._refresh_sites()
        total = 0
        while count := await self.step():
            total += count
        return total

    async def claim_abandoned(self) -> int:
        """Take over the pending batch of each consumer silent for longer than `claim_after`.

        Silent means idle on every stream; the batch it left is claimed whole, from
        each stream it has entries pending in, and processed as one batch with the
        silent consumer's record, which becomes this consumer's first.
        """
        if not self._sites:
            await self._refresh_sites()
            if not self._sites:
                return 0
        idle_ms = self._settings.claim_after * 1000
        async with self._redis.pipeline(transaction=False) as pipe:
            for site in self._sites:
                pipe.xinfo_consumers(keys.stream(site), keys.CONSUMER_GROUP)
            infos = await pipe.execute()
        idle: dict[str, int] = {}
        pending: dict[str, dict[str, int]] = defaultdict(dict)  # consumer -> site -> count
        for site, consumers in zip(self._sites, infos, strict=True):
            for consumer in consumers:
                name = _text(consumer["name"])
                idle[name] = min(idle.get(name, consumer["idle"]), consumer["idle"])
                if consumer["pending"]:
                    pending[name][site] = consumer["pending"]
        claimed = 0
        for name, sites in pending.items():
            if name == self._consumer or idle[name] < idle_ms:
                continue
            batch: Batch = []
            ids_claimed = 0
            for site, count in sites.items():
                stream = keys.stream(site)
                entries = await self._redis.xpending_range(
                    stream, keys.CONSUMER_GROUP, "-", "+", count, consumername=name
                )
                ids = [p["message_id"] for p in entries]
                taken = await self._redis.xclaim(
                    stream, keys.CONSUMER_GROUP, self._consumer, idle_ms, ids
                )
                batch.append((site, [e for e in taken if e[1]]))
                ids_claimed += len(ids)
            log.info("claimed %d pending events of silent consumer %s", ids_claimed, name)
            record = await self._redis.get(keys.batch_record(name))
            if record is not None:
                await self._redis.set(keys.batch_record(self._consumer), record)
            await self._process([(site, entries) for site, entries in batch if entries], True)
            for site in sites:
                await self._redis.xgroup_delconsumer(keys.stream(site), keys.CONSUMER_GROUP, name)
            await self._redis.delete(keys.batch_record(name))
            claimed += ids_claimed
        return claimed

    async def _refresh_sites(self) -> None:
        """Read the sites mirror; make the group on each new site's stream, at id 0 so that
        nothing added before is missed (MKSTREAM: the stream may not exist yet)."""
        self._sites_read_at = time.monotonic()
        mirrored = {_text(domain) for domain in await self._redis.hkeys(keys.SITES)}
        new = mirrored.difference(self._sites)
        if not new:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for site in new:
                pipe.xgroup_create(keys.stream(site), keys.CONSUMER_GROUP, id="0", mkstream=True)
            replies = await pipe.execute(raise_on_error=False)
        for reply in replies:
            if isinstance(reply, Exception) and "BUSYGROUP" not in str(reply):
                raise reply
        self._sites = sorted(new.union(self._sites))

    async def _read(self, start: str, block_ms: int | None) -> Batch:
        """One read of every site's stream: new entries (`>`) or this consumer's pending (`0`).

        Up to `batch_size` entries of each stream: this consumer's pending entries of a
        stream are never more, so reading them again gives back the whole batch.
        """
        count = self._settings.batch_size
        streams = {keys.stream(site): start for site in self._sites}
        if not streams:
            replies = []
        elif not self._cluster:
            with _collections_deferred():  # the reply is a batch's worth of containers
                replies = await self._redis.xreadgroup(
                    keys.CONSUMER_GROUP, self._consumer, streams, count=count, block=block_ms
                )
        else:
            async with self._redis.pipeline(transaction=False) as pipe:
                for stream in streams:
                    pipe.xreadgroup(keys.CONSUMER_GROUP, self._consumer, {stream: start}, count)
                with _collections_deferred():
                    replies = [reply[0] for reply in await pipe.execute() if reply]
        by_stream = {_text(stream): entries for stream, entries in replies or []}
        batch = [(site, by_stream.get(keys.stream(site), [])) for site in self._sites]
        batch = [(site, [e for e in entries if e[1]]) for site, entries in batch]
        batch = [(site, entries) for site, entries in batch if entries]
        if not batch and block_ms and (self._cluster or not streams):
            await asyncio.sleep(min(block_ms, CLUSTER_POLL_MS) / 1000)
        return batch

    async def _next_batch(self, block_ms: int | None) -> tuple[Batch, bool]:
        """New entries, and whether they were read again: after a read whose reply was lost,
        this consumer's pending entries first, until none is left."""
        if self._delivered_unseen:
            pending = await self._read_own_pending()
            if pending:
                return pending, True
            self._delivered_unseen = False
        try:
            return await self._read(">", block_ms), False
        except _REDIS_ERRORS:
            self._delivered_unseen = True
            raise

    async def _read_own_pending(self) -> Batch:
        return await self._read("0", None)

    async def _process(self, batch: Batch, replay: bool = False) -> int:
        """Insert and acknowledge a batch; `replay`: it was read again (pending or claimed),
        so it may be the rest of a recorded batch, inserted already."""
        if not batch:
            return 0
        rows, dead = await self._rows(batch)
        record = await self._recorded(batch) if replay else None
        ahead = asyncio.create_task(self._read_ahead_of(batch))
        try:
            if record is None:
                refused: list[tuple[Row, str]] = []
                inserted = await self._insert_isolating_poison(rows, refused)
                dead += _dead_rows(batch, refused)
            else:  # inserted, dead letters sent, some sites acknowledged: acknowledge the rest
                sent = set(record.refused)
                inserted = [row for row in rows if (row[SITE], row[STREAM_ID]) not in sent]
                dead = []
            await self._note_late_days(inserted)
            await self._acknowledge(batch, rows, inserted, dead)
        finally:
            await ahead
        return sum(len(entries) for _, entries in batch)

    async def _recorded(self, batch: Batch) -> BatchRecord | None:
        """The consumer's batch record, if `batch` is all or the rest of that batch."""
        raw = await self._redis.get(keys.batch_record(self._consumer))
        if raw is None:
            return None
        record = msgspec.json.decode(raw, type=BatchRecord)
        if all(record.sites.get(site) == _extent(entries) for site, entries in batch):
            return record
        return None

    async def _rows(self, batch: Batch) -> tuple[list[Row], list[Dead]]:
        # The one await, before the rows: the days of the batch's sites, for the late
        # days and for entries an older collector wrote without a date.
        await self._days.know({site for site, _ in batch})
        ahead, self._ahead = self._ahead, {}
        rows: list[Row] = []
        dead: list[Dead] = []
        with _collections_deferred():
            for site, entries in batch:
                for entry in entries:
                    made = ahead.get((site, entry[0])) or self._row_of(site, entry)
                    if isinstance(made, str):
                        dead.append((entry, made))
                    else:
                        rows.append(made)
        return rows, dead

    def _row_of(self, site: str, entry: Entry) -> Row | str:
        """The entry's row, or why it goes to dead letters."""
        try:
            return to_row(site, entry, self._days)
        except (KeyError, *_DATA_ERRORS, msgspec.DecodeError) as e:
            return f"undecodable: {type(e).__name__}: {e}"

    async def _read_ahead_of(self, batch: Batch) -> None:
        """Make the rows of the entries that follow `batch` in each stream it took a whole
        `batch_size` of (a backlog: more are waiting), while the batch's insert runs.

        Read with XRANGE, they are delivered to no consumer: the pending entries stay
        exactly this batch. The next batch reads its entries as always, and takes the
        rows made here for those it finds by id (an entry never changes), making the
        others'. Making the rows is the aggregator's own work (decode, enrich), the
        insert and the acknowledgement mostly ClickHouse's and Redis's, so they overlap
        (BENCHMARKS.md). A Redis failure here only leaves the rows to be made later.
        """
        full = [(site, es[-1][0]) for site, es in batch if len(es) >= self._settings.batch_size]
        if not full:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for site, last in full:
                    pipe.xrange(keys.stream(site), b"(" + last, "+", self._settings.batch_size)
                with _collections_deferred():
                    replies = await pipe.execute()
        except _REDIS_ERRORS as e:
            log.debug("reading ahead failed: %s", e)
            return
        # In slices, so that the insert's end and the acknowledgement go on in between.
        made: dict[tuple[str, bytes], Row | str] = {}
        for (site, _), entries in zip(full, replies, strict=True):
            for start in range(0, len(entries), AHEAD_SLICE):
                with _collections_deferred():
                    for entry in entries[start : start + AHEAD_SLICE]:
                        if entry[1]:
                            made[site, entry[0]] = self._row_of(site, entry)
                await asyncio.sleep(0)
        self._ahead = made

    async def _note_late_days(self, inserted: list[Row]) -> None:
        """Note the days `inserted` added to after they were due to close, in each site's
        `keys.late_days`, before the batch is acknowledged: the next round of closing
        closes them again, once however many batches reached them (an import's do)."""
        an_hour_ago = self._clock() - closing.CLOSE_GRACE_MS
        late: defaultdict[str, set[str]] = defaultdict(set)
        for site, day in {(row[SITE], row[DATE]) for row in inserted}:
            if day <= days_since_epoch(closing.last_due(self._days.date_of(site, an_hour_ago))):
                late[site].add(date_from_days(day).isoformat())
        if late:
            async with self._redis.pipeline(transaction=False) as pipe:
                for site, days in late.items():
                    pipe.sadd(keys.late_days(site), *days)
                await pipe.execute()

    async def _insert_isolating_poison(
        self, rows: list[Row], refused: list[tuple[Row, str]]
    ) -> list[Row]:
        """Insert `rows`; those ClickHouse refuses as data are added to `refused`, with why."""
        if not rows:
            return []
        try:
            await self._insert_retrying(rows)
            return rows
        except _Refused as refusal:
            if len(rows) == 1:
                refused.append((rows[0], f"refused by ClickHouse: {refusal}"))
                return []
        half = len(rows) // 2
        return await self._insert_isolating_poison(
            rows[:half], refused
        ) + await self._insert_isolating_poison(rows[half:], refused)

    async def _insert_retrying(self, rows: list[Row]) -> None:
        token = _token(rows)
        delay = 0.1
        while True:
            started = time.perf_counter()
            try:
                await self._clickhouse.insert(
                    tables.EVENTS,
                    rows,
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
        self, batch: Batch, rows: list[Row], inserted: list[Row], dead: list[Dead]
    ) -> None:
        # Counted by Counter(iterable), in C: a loop of `+= 1` took twice as long.
        pageviews = [row for row in inserted if row[TYPE] == "pageview"]
        totals = Counter((row[SITE], "pageviews") for row in pageviews)
        totals.update((row[SITE], "visits") for row in inserted if row[NEW_VISIT])
        article_pageviews = Counter((row[SITE], row[ARTICLE]) for row in pageviews if row[ARTICLE])
        # Single-key commands first (any slot): the marker, the dead letters, the record.
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(keys.COUNTERS_SEEDED)
            for (stream_id, fields), reason in dead:
                pipe.xadd(keys.DEAD_LETTERS, {"id": stream_id, "reason": reason,
                                              "e": payload_of(fields)})  # fmt: skip
            seeded = (await pipe.execute())[0]
        for _, reason in dead:
            EVENTS_DEAD.labels(reason.split(":")[0]).inc()
        if len(batch) > 1:
            await self._redis.set(keys.batch_record(self._consumer), _record(batch, rows, inserted))
        totals_of: defaultdict[str, list[object]] = defaultdict(list)
        for (site, measure), count in totals.items():
            totals_of[site] += [measure, count]
        article_pageviews_of: defaultdict[str, list[object]] = defaultdict(list)
        for (site, article), count in article_pageviews.items():
            article_pageviews_of[site] += [article, count]
        calls = []
        for site, entries in batch:
            # The ids as one argument: one join in C, where redis-py would encode ten
            # thousand arguments one by one in Python (6 % of the event loop's CPU, measured).
            ids = b" ".join(entry[0] for entry in entries)
            args: list[object] = [keys.CONSUMER_GROUP, seeded, len(entries), ids]
            args += [len(totals_of[site]) // 2, *totals_of[site], *article_pageviews_of[site]]
            calls.append(
                ([keys.stream(site), keys.totals(site), keys.article_pageviews(site)], args)
            )
        for reply in await run_script_each(self._redis, self._ack, calls):
            if isinstance(reply, Exception):
                raise reply
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


def _dead_rows(batch: Batch, refused: list[tuple[Row, str]]) -> list[Dead]:
    """The entries of the rows ClickHouse refused, to be sent to dead letters."""
    if not refused:
        return []
    entries = {(site, entry[0].decode()): entry for site, entries in batch for entry in entries}
    return [(entries[row[SITE], row[STREAM_ID]], reason) for row, reason in refused]


def _token(rows: list[Row]) -> str:
    """The insert's deduplication token: each site's first and last stream id and count."""
    parts, first = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i][SITE] != rows[first][SITE]:
            start, end = rows[first][STREAM_ID], rows[i - 1][STREAM_ID]
            parts.append(f"{rows[first][SITE]}:{start}:{end}:{i - first}")
            first = i
    return parts[0] if len(parts) == 1 else hashlib.sha256(",".join(parts).encode()).hexdigest()


def _extent(entries: list[Entry]) -> tuple[str, str, int]:
    return entries[0][0].decode(), entries[-1][0].decode(), len(entries)


def _record(batch: Batch, rows: list[Row], inserted: list[Row]) -> bytes:
    refused: list[tuple[str, str]] = []
    if len(inserted) < len(rows):
        kept = {id(row) for row in inserted}
        refused = [(row[SITE], row[STREAM_ID]) for row in rows if id(row) not in kept]
    sites = {site: _extent(entries) for site, entries in batch}
    return msgspec.json.encode(BatchRecord(sites, refused))


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
