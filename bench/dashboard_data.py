"""A year of realistic page views for one site, generated inside ClickHouse.

    .venv/bin/python bench/dashboard_data.py --dsn chdb:///tmp/ff-bench --pageviews 10000000

`fill(client, site, pageviews, end)` inserts `pageviews` page views of `site`
over the 365 days before `end` with an `INSERT ... SELECT` per ten million (no Python
per row; ten million page views and their engagement events took 373 s on a 2-core
machine, 2026-12-06), through the materialized views, so
the rollups are filled exactly as the aggregator would fill them. The shape:

* visits: pages per visit geometric (45 % single-page visits, mean 2.2), 20-120 s
  between pages, `duration_ms` on every page view after the first;
* days: traffic grows over the year (density rises linearly towards `end`), and no
  event lies after `end` (the bench's now), nor a visit past the site's midnight (the
  collector's visitor ids change there); hours
  follow a day in Vietnam (peaks at 08:00-11:00, 12:00 and 20:00 local time, 3 % of
  visits between 01:00 and 05:00);
* visitors: each day's visits come from a pool of ids 1/0.6 times as many (ids are
  salted per day, as the collector's are): about 1.3 visits per visitor and day;
* engagement: every page view is followed by the engagement event its snippet sends
  when the page is left (engaged time 3 s up to the time before the next page view),
  which carries the visit's duration on as the collector does (`duration_ms`);
* pages: 85 % articles out of 20,000 with Zipf popularity (rank r drawn ∝ 1/(r+1)),
  the rest section pages; titles per article;
* entry attributes per visit: source (direct 35 %, search 30 %, social 20 %,
  referral 8 %, campaign 7 %) with names (Google, Cốc Cốc, Facebook, Zalo...),
  countries (VN 70 %, US, JP, KR, SG, AU, DE, FR, GB), devices (mobile 62 %,
  desktop 33 %, tablet 5 %) with browsers and OS to match.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

# Run as a script from bench/, where bench/aggregator.py would shadow the package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.database import open_clickhouse  # noqa: E402
from footfall.settings import Settings  # noqa: E402

SITE = "bench.example"
TIMEZONE = "Asia/Ho_Chi_Minh"
END = dt.datetime(2023, 11, 15, 12, 0, tzinfo=dt.UTC)
# Share of a day's visits per local hour (per mille, cumulated), 00:00 first.
HOUR_WEIGHTS = [
    10,
    6,
    4,
    3,
    4,
    12,
    30,
    50,
    60,
    60,
    60,
    65,
    70,
    60,
    50,
    50,
    50,
    50,
    55,
    65,
    70,
    65,
    45,
    25,
]
HOURS = [round(1000 * sum(HOUR_WEIGHTS[: h + 1]) / sum(HOUR_WEIGHTS)) for h in range(24)]

# One visit per row of `numbers(visits)`; ARRAY JOIN turns it into its page views (the
# innermost LIMIT counts page views), and each page view into itself and the engagement
# event its snippet sends when the page is left. Every rand(k) with a distinct k is an
# independent draw. A page is drawn from a hash of (visit, its number in the visit),
# so that every event of a visit can carry its entry page.
_IS_ARTICLE = "cityHash64(visit, {page}, 'article') % 100 < 85"
_RANK = "(toUInt32(floor(exp(cityHash64(visit, {page}, 'rank') / pow(2, 64) * log(20000)))) - 1)"
_PATH = (
    "if({is_article}, concat('/news/a-', toString({rank}), '.html'), "
    "['/', '/news', '/sports', '/business', '/world'][1 + {rank} % 5])"
)
_ENTRY = "toUInt16(0)"
_FILL = """
INSERT INTO events (site, ts, date, type, name, visitor_id, visit_start, new_visit,
    pageview_number, duration_ms, pageview_id, hostname, path, article_id, title,
    referrer, referrer_host, source, source_name, utm_source, utm_medium, utm_campaign,
    country, browser, os, device, screen_width, engaged_ms, stream_id,
    visit_source_name, visit_referrer_host, visit_utm_source, visit_utm_medium,
    visit_utm_campaign, visit_country, visit_device, visit_browser, visit_os, visit_entry_page)
