"""Dashboard speed on a year of data: every Stats API call a site page makes, rollups vs raw.

    .venv/bin/python bench/dashboard.py [--data-dir /tmp/ff-dash-bench]
        [--pageviews 10000000] [--runs 10] [--raw-runs 3] [--periods day,7d,30d,month,6mo,12mo]
        [--browser] [--browser-loads 10] [--no-optimize] [--timezone Asia/Kolkata]
        [--filters visit:country==VN] [--insert-rate 2000]

What it does:

1. opens (or makes) the chdb folder `<data-dir>/chdb`; when it does not hold exactly
   `--pageviews` page views of `bench.example` (and one engagement event each), empties
   every table and fills it with `bench/dashboard_data.py` (a year ending 2023-11-15
   12:00 UTC, site timezone Asia/Ho_Chi_Minh, or `--timezone`), so the data is kept
   between runs (one folder per timezone); prints its page views per quarter (the
   traffic grows over the year) and stops if an event lies after the bench's "now";
2. closes the days due at the data's end, as the aggregator would have
   (aggregator/closing.py: past days', weeks', months', quarters' and runs of months'
   numbers as counts);
3. counts the active parts of every table and, unless `--no-optimize`, merges each
   table whose partitions hold more than one part (`OPTIMIZE TABLE ... FINAL`), as the
   background merges of a long-running server would have (the fill leaves dozens);
4. starts a redis-server (no persistence) and the dashboard application
   (`dashboard.app.create_app`, its clock stopped at the data's end) on 127.0.0.1 in
   this process, makes the site through the Sites API;
5. for each period, times with aiohttp every call the site page makes (see
   dashboard/static/js/site.js): `realtime/visitors`, `aggregate` of the six card
   metrics with `compare=previous_period`, `timeseries` of visitors (hours for a day,
   months for 6mo/12mo, else days), the `articles` top 10, a `breakdown` of visitors
   (limit 10) for every property of every panel's tabs (those shown first are marked
   `*`), with `--filters` on each (as a click on a row sets them) if given; then,
   apart from the page load, the top articles by each other sort and the own page
   (`articles/{id}`) of the year's first, middle and last article by page views.
   Each call is timed `--runs` times from the rollups, as served, and `--raw-runs`
   times with every query forced to raw `events` (the same handler, `queries`'
   functions called with `raw=True`); the calls go in the page's order, round after
   round, each one's raw right after it, so no call meets itself back to back; p50 and
   p95 per call, and the ratio;
6. checks that the rollup answer of each call equals the raw one (JSON equality);
7. with `--insert-rate N`: all the while, a second site's page views go through Redis
   and a real aggregator into the same ClickHouse at N per second (bench/insert_load.py),
   so that the calls meet inserts and merges; its rows are deleted at the end;
8. with `--browser`: logs in with Chromium (headless, through Playwright) and loads
   the site page `--browser-loads` times per period (with `--filters` in its address, as
   a click puts them), from navigation to every card,
   the chart, the articles and the panels filled (`document.body.dataset.readyMs`,
   which the page sets to `performance.now()` at its first complete view).

The machine's load average is printed before and after: this is a shared 2-core VM.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import functools
import json
import math
import os
import sys
import tempfile
import time
import types
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

# Run as a script from bench/, where bench/aggregator.py would shadow the package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator import closing  # noqa: E402
from app.database import open_clickhouse  # noqa: E402
from app.redis_server import EmbeddedRedis, free_port  # noqa: E402
from bench import dashboard_data, insert_load  # noqa: E402
from bench.machine import of_process  # noqa: E402
from dashboard import appkeys, queries, stats_api  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from footfall import closed_counts  # noqa: E402
from footfall.connections import IDLE_S, AsyncClickHouse  # noqa: E402
from footfall.settings import Settings  # noqa: E402
from tests.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SITE = dashboard_data.SITE
TIMEZONE = dashboard_data.TIMEZONE
END = dashboard_data.END
TOKEN = "bench-admin-token"
EMAIL = "bench@bench.example"
PASSWORD = "bench password 1234"
PERIODS = ("day", "7d", "30d", "month", "6mo", "12mo")
CARD_METRICS = "visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration"
PAGE_CARD_METRICS = ",".join(m for m in CARD_METRICS.split(",") if m != "views_per_visit")
"""The cards under a page filter (`cardMetrics` in dashboard/static/js/state.js)."""
# The panels' tabs, as dashboard/static/js/site.js lists them; the first of each is
# what a page load shows.
PANELS = [
    ["event:page", "visit:entry_page", "visit:exit_page"],
    ["visit:source", "visit:referrer"],
    ["visit:utm_campaign", "visit:utm_source", "visit:utm_medium", "visit:utm_content",
     "visit:utm_term"],
    ["visit:country"],
    ["visit:device", "visit:browser", "visit:os"],
]  # fmt: skip
SHOWN_FIRST = {tabs[0] for tabs in PANELS}


# -- data --------------------------------------------------------------------------------


def prepare_data(  # type: ignore[no-untyped-def]
    client, pageviews: int, optimize: bool, timezone: str, latest_runs_only: bool = False
) -> None:
    counts = client.query(
        "SELECT countIf(type = 'pageview'), countIf(type = 'engagement') FROM events "
        "WHERE site = {s:String}",
        parameters={"s": SITE},
    ).result_rows[0]
    latest = latest_event(client)
    crossing = visits_past_midnight(client, timezone)
    if tuple(counts) != (pageviews, pageviews) or latest > END or crossing:
        print(f"data: {counts[0]:,} page views, {counts[1]:,} engagements, the latest at "
              f"{latest}, {crossing:,} events of a visit after its midnight; "
              "refilling")  # fmt: skip
        for table in _tables(client):
            client.command(f"TRUNCATE TABLE {table}")
        seconds = dashboard_data.fill(client, SITE, pageviews, timezone=timezone)
        print(f"data: filled {pageviews:,} page views (+ engagements) in {seconds:.0f} s")
    else:
        print(f"data: {pageviews:,} page views and as many engagements already there")
    describe_growth(client, timezone)
    started = time.perf_counter()
    closed = asyncio.run(close_days(client, timezone, latest_runs_only))
    print(f"data: closed {closed} days in {time.perf_counter() - started:.1f} s")
    parts = dict(
        client.query(
            "SELECT table, count() FROM system.parts WHERE active AND database = currentDatabase() "
            "GROUP BY table"
        ).result_rows
    )
    crowded = client.query(
        "SELECT DISTINCT table FROM system.parts WHERE active AND database = currentDatabase() "
        "GROUP BY table, partition HAVING count() > 1"
    ).result_rows
    print("data: active parts " + ", ".join(f"{t} {n}" for t, n in sorted(parts.items())))
    if optimize and crowded:
        for (table,) in crowded:
            started = time.perf_counter()
            client.command(f"OPTIMIZE TABLE {table} FINAL")
            print(f"data: OPTIMIZE TABLE {table} FINAL in {time.perf_counter() - started:.1f} s")
    sizes = client.query(
        "SELECT table, count(), sum(rows), formatReadableSize(sum(bytes_on_disk)) "
        "FROM system.parts WHERE active AND database = currentDatabase() "
        "GROUP BY table ORDER BY table"
    ).result_rows
    for table, n, rows, size in sizes:
        print(f"data: {table}: {n} parts, {rows:,} rows, {size}")


def latest_event(client) -> dt.datetime:  # type: ignore[no-untyped-def]
    (latest,) = client.query(
        "SELECT max(ts) FROM events WHERE site = {s:String}", parameters={"s": SITE}
    ).result_rows[0]
    return latest.replace(tzinfo=dt.UTC)


def visits_past_midnight(client, timezone: str) -> int:  # type: ignore[no-untyped-def]
    """Events dated after their visit's first day: none the collector makes (its visitor
    ids change at the site's midnight), and the `visits` road counts on it."""
    (crossing,) = client.query(
        "SELECT count() FROM events WHERE site = {s:String} AND visit_start > 0 "
        "AND toDate(ts, {tz:String}) != toDate(visit_start, {tz:String})",
        parameters={"s": SITE, "tz": timezone},
    ).result_rows[0]
    return crossing


