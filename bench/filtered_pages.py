"""Pages and articles under a visit filter: the visit's properties on the events vs the join.

    .venv/bin/python bench/filtered_pages.py [--data-dir /tmp/ff-dash-bench]
        [--timezone Asia/Ho_Chi_Minh] [--filters 'visit:country==VN,visit:source==Google']
        [--periods 30d,12mo] [--runs 5]

A click on a country or a source filters the site page; its page breakdown and its top
articles read the events of the visits that pass. This times both roads to them on the
data `bench/dashboard.py` made (run it first: it fills `<data-dir>/chdb`), in one
process, alternating call by call so the machine's noise falls on both:

* `join`: the events joined to the period's visits that pass, read from `visits`
  (`VisitRoad.TABLE`: the SQL the Stats API sent before migration 0019);
* `stamped`: as the Stats API answers now (`dashboard.queries`): the events by the
  visit's properties stamped on them (`VisitRoad.STAMPED`), page views only when the
  quantities count nothing else, the top articles ranked first then numbered.

Both answer the page breakdown of visitors and page views (limit 10) and the top 10
articles by page views, and their answers are checked equal (a call that fails, over
chdb's memory budget say, is reported, not timed). The folder is migrated
first (`footfall migrate`); the time the migrations took, when any runs here, is
printed. p50 and p95 per call and road, and stamped/join.
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


async def joined(scope: SiteScope, sel: Selection, call: str) -> list[tuple]:
    """`call`'s answer by the events joined to the visits that pass (the SQL before 0019)."""
    params = sel.params() | {"limit": 10, "offset": 0}
    road = VisitRoad.TABLE
    if call == PAGES:
        group = raw_events.property_group(PROPERTIES["event:page"])
        sql = raw_events.numbers(sel.filters, params, PAGE_QUANTITIES, group, road=road)
        return await rows_of(scope, paged(by_quantity(sql, "visitors")), params, PAGE_QUANTITIES)
    every = articles_sql.every_article_raw(sel.filters, params, ARTICLE_QUANTITIES, road=road)
    found = await scope.query(paged(ordered(every, "q_pageviews")), params)
    return [(g, title, numbers(rest, ARTICLE_QUANTITIES)) for g, title, *rest in found]


async def served(ch: AsyncClickHouse, sel: Selection, call: str) -> list[tuple]:
    """`call`'s answer as the Stats API makes it (by the visit's properties on the events)."""
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
    (events,) = client.query(
        "SELECT count() FROM events WHERE site = {site:String}", parameters={"site": SITE}
    ).result_rows[0]
    print(f"{SITE}: {events:,} events, timezone {args.timezone}, {args.runs} runs per road")
    ch = AsyncClickHouse(client)
    scope = SiteScope(ch, SITE)

    print("| filter | period | call | join p50 / p95 | stamped p50 / p95 | stamped/join p50 |")
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
                    for road, answer in (("join", joined(scope, sel, call)),
                                         ("stamped", served(ch, sel, call))):  # fmt: skip
                        began = time.perf_counter()
                        try:
                            answers[call, road] = await answer
                        except DatabaseError as error:
                            failed[call, road] = _reason(error)
                            continue
                        timed.setdefault((call, road), []).append(time.perf_counter() - began)
            for call in (PAGES, ARTICLES):
                if (call, "stamped") in failed:
                    raise SystemExit(f"{text} {period} {call}: {failed[call, 'stamped']}")
                stamped = timed[call, "stamped"]
                if (call, "join") in failed:
                    print(f"| `{text}` | {period} | {call} | failed: {failed[call, 'join']} "
                          f"| {_ms(stamped)} | |")  # fmt: skip
                    continue
                join = timed[call, "join"]
                if answers[call, "join"] != answers[call, "stamped"]:
                    raise SystemExit(f"{text} {period} {call}: the roads answer differently")
                ratio = statistics.median(stamped) / statistics.median(join)
                print(
                    f"| `{text}` | {period} | {call} | {_ms(join)} | {_ms(stamped)} | {ratio:.2f} |"
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