SELECT
    {site:String} AS site,
    if(engagement, page_ts + toIntervalSecond(engaged_s), page_ts) AS ts,
    toDate(ts, {timezone:String}) AS date,
    if(engagement, 'engagement', 'pageview') AS type,
    type AS name,
    visitor_id,
    visit_start,
    NOT engagement AND page = 0 AS new_visit,
    if(engagement, 0, page + 1) AS pageview_number,
    -- ms since the visit's previous event: the previous page's engagement event.
    1000 * multiIf(engagement, engaged_s, page = 0, 0, gap_s - previous_engaged_s) AS duration_ms,
    hex(cityHash64(visit, page)) AS pageview_id,
    {site:String} AS hostname,
    path, article_id,
    if(engagement, '', title) AS title,
    if(NOT engagement AND page = 0, referrer, '') AS referrer,
    if(NOT engagement AND page = 0, referrer_host, '') AS referrer_host,
    multiIf(engagement, '', page = 0, source, 'internal') AS source,
    if(NOT engagement AND page = 0, source_name, '') AS source_name,
    if(NOT engagement AND page = 0, entry_utm_source, '') AS utm_source,
    if(NOT engagement AND page = 0, entry_utm_medium, '') AS utm_medium,
    if(NOT engagement AND page = 0, entry_utm_campaign, '') AS utm_campaign,
    country, browser, os, device, screen_width,
    if(engagement, 1000 * engaged_s, 0) AS engaged_ms,
    concat(toString(visit), '-', toString(page), if(engagement, 'e', '')) AS stream_id,
    -- The visit's entry properties on each of its events (footfall/visit_rows.py).
    entry_source_name AS visit_source_name, entry_referrer_host AS visit_referrer_host,
    entry_utm_source AS visit_utm_source, entry_utm_medium AS visit_utm_medium,
    entry_utm_campaign AS visit_utm_campaign, country AS visit_country,
    device AS visit_device, browser AS visit_browser, os AS visit_os,
    entry_path AS visit_entry_page
