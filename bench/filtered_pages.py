"""Pages and articles under one source or country: the paired counts vs the stamped events.

    .venv/bin/python bench/filtered_pages.py [--data-dir /tmp/ff-dash-bench]
        [--timezone Asia/Ho_Chi_Minh] [--filters 'visit:country==VN,visit:source==Google']
        [--periods 30d,12mo] [--runs 5]

A click on a country or a source filters the site page; its page breakdown and its top
articles count the pages among the visits that pass. This times both roads to them on
the data `bench/dashboard.py` made (run it first: it fills `<data-dir>/chdb`), in one
process, alternating call by call so the machine's noise falls on both:

* `stamped`: the events of the visits that pass, by the visit's properties stamped on
  them (`VisitRoad.STAMPED`: the SQL the Stats API sent before migration 0020), page
  views only, the top articles ranked first then numbered;
* `served`: as the Stats API answers now (`dashboard.queries`): the closed days' paired
  counts (`closed_counts.paired`), the open days' stamped events.

Both answer the page breakdown of visitors and page views (limit 10) and the top 10
articles by page views, and their answers are checked equal (a call that fails, over
chdb's memory budget say, is reported, not timed). The folder is migrated first
(`footfall migrate`) and its days closed as the aggregator would (`bench/dashboard.py`'s
`close_days`); the time each took, when it runs here, is printed. p50 and p95 per call
and road, and served/stamped.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

from clickhouse_connect.driver.exceptions import DatabaseError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.database import migrated_clickhouse  # noqa: E402
from bench.dashboard import close_days  # noqa: E402
from dashboard import queries  # noqa: E402
from dashboard.filters import parse_filters  # noqa: E402
from dashboard.periods import DateRange  # noqa: E402
from dashboard.properties import PROPERTIES  # noqa: E402
from dashboard.queries import ARTICLE_QUANTITIES, Selection  # noqa: E402
from dashboard.queries.numbers import numbers, rows_of  # noqa: E402
from dashboard.sql import articles as articles_sql  # noqa: E402
from dashboard.sql import raw_events  # noqa: E402
from dashboard.sql.raw_events import VisitRoad  # noqa: E402
from dashboard.sql.scope import SiteScope  # noqa: E402
from dashboard.sql.shapes import by_quantity, ordered, paged  # noqa: E402
from footfall.connections import AsyncClickHouse  # noqa: E402
from footfall.settings import Settings  # noqa: E402

SITE = "bench.example"
LAST = dt.date(2023, 11, 15)
DAYS = {"7d": 7, "30d": 30, "12mo": 365}
PAGES, ARTICLES = "page breakdown", "top articles"
PAGE_QUANTITIES = ["visitors", "pageviews"]


async def stamped(scope: SiteScope, sel: Selection, call: str) -> list[tuple]:
    """`call`'s answer from the events by the visit's stamped properties (before 0020)."""
    params = sel.params() | {"limit": 10, "offset": 0}
    road = VisitRoad.STAMPED
    if call == PAGES:
        group = raw_events.property_group(PROPERTIES["event:page"])
        sql = raw_events.valued(
            raw_events.numbers(sel.filters, params, PAGE_QUANTITIES, group, road=road)
        )
        return await rows_of(scope, paged(by_quantity(sql, "visitors")), params, PAGE_QUANTITIES)
    ranked = articles_sql.ranked_articles_raw(sel.filters, params, ["pageviews"], road=road)
    ids = [g for g, *_ in await scope.query(paged(ordered(ranked, "q_pageviews")), params)]
    params = sel.params() | {"articles": ids}
    listed = articles_sql.listed_articles_raw(sel.filters, params, ARTICLE_QUANTITIES, road=road)
    found = {g: (g, title, numbers(rest, ARTICLE_QUANTITIES))
             for g, title, *rest in await scope.query(listed, params)}  # fmt: skip
    return [found[g] for g in ids]


async def served(ch: AsyncClickHouse, sel: Selection, call: str) -> list[tuple]:
    """`call`'s answer as the Stats API makes it (from the paired counts)."""
    if call == PAGES:
        page = PROPERTIES["event:page"]
        return await queries.breakdown(
            ch, sel, page, PAGE_QUANTITIES, order_by="visitors", limit=10, offset=0
        )
    return await queries.articles(ch, sel, sort="pageviews", limit=10, offset=0)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/ff-dash-bench"))
    parser.add_argument("--timezone", default="Asia/Ho_Chi_Minh")
    parser.add_argument("--filters", default="visit:country==VN,visit:source==Google")
    parser.add_argument("--periods", default="30d,12mo")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    dsn = f"chdb://{(args.data_dir / 'chdb').resolve()}"
    started = time.perf_counter()
    client, applied = migrated_clickhouse(Settings(data_dir=args.data_dir, clickhouse_dsn=dsn))
    if applied:
        names = ", ".join(f"{m.version:04d}" for m in applied)
        print(f"migrations applied: {names} in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    closed = await close_days(client, args.timezone)
    print(f"closed {closed} days in {time.perf_counter() - started:.1f} s")
    (events,) = client.query(
        "SELECT count() FROM events WHERE site = {site:String}", parameters={"site": SITE}
    ).result_rows[0]
    print(f"{SITE}: {events:,} events, timezone {args.timezone}, {args.runs} runs per road")
    ch = AsyncClickHouse(client)
    scope = SiteScope(ch, SITE)

    print("| filter | period | call | stamped p50 / p95 | served p50 / p95 | served/stamped p50 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for text in args.filters.split(","):
        for period in args.periods.split(","):
            first = LAST - dt.timedelta(days=DAYS[period] - 1)
            sel = Selection(SITE, DateRange(first, LAST, args.timezone), tuple(parse_filters(text)))
            timed: dict[tuple[str, str], list[float]] = {}
            answers: dict[tuple[str, str], list[tuple]] = {}
            failed: dict[tuple[str, str], str] = {}
            for _ in range(args.runs):
                for call in (PAGES, ARTICLES):
                    for road, answer in (("stamped", stamped(scope, sel, call)),
                                         ("served", served(ch, sel, call))):  # fmt: skip
                        began = time.perf_counter()
                        try:
                            answers[call, road] = await answer
                        except DatabaseError as error:
                            failed[call, road] = _reason(error)
                            continue
                        timed.setdefault((call, road), []).append(time.perf_counter() - began)
            for call in (PAGES, ARTICLES):
                if (call, "served") in failed:
                    raise SystemExit(f"{text} {period} {call}: {failed[call, 'served']}")
                now = timed[call, "served"]
                if (call, "stamped") in failed:
                    print(f"| `{text}` | {period} | {call} | failed: {failed[call, 'stamped']} "
                          f"| {_ms(now)} | |")  # fmt: skip
                    continue
                before = timed[call, "stamped"]
                if answers[call, "stamped"] != answers[call, "served"]:
                    raise SystemExit(f"{text} {period} {call}: the roads answer differently")
                ratio = statistics.median(now) / statistics.median(before)
                print(
                    f"| `{text}` | {period} | {call} | {_ms(before)} | {_ms(now)} | {ratio:.2f} |"
                )


def _reason(error: DatabaseError) -> str:
    if "MEMORY_LIMIT_EXCEEDED" in str(error):
        return "over chdb's memory budget"
    return str(error)[:80]


def _ms(times: list[float]) -> str:
    ordered_times = sorted(times)
    p95 = ordered_times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return f"{statistics.median(times) * 1000:,.0f} / {p95 * 1000:,.0f} ms"


if __name__ == "__main__":
    asyncio.run(main())