def describe_growth(client, timezone: str) -> None:  # type: ignore[no-untyped-def]
    """Print the data's page views per quarter (it grows towards its end), and refuse data
    with an event after the bench's "now" (the clock the dashboard is given)."""
    quarters = client.query(
        "SELECT toStartOfQuarter(date), countIf(type = 'pageview') FROM events "
        "WHERE site = {s:String} GROUP BY 1 ORDER BY 1",
        parameters={"s": SITE},
    ).result_rows
    print("data: page views per quarter: " + ", ".join(f"{q} {n:,}" for q, n in quarters))
    latest = latest_event(client)
    if latest > END:
        raise SystemExit(f"data: an event at {latest}, after the bench's now {END}")
    print(f"data: the latest event at {latest:%Y-%m-%d %H:%M:%S} UTC, before the bench's "
          f"now, {END:%Y-%m-%d %H:%M} UTC ({timezone})")  # fmt: skip


async def close_days(  # type: ignore[no-untyped-def]
    client, timezone: str, latest_runs_only: bool = False
) -> int:
    """Close the days due at the data's end, and the runs of months, as the aggregator
    would have (see aggregator/closing.py), or only the latest runs (those ending with
    the last closed month: the only ones the bench's periods read); returns how many
    days were due."""
    ch = AsyncClickHouse(client)
    an_hour_ago = dashboard_data.END - dt.timedelta(milliseconds=closing.CLOSE_GRACE_MS)
    last = closing.last_due(an_hour_ago.astimezone(ZoneInfo(timezone)).date())
    total = 0
    while days := await closing.close_due(ch, SITE, timezone, last):
        total += len(days)
    while not (latest_runs_only and await latest_runs_closed(ch)):
        if not await closing.close_runs(ch, SITE):
            break
    ch.close()
    return total


