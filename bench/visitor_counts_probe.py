"""What per-day visitor counts would save: a probe for the next step of issue 4, not a feature.

    .venv/bin/python bench/visitor_counts_probe.py [--data-dir /tmp/ff-dash-bench] [--runs 7]

Needs the data `bench/dashboard.py` made (run it first). A breakdown by visitors over
a long period merges a `uniq` state per value and day or month, and decoding one costs
about 60 ns per hash it holds (BENCHMARKS.md, "Why 6mo/12mo stay over 100 ms"). If a
day's visitor ids were never seen on another day (salted per site-local day), a
period's visitors would be the sum of its days' counts, and a day's count, once the day
is over, could be stored as a plain number. This builds such a table, for a few
properties, in a scratch table of the bench's chdb folder (day rows from the states'
counts, month rows from the sums of their days: 10 s or so), then times, interleaved
in the same run:

* `served`: `dashboard.queries.breakdown` as the dashboard's panels call it today
  (visitors, top 10 by visitors), from the states;
* `counts`: the same page of values from the counts (sums only).

The two do not give the same numbers on this data (its ids are not salted per local
day, so a sum of days counts a visitor twice when they read on both sides of midnight);
only their costs compare. The scratch table is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

# Run as a script from bench/, where bench/dashboard.py would shadow the package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dashboard_data  # noqa: E402

from dashboard import queries  # noqa: E402
from dashboard.periods import parse_period  # noqa: E402
from dashboard.properties import PROPERTIES  # noqa: E402
from footfall.connections import AsyncClickHouse, clickhouse  # noqa: E402

TABLE = "probe_visitor_counts"
PROPS = ("event:page", "visit:source", "visit:country", "visit:device")
PERIODS = ("30d", "12mo")


def build(client) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    client.command(f"DROP TABLE IF EXISTS {TABLE}")
    client.command(
        f"CREATE TABLE {TABLE} (site LowCardinality(String), property LowCardinality(String), "
        "span LowCardinality(String), date Date, value String, visitors UInt64, pageviews UInt64) "
        "ENGINE = MergeTree ORDER BY (site, property, span, date, value) "
        "SETTINGS index_granularity = 256"
    )
    rollups = [PROPERTIES[p].rollup for p in PROPS]
    client.command(
        f"INSERT INTO {TABLE} SELECT site, property, 'day', date, value, uniqMerge(visitors), "
        "sum(pageviews) FROM breakdown_stats "
        "WHERE span = 'day' AND property IN {props:Array(String)} "
        "GROUP BY site, property, date, value",
        parameters={"props": rollups},
    )
    client.command(
        f"INSERT INTO {TABLE} SELECT site, property, 'month', toStartOfMonth(date), value, "
        f"sum(visitors), sum(pageviews) FROM {TABLE} WHERE span = 'day' "
        "GROUP BY site, property, toStartOfMonth(date), value"
    )
    client.command(f"OPTIMIZE TABLE {TABLE} FINAL")
    return time.perf_counter() - started


async def from_counts(ch: AsyncClickHouse, sel: queries.Selection, prop: str) -> list:
    params = sel.params() | {"property": PROPERTIES[prop].rollup}
    where = queries._spans(
        sel, params, f"property = {{property:String}} AND {queries.DAY_ROWS}",
        f"property = {{property:String}} AND {queries.MONTH_ROWS}",
    )  # fmt: skip
    return await ch.query(
        f"SELECT value, sum(visitors) AS v FROM {TABLE} WHERE {where} "
        "GROUP BY value ORDER BY v DESC, value ASC LIMIT 10",
        params,
    )


async def served(ch: AsyncClickHouse, sel: queries.Selection, prop: str) -> list:
    return await queries.breakdown(
        ch, sel, PROPERTIES[prop], ["visitors"], order_by="visitors", limit=10
    )


async def measure(ch: AsyncClickHouse, runs: int) -> None:
    print("| period | property | served p50 | counts p50 | served/counts |")
    print("|---|---|---|---|---|")
    now_ms = int(dashboard_data.END.timestamp() * 1000)
    for name in PERIODS:
        period = parse_period({"period": name}, dashboard_data.TIMEZONE, now_ms)
        sel = queries.Selection(dashboard_data.SITE, period.range)
        for prop in PROPS:
            times: dict[str, list[float]] = {"served": [], "counts": []}
            for _ in range(runs):
                for label, call in (("served", served), ("counts", from_counts)):
                    started = time.perf_counter()
                    await call(ch, sel, prop)
                    times[label].append(1000 * (time.perf_counter() - started))
            a, b = (statistics.median(times[k]) for k in ("served", "counts"))
            print(f"| {name} | {prop} | {a:.0f} | {b:.0f} | {a / b:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="/tmp/ff-dash-bench")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    client = clickhouse(f"chdb://{(Path(args.data_dir) / 'chdb').resolve()}")
    try:
        print(f"built the counts in {build(client):.1f} s")
        asyncio.run(measure(AsyncClickHouse(client), args.runs))
    finally:
        client.command(f"DROP TABLE IF EXISTS {TABLE}")
        client.close()


if __name__ == "__main__":
    main()