FROM
(
-- Per page view: whether it shows an article, and which (a function of the visit and
-- the page's number, so that the visit knows its entry page); how long it was read.
SELECT *, page,
    visit_start + toIntervalSecond(page * gap_s) AS page_ts,
    {is_article} AS is_article,
    {rank} AS rank,
    {path} AS path,
    if(is_article, toString(rank), '') AS article_id,
    if(is_article, concat('Article ', toString(rank)), '') AS title,
    -- engaged seconds of page k: 3 .. gap_s - 1, a function of (visit, k), so that the
    -- next page view knows its previous page's share of the gap.
    toUInt32(3 + cityHash64(visit, page, 'e') % (gap_s - 3)) AS engaged_s,
    toUInt32(3 + cityHash64(visit, toUInt16(page - 1), 'e') % (gap_s - 3)) AS previous_engaged_s
FROM
(
    SELECT
        number AS visit,
        toUInt32(floor(365 * sqrt(randCanonical(1)))) AS day_back_inverse,
        -- The hour of a day in Vietnam: a morning, a noon and an evening peak.
        toUInt32(3600 * (arrayFirstIndex(c -> c > rand(2) % 1000, {hours:Array(UInt32)}) - 1)
            + rand(3) % 3600) AS local_second,
        toDateTime64(toStartOfDay(toDateTime({end:DateTime64(3)}, {timezone:String}))
            - toIntervalDay(364 - least(day_back_inverse, 364)), 3, 'UTC')
            + toIntervalMillisecond(1000 * local_second + rand(16) % 1000) AS visit_start,
        -- The day's visits come from a pool of ids 1/0.6 as large (ids are salted per
        -- site-local day, as the collector's are): about 1.3 visits per visitor and day.
        toUInt64(greatest(100, {all_visits:UInt64} * (2 * least(day_back_inverse, 364) + 1)
            / (365 * 365) / 0.6)) AS pool,
        cityHash64(toDate(visit_start, {timezone:String}), rand(4) % pool) AS visitor_id,
        toUInt16(least(20, 1 + floor(log(greatest(randCanonical(5), 1e-9)) / log(0.55))))
            AS pages,
        toUInt32(20 + rand(6) % 100) AS gap_s,
        rand(7) % 100 AS source_pick,
        multiIf(source_pick < 35, 'direct', source_pick < 65, 'search',
                source_pick < 85, 'social', source_pick < 93, 'referral', 'campaign') AS source,
        multiIf(source = 'search', if(rand(8) % 10 < 8, 'Google', 'Cốc Cốc'),
                source = 'social', ['Facebook', 'Zalo', 'YouTube', 'Twitter'][1 + rand(8) % 4],
                source = 'referral', ['vnexpress.net', 'tuoitre.vn', 'baomoi.com'][1 + rand(8) % 3],
                source = 'campaign', 'newsletter', '') AS source_name,
        multiIf(source_name = 'Google', 'google.com', source_name = 'Cốc Cốc', 'coccoc.com',
                source_name = 'Facebook', 'facebook.com', source_name = 'Zalo', 'zalo.me',
                source_name = 'YouTube', 'youtube.com', source_name = 'Twitter', 't.co',
                source = 'referral', source_name, '') AS referrer_host,
        if(referrer_host = '', '', concat('https://', referrer_host, '/')) AS referrer,
        if(rand(9) % 100 < 70, 'VN',
           ['US', 'JP', 'KR', 'SG', 'AU', 'DE', 'FR', 'GB'][1 + rand(15) % 8]) AS country,
        rand(10) % 100 AS device_pick,
        multiIf(device_pick < 62, 'mobile', device_pick < 95, 'desktop', 'tablet') AS device,
        multiIf(device = 'desktop', ['Windows', 'Windows', 'Mac OS X', 'Linux'][1 + rand(11) % 4],
                device = 'mobile', if(rand(11) % 10 < 7, 'Android', 'iOS'),
                if(rand(11) % 2 = 0, 'iOS', 'Android')) AS os,
        multiIf(os = 'iOS', 'Safari', rand(12) % 10 < 7, 'Chrome',
                ['Firefox', 'Edge', 'Cốc Cốc'][1 + rand(12) % 3]) AS browser,
        toUInt16(multiIf(device = 'mobile', 390, device = 'tablet', 820, 1440)) AS screen_width,
        source_name AS entry_source_name,
        referrer_host AS entry_referrer_host,
        if(source = 'campaign', source_name, '') AS entry_utm_source,
        if(source = 'campaign', 'newsletter', '') AS entry_utm_medium,
        if(source = 'campaign', concat('week-', toString(toWeek(visit_start))), '')
            AS entry_utm_campaign,
        {entry_path} AS entry_path
    FROM numbers({first_visit:UInt64}, {visits:UInt64})
)
ARRAY JOIN range(pages) AS page
-- Nothing after `end`, the bench's now: a visit in progress then has the page views it
-- had, each left (its engagement sent) before it. Nor after the site's midnight: the
-- collector's visitor ids change there, so its visits end there.
WHERE page_ts + toIntervalSecond(engaged_s) < {end:DateTime64(3)}
    AND toDate(page_ts + toIntervalSecond(engaged_s), {timezone:String})
        = toDate(visit_start, {timezone:String})
LIMIT {pageviews:UInt64}
)
ARRAY JOIN [false, true] AS engagement
"""
FILL = (
    _FILL.replace("{is_article}", _IS_ARTICLE.format(page="page"))
    .replace("{rank}", _RANK.format(page="page"))
    .replace("{path}", _PATH.format(is_article="is_article", rank="rank"))
    .replace(
        "{entry_path}",
        _PATH.format(is_article=_IS_ARTICLE.format(page=_ENTRY), rank=_RANK.format(page=_ENTRY)),
    )
)


STATEMENT_PAGEVIEWS = 10_000_000
"""Page views per `INSERT ... SELECT`, each spread over the whole year: one statement
of 100 M met the background merges of ever larger parts and took chdb past its memory
budget after 54 minutes (BENCHMARKS.md); between statements the merges catch up."""


def fill(
    client, site: str, pageviews: int, end: dt.datetime = END, timezone: str = TIMEZONE
) -> float:  # type: ignore[no-untyped-def]
    """Insert `pageviews` page views of `site`, dated in its `timezone`; returns the seconds."""
    started = time.perf_counter()
    every_visit = _visits(pageviews)
    first_visit = 0
    for first in range(0, pageviews, STATEMENT_PAGEVIEWS):
        statement_pageviews = min(STATEMENT_PAGEVIEWS, pageviews - first)
        visits = _visits(statement_pageviews)
        client.command(
            FILL,
            parameters={
                "site": site,
                "timezone": timezone,
                "end": end.replace(tzinfo=None),
                "first_visit": first_visit,
                "visits": visits,
                "all_visits": every_visit,
                "hours": HOURS,
                "pageviews": statement_pageviews,
            },
            # Blocks of a quarter of a million rows: each goes through every materialized
            # view at once, and a million-row block took chdb past its memory budget.
            settings={"max_insert_threads": 2, "min_insert_block_size_rows": 262_144},
        )
        first_visit += visits
    return time.perf_counter() - started


def _visits(pageviews: int) -> int:
    """Visits enough for `pageviews` page views (2.2 a visit, some cut at `end`)."""
    return int(pageviews / 2.2 * 1.05) + 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--pageviews", type=int, default=10_000_000)
    parser.add_argument(
        "--chdb-memory-mb", type=int, default=Settings.chdb_memory_mb,
        help="chdb's memory budget (a chdb:// DSN)",
    )  # fmt: skip
    args = parser.parse_args()
    settings = Settings(clickhouse_dsn=args.dsn, chdb_memory_mb=args.chdb_memory_mb)
    client = open_clickhouse(settings).client
    seconds = fill(client, SITE, args.pageviews)
    count = client.query(
        "SELECT countIf(type = 'pageview') FROM events WHERE site = {s:String}", {"s": SITE}
    )
    print(f"{count.result_rows[0][0]:,} page views in {seconds:.1f} s")


if __name__ == "__main__":
    main()