async def latest_runs_closed(ch: AsyncClickHouse) -> bool:
    now = await closing.closed(ch, SITE)
    last = max(now.months, default=None)
    return last is not None and all(
        closed_counts.add_months(last, 1 - months) in now.of(span)
        for span, months in closed_counts.MONTH_RUNS.items()
    )


def _tables(client) -> list[str]:  # type: ignore[no-untyped-def]
    rows = client.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND engine LIKE '%MergeTree' AND name != 'schema_migrations'"
    ).result_rows
    return [name for (name,) in rows]


# -- the calls -------------------------------------------------------------------------


ARTICLE_SORTS = ("visitors", "visits", "engaged_time")
"""The top articles' other sorts (the page shows them by page views), timed apart."""


def page_calls(
    period: str, articles: list[tuple[str, str]], filters: str = "", site: str = SITE
) -> list[tuple[str, str, dict[str, str]]]:
    """(name, path, params) of every call the page of `site` makes for `period`, with
    `filters` (as a click on a row sets them: `visit:country==VN`) on every call but the
    realtime; then the top articles by each other sort, and the page of each of
    `articles` (label, id), which are not part of the site page's load."""
    base = {"site_id": site, "period": period} | ({"filters": filters} if filters else {})
    interval = "hour" if period == "day" else "month" if period in ("6mo", "12mo") else "date"
    cards = PAGE_CARD_METRICS if "event:page" in filters else CARD_METRICS
    calls = [
        ("realtime", "/api/v1/stats/realtime/visitors", {"site_id": site}),
        ("aggregate+compare", "/api/v1/stats/aggregate",
         base | {"metrics": cards, "compare": "previous_period"}),
        (f"timeseries/{interval}", "/api/v1/stats/timeseries",
         base | {"metrics": "visitors", "interval": interval}),
        ("articles top 10", "/api/v1/stats/articles", base | {"sort": "pageviews", "limit": "10"}),
    ]  # fmt: skip
    for tabs in PANELS:
        for prop in tabs:
            mark = "*" if prop in SHOWN_FIRST else ""
            params = base | {"property": prop, "metrics": "visitors", "limit": "10"}
            calls.append((f"breakdown {prop}{mark}", "/api/v1/stats/breakdown", params))
    for sort in ARTICLE_SORTS:
        params = base | {"sort": sort, "limit": "10"}
        calls.append((f"articles by {sort}", "/api/v1/stats/articles", params))
    for label, article in articles:
        path = f"/api/v1/stats/articles/{article}"
        calls.append((f"article {label}", path, base | {"interval": interval}))
    return calls


