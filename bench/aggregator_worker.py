"""One throughput measurement of bench/aggregator.py, in a process of its own.

    .venv/bin/python bench/aggregator_worker.py --mode aggregator|baseline --redis URL
        --chdb DIR --batch-size B --expected JSON [--redis-pid PID] [--quiet-wait S] [--wait-go]

A process may open one chdb folder, so each measurement runs here, on a fresh
folder (migrated before anything is timed). The stream `ff:{bench.example}:events` is already
filled (bench/aggregator.py copies it from a template); the site is in the mirror.

* `aggregator`: `Aggregator(...).prepare()`, then the timed part is one
  `drain()`: read, decode, enrich, insert (with the deduplication token and
  settings), acknowledge and count, batch after batch, until the stream is empty,
  with the closing of the days due beside it (`close_in_turn`, as `run()` has it; the
  entries' days are over, so it closes them), cut short when the drain ends.
  ClickHouse's inserts are timed on the side (`TimedClickHouse`).
* `baseline`: the same entries read back (XRANGE, not timed); then timed apart,
  (1) enrichment alone: what the aggregator does per entry before inserting
  (`to_row`: decode, enrich), on cold caches as in a fresh
  aggregator, and (2) the raw insert: the rows from (1) inserted with
  `client.insert('events', rows, column_names=COLUMNS, settings=...)` in batches of
  the same size, with the same deduplication token and settings, materialized
  views in place. No stream, no enrichment in (2).

Then both check what ClickHouse holds (events, rollups) against the expected
counts, and the aggregator also checks Redis: the stream and its pending list
empty, no dead letter, hot counters equal to the expected totals. One line
`RESULT {json}` on stdout. With `--wait-go` the aggregator prints `READY` after
`prepare()` and waits for a line on stdin before draining (the parent attaches
py-spy meanwhile), and prints `DRAINED` when done.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from aggregator.consumer import Aggregator  # noqa: E402
from aggregator.rows import COLUMNS, SiteDays, to_row  # noqa: E402
from app.database import migrated_clickhouse  # noqa: E402
from bench.machine import cpu_seconds, machine_busy_seconds, wait_for_quiet  # noqa: E402
from footfall import keys  # noqa: E402
from footfall.connections import AsyncClickHouse, async_redis  # noqa: E402
from footfall.settings import Settings  # noqa: E402
from footfall.wire import decode_entry  # noqa: E402

DOMAIN = "bench.example"


# ----------------------------------------------------------------------------- machine


def own_cpu_seconds() -> float:
    """This process, every thread (chdb's too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Meter:
    """Wall time and CPU (this process, Redis, everything else) of one timed part."""

    def __init__(self, redis_pid: int):
        self.redis_pid = redis_pid

    def __enter__(self) -> Meter:
        self._start = (own_cpu_seconds(), cpu_seconds([self.redis_pid]), machine_busy_seconds())
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0
        end = (own_cpu_seconds(), cpu_seconds([self.redis_pid]), machine_busy_seconds())
        pairs = zip(self._start, end, strict=True)
        own, red, machine = (100 * (b - a) / self.seconds for a, b in pairs)
        self.cpu = {"process": own, "redis": red, "others": max(0.0, machine - own - red)}


# ----------------------------------------------------------------------------- measurements


class TimedClickHouse(AsyncClickHouse):
    """The aggregator's ClickHouse, with the duration of each insert kept."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        super().__init__(client)
        self.insert_durations: list[float] = []

    async def insert(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        await super().insert(*args, **kwargs)
        self.insert_durations.append(time.perf_counter() - started)


# Where the aggregator's time goes besides the inserts: each is timed when the object
# has it (the private methods may change; a missing one is left out of the split).
PHASES = (("read", "store", "xreadgroup"), ("enrich", "aggregator", "_rows"),
          ("ack", "aggregator", "_acknowledge"),
          ("closing beside", "aggregator", "close_due"))  # fmt: skip


def time_phases(objects: dict[str, object], into: dict[str, float]) -> None:
    for phase, owner, name in PHASES:
        target = objects[owner]
        method = getattr(target, name, None)
        if method is None:
            continue
        into[phase] = 0.0

        def timed(method=method, phase=phase):  # type: ignore[no-untyped-def]
            async def call(*args, **kwargs):  # type: ignore[no-untyped-def]
                started = time.perf_counter()
                try:
                    return await method(*args, **kwargs)
                finally:
                    into[phase] += time.perf_counter() - started

            return call

        setattr(target, name, timed())


def spread_ms(durations: list[float]) -> dict[str, float]:
    ordered = sorted(durations)
    if not ordered:
        return {}
    return {
        "p50": 1000 * ordered[len(ordered) // 2],
        "p90": 1000 * ordered[int(0.9 * (len(ordered) - 1))],
        "max": 1000 * ordered[-1],
    }


async def measure_aggregator(args: argparse.Namespace, client) -> dict:  # type: ignore[no-untyped-def]
    settings = Settings(redis_url=args.redis, batch_size=args.batch_size)
    store = async_redis(args.redis)
    timed = TimedClickHouse(client)
    aggregator = Aggregator(settings, store, timed, consumer="bench")
    phases: dict[str, float] = {}
    try:
        await aggregator.prepare()
        time_phases({"store": store, "aggregator": aggregator}, phases)
        waited = 0.0
        if args.wait_go:
            print("READY", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
        else:
            waited = wait_for_quiet(args.quiet_wait)
        with Meter(args.redis_pid) as meter:
            closing_days = asyncio.create_task(aggregator.close_in_turn())
            drained = await aggregator.drain()
            closing_days.cancel()
            await asyncio.gather(closing_days, return_exceptions=True)
        if args.wait_go:
            print("DRAINED", flush=True)
    finally:
        await store.aclose()
        timed.close()
    phases["insert"] = sum(timed.insert_durations)
    return {
        "drained": drained,
        "seconds": meter.seconds,
        "cpu": meter.cpu,
        "quiet_waited": waited,
        "insert_seconds": phases["insert"],
        "inserts": len(timed.insert_durations),
        "insert_ms": spread_ms(timed.insert_durations),
        "phases": phases,
        "health_error": aggregator.health.last_error,
    }


async def enrich_all(entries: list, redis_url: str) -> list[list]:  # type: ignore[type-arg]
    """What `Aggregator._rows` does per entry: `to_row` (decode, enrich)."""
    store = async_redis(redis_url)
    try:
        days = SiteDays(store)
        await days.know({DOMAIN})
        return [to_row(DOMAIN, entry, days) for entry in entries]
    finally:
        await store.aclose()


def measure_baseline(args: argparse.Namespace, client) -> dict:  # type: ignore[no-untyped-def]
    store = redis.Redis.from_url(args.redis)
    entries = []
    last = "-"
    while True:  # XRANGE in chunks, not timed
        chunk = store.xrange(keys.stream(DOMAIN), min=last, max="+", count=10_000)
        if last != "-":
            chunk = chunk[1:]
        if not chunk:
            break
        entries += chunk
        last = chunk[-1][0].decode()
    store.close()

    waited = wait_for_quiet(args.quiet_wait)
    with Meter(args.redis_pid) as enrichment:
        rows = asyncio.run(enrich_all(entries, args.redis))
    started = time.perf_counter()
    for _, fields in entries:
        decode_entry(fields)
    decode_seconds = time.perf_counter() - started

    waited += wait_for_quiet(args.quiet_wait)
    size = args.batch_size
    durations = []
    with Meter(args.redis_pid) as insert:
        for start in range(0, len(rows), size):
            started = time.perf_counter()
            batch = entries[start : start + size]
            token = f"{batch[0][0].decode()}:{batch[-1][0].decode()}:{len(batch)}"
            client.insert(
                "events",
                rows[start : start + size],
                column_names=COLUMNS,
                settings={
                    "insert_deduplication_token": token,
                    "deduplicate_blocks_in_dependent_materialized_views": 1,
                },
            )
            durations.append(time.perf_counter() - started)
    return {
        "rows": len(rows),
        "seconds": insert.seconds,
        "cpu": insert.cpu,
        "quiet_waited": waited,
        "inserts": len(durations),
        "insert_seconds": sum(durations),
        "insert_ms": spread_ms(durations),
        "enrich_seconds": enrichment.seconds,
        "enrich_cpu": enrichment.cpu,
        "decode_seconds_warm": decode_seconds,
    }


# ----------------------------------------------------------------------------- checks


def clickhouse_counts(client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    one = lambda sql: client.query(sql).result_rows[0]  # noqa: E731
    events, pageviews, engagements, custom = one(
        "SELECT count(), countIf(type = 'pageview'), countIf(type = 'engagement'), "
        "countIf(type = 'custom') FROM events"
    )
    totals = one("SELECT sum(pageviews), sum(visits) FROM site_totals")
    hourly = one("SELECT sum(pageviews), sum(visits), sum(events) FROM site_hourly")
    return {
        "events": events,
        "pageviews": pageviews,
        "engagements": engagements,
        "custom": custom,
        "distinct_stream_ids": one("SELECT uniqExact(stream_id) FROM events")[0],
        "site_totals_pageviews": totals[0],
        "site_totals_visits": totals[1],
        "site_hourly_pageviews": hourly[0],
        "site_hourly_visits": hourly[1],
        "site_hourly_events": hourly[2],
        "article_totals_pageviews": one("SELECT sum(pageviews) FROM article_totals")[0],
        "article_stats_pageviews": one(
            "SELECT sum(pageviews) FROM article_stats WHERE span = 'day'"
        )[0],
    }


def redis_state() -> dict[str, int]:
    store = redis.Redis.from_url(ARGS.redis)
    try:
        stream = keys.stream(DOMAIN)
        groups = store.xinfo_groups(stream) if store.exists(stream) else []
        totals = store.hgetall(keys.totals(DOMAIN))
        article_pageviews = store.hvals(keys.article_pageviews(DOMAIN))
        return {
            "stream_len": store.xlen(stream),
            "pending": sum(g["pending"] for g in groups),
            "dead_letters": store.xlen(keys.DEAD_LETTERS),
            "hot_pageviews": int(totals.get(b"pageviews", 0)),
            "hot_visits": int(totals.get(b"visits", 0)),
            "hot_article_pageviews": sum(int(v) for v in article_pageviews),
        }
    finally:
        store.close()


def problems_of(
    mode: str, counts: dict, state: dict | None, expected: dict, result: dict
) -> list[str]:
    """What does not match the expected counts."""
    want = {
        "events": expected["events"],
        "pageviews": expected["pageviews"],
        "engagements": expected["engagements"],
        "custom": expected["custom"],
        "distinct_stream_ids": expected["events"],
        "site_totals_pageviews": expected["pageviews"],
        "site_totals_visits": expected["visits"],
        "site_hourly_pageviews": expected["pageviews"],
        "site_hourly_visits": expected["visits"],
        "site_hourly_events": expected["pageviews"] + expected["custom"],
        "article_totals_pageviews": expected["article_pageviews"],
        "article_stats_pageviews": expected["article_pageviews"],
    }
    found = [f"{mode}: ClickHouse {k} = {counts[k]}, expected {v}" for k, v in want.items()
             if counts[k] != v]  # fmt: skip
    if mode == "aggregator" and result["drained"] != expected["events"]:
        found.append(f"aggregator: drain() returned {result['drained']}, not {expected['events']}")
    if mode == "aggregator" and result["health_error"]:
        found.append(f"aggregator: ClickHouse errors, the last: {result['health_error']}")
    if state is not None:
        redis_want = {
            "stream_len": 0,
            "pending": 0,
            "dead_letters": 0,
            "hot_pageviews": expected["pageviews"],
            "hot_visits": expected["visits"],
            "hot_article_pageviews": expected["article_pageviews"],
        }
        found += [f"{mode}: Redis {k} = {state[k]}, expected {v}" for k, v in redis_want.items()
                  if state[k] != v]  # fmt: skip
    return found


# ----------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("aggregator", "baseline"), required=True)
    parser.add_argument("--redis", required=True, help="Redis URL")
    parser.add_argument("--redis-pid", type=int, default=0)
    parser.add_argument("--chdb", type=Path, required=True, help="a fresh folder for chdb")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--expected", required=True, help="expected counts, JSON")
    parser.add_argument("--quiet-wait", type=float, default=60)
    parser.add_argument("--wait-go", action="store_true")
    return parser.parse_args()


ARGS: argparse.Namespace


def main() -> int:
    global ARGS
    ARGS = args = parse_args()
    expected = json.loads(args.expected)
    started = time.perf_counter()
    client, _ = migrated_clickhouse(Settings(clickhouse_dsn=f"chdb://{args.chdb}"))
    setup = time.perf_counter() - started
    if args.mode == "aggregator":
        result = asyncio.run(measure_aggregator(args, client))
        state = redis_state()
    else:
        result = measure_baseline(args, client)
        state = None
    counts = clickhouse_counts(client)
    result.update(
        mode=args.mode,
        batch_size=args.batch_size,
        events=expected["events"],
        setup_seconds=setup,
        clickhouse=counts,
        redis=state,
        problems=problems_of(args.mode, counts, state, expected, result),
        chdb_version=client.command("SELECT version()"),
    )
    print("RESULT " + json.dumps(result, default=str), flush=True)
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