async def ranked_articles(timer: Timer) -> list[tuple[str, str]]:
    """The year's first, middle and last article by page views: an article page is timed
    for a popular one, an ordinary one and one read a few times."""
    params = {"site_id": SITE, "period": "12mo", "sort": "pageviews", "limit": "1000"}
    _, body = await timer.call("/api/v1/stats/articles", params, raw=False)
    ids = [row["article_id"] for row in body["results"]]  # type: ignore[index]
    return [("head", ids[0]), ("middle", ids[len(ids) // 2]), ("tail", ids[-1])]


def raw_queries() -> types.SimpleNamespace:
    """`queries` with every function that can read the rollups told to read raw events."""
    namespace = types.SimpleNamespace(**vars(queries))
    for name in ("aggregate", "aggregate_compared", "timeseries", "breakdown", "articles",
                 "article_totals", "article_series", "article_overview",
                 "article_sources"):  # fmt: skip
        setattr(namespace, name, functools.partial(getattr(queries, name), raw=True))
    return namespace


class Timer:
    def __init__(self, session: aiohttp.ClientSession, url: str):
        self.session = session
        self.url = url
        self.raw = raw_queries()
        self.rss_before = of_process(os.getpid())["VmRSS"]
        self.rss: dict[bool, list[float]] = {False: [], True: []}
        """This process's RSS (it serves the dashboard) after each call, served (False) or
        forced raw (True), MiB."""

    async def call(self, path: str, params: dict[str, str], raw: bool) -> tuple[float, object]:
        # The handlers reach `queries` through their module: swapped for one request at a
        # time (the requests are sequential), so both paths run the same handler.
        stats_api.queries = self.raw if raw else queries  # type: ignore[assignment]
        try:
            started = time.perf_counter()
            async with self.session.get(
                self.url + path, params=params, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as response:
                body = await response.json()
                elapsed = time.perf_counter() - started
            if response.status != 200:
                raise RuntimeError(f"{path} {params}: {response.status} {body}")
            self.rss[raw].append(of_process(os.getpid())["VmRSS"])
            return elapsed, body
        finally:
            stats_api.queries = queries  # type: ignore[assignment]


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`, in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def time_calls(
    timer: Timer,
    periods: list[str],
    runs: int,
    raw_runs: int,
    articles: list[tuple[str, str]],
    filters: str = "",
) -> list[dict]:
    """Each call of the site page per period, `runs` times from the rollups and `raw_runs`
    forced raw, interleaved in the page's order (a call never meets itself back to back,
    as a page load never does): p50, p95 and whether both answers agree."""
    rows = []
    for period in periods:
        calls = page_calls(period, articles, filters)
        served: dict[str, list[float]] = {name: [] for name, _, _ in calls}
        raw: dict[str, list[float]] = {name: [] for name, _, _ in calls}
        answers: dict[str, dict[bool, object]] = {name: {} for name, _, _ in calls}
        for _, path, params in calls:
            await timer.call(path, params, raw=False)  # warm caches (sites, tokens)
        for run in range(runs):
            for name, path, params in calls:
                elapsed, answers[name][False] = await timer.call(path, params, raw=False)
                served[name].append(elapsed)
                if run < raw_runs:
                    elapsed, answers[name][True] = await timer.call(path, params, raw=True)
                    raw[name].append(elapsed)
        for name, _, _ in calls:
            agree = (answers[name][False] == answers[name][True]) if raw[name] else None
            row = {
                "period": period,
                "call": name,
                "p50": pct(served[name], 50),
                "p95": pct(served[name], 95),
                "raw_p50": pct(raw[name], 50) if raw[name] else float("nan"),
                "raw_p95": pct(raw[name], 95) if raw[name] else float("nan"),
                "agree": agree,
            }
            if agree is False:
                row["diff"] = _first_difference(answers[name][False], answers[name][True])
            rows.append(row)
            _print_row(row)
    return rows


def _first_difference(a: object, b: object, where: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{where}.{key}")
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return _first_difference(x, y, f"{where}[{i}]")
        if len(a) != len(b):
            return f"{where}: {len(a)} vs {len(b)} items"
    return f"{where}: rollup {json.dumps(a)[:120]} raw {json.dumps(b)[:120]}"


def _print_row(row: dict) -> None:
    ratio = row["raw_p50"] / row["p50"] if row["p50"] else float("nan")
    agree = {True: "yes", False: "NO", None: "-"}[row["agree"]]
    print(
        f"| {row['period']} | {row['call']} | {row['p50']:.0f} | {row['p95']:.0f} | "
        f"{row['raw_p50']:.0f} | {row['raw_p95']:.0f} | {ratio:.1f} | {agree} |",
        flush=True,
    )
    if "diff" in row:
        print(f"|   differs at {row['diff']}", flush=True)


def print_summary(rows: list[dict]) -> None:
    print("\nper period: sum of the page load's calls (marked *), p50 of each summed")
    for period in dict.fromkeys(r["period"] for r in rows):
        load = [
            r
            for r in rows
            if r["period"] == period
            and (not r["call"].startswith("breakdown") or r["call"].endswith("*"))
            and not r["call"].startswith(("article ", "articles by "))
        ]
        served = sum(r["p50"] for r in load)
        raw = sum(r["raw_p50"] for r in load)
        worst = max((r for r in rows if r["period"] == period), key=lambda r: r["p95"])
        print(
            f"  {period}: page load {served:.0f} ms from rollups, {raw:.0f} ms raw; "
            f"slowest call {worst['call']} p95 {worst['p95']:.0f} ms"
        )
    over = [r for r in rows if r["p95"] > 100]
    print(f"calls over 100 ms p95: {len(over)} of {len(rows)}")
    for r in over:
        print(f"  {r['period']} {r['call']}: p95 {r['p95']:.0f} ms")
    disagree = [r for r in rows if r["agree"] is False]
    print(f"rollup and raw answers differ: {len(disagree)} of {len(rows)} calls")


# -- browser -----------------------------------------------------------------------------


async def browser_loads(url: str, periods: list[str], loads: int, filters: str = "") -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = await browser.new_context(locale="en-US")
        page = await context.new_page()
        await page.goto(f"{url}/login?next=/")
        await page.fill("#email", EMAIL)
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{url}/")
        print("\nbrowser: navigation -> every card, the chart, articles and panels filled (ms)")
        print("| period | p50 | p95 | min | max | loads |")
        print("|---|---|---|---|---|---|")
        for period in periods:
            readies = []
            for n in range(loads + 1):
                query = urllib.parse.urlencode(
                    {"period": period} | ({"filters": filters} if filters else {})
                )
                await page.goto(f"{url}/sites/{SITE}?{query}")
                # Functions, not expressions: the page's CSP forbids eval, Playwright's too.
                await page.wait_for_function(
                    "() => document.body.dataset.readyMs !== undefined", timeout=120_000
                )
                ready = float(await page.locator("body").get_attribute("data-ready-ms"))
                if n:  # the first load warms the browser's caches of the static files
                    readies.append(ready / 1000)
            print(
                f"| {period} | {pct(readies, 50):.0f} | {pct(readies, 95):.0f} | "
                f"{1000 * min(readies):.0f} | {1000 * max(readies):.0f} | {loads} |",
                flush=True,
            )
        await browser.close()


# -- main --------------------------------------------------------------------------------


async def serve_and_measure(args: argparse.Namespace, settings: Settings, clickhouse) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings, clickhouse)
    end_ms = int(END.timestamp() * 1000)
    clock: Callable[[], int] = lambda: end_ms  # noqa: E731
    app[appkeys.CLOCK] = clock
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}"
    stop_load = asyncio.Event()
    load = None
    try:
        async with aiohttp.ClientSession() as session:
            for domain in (SITE, insert_load.SITE) if args.insert_rate else (SITE,):
                await make_site(session, url, domain, args.timezone)
            if args.insert_rate:
                today = END.astimezone(ZoneInfo(args.timezone)).date()
                load = asyncio.create_task(
                    insert_load.run(settings, clickhouse, args.insert_rate, clock, today, stop_load)
                )
            periods = args.periods.split(",")
            if args.runs:
                timer = Timer(session, url)
                articles = await ranked_articles(timer)
                print(f"\narticles timed: {', '.join(f'{k} {v}' for k, v in articles)}")
                print(
                    f"{args.runs} runs from the rollups, {args.raw_runs} forced raw, per call "
                    "(ms; ratio = raw p50 / p50)"
                )
                print("| period | call | p50 | p95 | raw p50 | raw p95 | raw/rollup | agree |")
                print("|---|---|---|---|---|---|---|---|")
                rows = await time_calls(
                    timer, periods, args.runs, args.raw_runs, articles, args.filters
                )
                print_summary(rows)
                # The in-process engine gives back what its allocator keeps once idle.
                await asyncio.sleep(IDLE_S + 1)
                print(
                    f"RSS of this process (the dashboard and the bench): before the calls "
                    f"{timer.rss_before:.0f} MiB, highest after a served call "
                    f"{max(timer.rss[False], default=0):.0f} MiB, after a raw one "
                    f"{max(timer.rss[True], default=0):.0f} MiB, idle {IDLE_S + 1:.0f} s after "
                    f"the last {of_process(os.getpid())['VmRSS']:.0f} MiB"
                )
        if args.browser:
            await browser_loads(url, periods, args.browser_loads, args.filters)
    finally:
        if load is not None:
            stop_load.set()
            print((await load).describe())
        await runner.cleanup()


async def make_site(session: aiohttp.ClientSession, url: str, domain: str, timezone: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with session.get(f"{url}/api/v1/sites/{domain}", headers=auth) as response:
        if response.status == 200:
            return
    site = {"domain": domain, "timezone": timezone}
    async with session.post(f"{url}/api/v1/sites", json=site, headers=auth) as response:
        assert response.status == 201, await response.text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        help="default: /tmp/ff-dash-bench, with the timezone's name if not the default",
    )
    parser.add_argument(
        "--timezone",
        default=TIMEZONE,
        help="the site's (Asia/Kolkata, Asia/Kathmandu: not whole hours off UTC)",
    )
    parser.add_argument("--pageviews", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--raw-runs", type=int, default=3)
    parser.add_argument("--periods", default=",".join(PERIODS))
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--browser-loads", type=int, default=10)
    parser.add_argument("--no-optimize", action="store_true")
    parser.add_argument(
        "--chdb-memory-mb",
        type=int,
        default=Settings.chdb_memory_mb,
        help="the engine's whole budget (FOOTFALL_CHDB_MEMORY_MB)",
    )
    parser.add_argument(
        "--chdb-cache-mb",
        type=int,
        default=Settings.chdb_cache_mb,
        help="each of its caches (FOOTFALL_CHDB_CACHE_MB; marks, primary indexes...)",
    )
    parser.add_argument(
        "--latest-runs-only",
        action="store_true",
        help="close only the runs of months the periods read, not the older ones (at 100 M "
        "page views a year each takes minutes)",
    )
    parser.add_argument(
        "--filters", default="", help="on every call, as a click sets them: visit:country==VN"
    )
    parser.add_argument(
        "--insert-rate", type=int, default=0, help="page views/s of a second site meanwhile"
    )
    args = parser.parse_args()
    default_dir = "/tmp/ff-dash-bench" + (
        "" if args.timezone == TIMEZONE else "-" + args.timezone.replace("/", "-")
    )
    data_dir = Path(args.data_dir or default_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    started = dt.datetime.now(dt.UTC)
    settings = Settings(
        data_dir=data_dir,
        clickhouse_dsn=f"chdb://{(data_dir / 'chdb').resolve()}",
        admin_token=TOKEN,
        admin_email=EMAIL,
        admin_password=PASSWORD,
        chdb_memory_mb=args.chdb_memory_mb,
        chdb_cache_mb=args.chdb_cache_mb,
    )
    clickhouse = open_clickhouse(settings)
    prepare_data(
        clickhouse.client, args.pageviews, not args.no_optimize, args.timezone,
        args.latest_runs_only,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ff-dash-redis-") as redis_dir:
        redis = EmbeddedRedis(redis_dir, appendonly=False).start()
        try:
            settings = dataclasses.replace(settings, redis_url=redis.url)
            asyncio.run(serve_and_measure(args, settings, clickhouse))
            if args.insert_rate:
                tables = insert_load.remove(clickhouse.client)
                print(f"insert load: its rows deleted from {len(tables)} tables")
        finally:
            redis.stop()
            clickhouse.close()
    minutes = (dt.datetime.now(dt.UTC) - started).total_seconds() / 60
    print(
        f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({minutes:.0f} min)"
    )


if __name__ == "__main__":
    main()
