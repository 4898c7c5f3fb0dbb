"""A year of realistic page views for one site, generated inside ClickHouse.

    .venv/bin/python bench/dashboard_data.py --dsn chdb:///tmp/ff-bench --pageviews 10000000

`fill(client, site, pageviews, end)` inserts `pageviews` page views of `site`
over the 365 days before `end` with one `INSERT ... SELECT` (no Python per row,
so ten million rows take about a minute), through the materialized views, so
the rollups are filled exactly as the aggregator would fill them. The shape:

* visits: pages per visit geometric (45 % single-page visits, mean 2.2), 20-120 s
  between pages, `duration_ms` on every page view after the first;
* days: traffic grows over the year (density rises linearly towards `end`); hours
  follow a day in Vietnam (85 % between 07:00 and 23:00 local time);
* visitors: a pool of 12,000 visitor ids per day (ids are salted per day, as the
  collector's are), so busy days see several visits per visitor;
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

from footfall.serve import open_clickhouse  # noqa: E402
from footfall.settings import Settings  # noqa: E402

SITE = "bench.example"
TIMEZONE = "Asia/Ho_Chi_Minh"
END = dt.datetime(2023, 11, 15, 12, 0, tzinfo=dt.UTC)

# One visit per row of `numbers(visits)`; ARRAY JOIN turns it into its page views.
# Every rand(k) with a distinct k is an independent draw.
FILL = """
INSERT INTO events (site, ts, date, type, name, visitor_id, visit_start, new_visit,
    pageview_number, duration_ms, pageview_id, hostname, path, article_id, title,
    referrer, referrer_host, source, source_name, utm_source, utm_medium, utm_campaign,
    country, browser, os, device, screen_width, stream_id)
SELECT
    {site:String} AS site,
    visit_start + toIntervalSecond(page * gap_s) AS ts,
    toDate(ts, {timezone:String}) AS date,
    'pageview' AS type,
    'pageview' AS name,
    visitor_id,
    visit_start,
    page = 0 AS new_visit,
    page + 1 AS pageview_number,
    if(page = 0, 0, gap_s * 1000) AS duration_ms,
    hex(cityHash64(visit, page)) AS pageview_id,
    {site:String} AS hostname,
    if(is_article, concat('/news/a-', toString(rank), '.html'),
       ['/', '/news', '/sports', '/business', '/world'][1 + rank % 5]) AS path,
    if(is_article, toString(rank), '') AS article_id,
    if(is_article, concat('Article ', toString(rank)), '') AS title,
    if(page = 0, referrer, '') AS referrer,
    if(page = 0, referrer_host, '') AS referrer_host,
    if(page = 0, source, 'internal') AS source,
    if(page = 0, source_name, '') AS source_name,
    if(page = 0 AND source = 'campaign', source_name, '') AS utm_source,
    if(page = 0 AND source = 'campaign', 'newsletter', '') AS utm_medium,
    if(page = 0 AND source = 'campaign', concat('week-', toString(toWeek(ts))), '')
        AS utm_campaign,
    country, browser, os, device, screen_width,
    concat(toString(visit), '-', toString(page)) AS stream_id
FROM
(
-- Per page view: whether it shows an article, and which.
SELECT *, page, rand(13) % 100 < 85 AS is_article,
    toUInt32(floor(exp(randCanonical(14) * log(20000)))) - 1 AS rank
FROM
(
    SELECT
        number AS visit,
        toUInt32(floor(365 * sqrt(randCanonical(1)))) AS day_back_inverse,
        toUInt32(if(rand(2) % 100 < 85, 7 * 3600 + rand(3) % (16 * 3600), rand(3) % 86400))
            AS local_second,
        toDateTime64(toStartOfDay(toDateTime({end:DateTime64(3)}, {timezone:String}))
            - toIntervalDay(364 - least(day_back_inverse, 364)), 3, 'UTC')
            + toIntervalSecond(local_second) AS visit_start,
        cityHash64(toDate(visit_start), rand(4) % 12000) AS visitor_id,
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
        toUInt16(multiIf(device = 'mobile', 390, device = 'tablet', 820, 1440)) AS screen_width
    FROM numbers({visits:UInt64})
)
ARRAY JOIN range(pages) AS page
)
LIMIT {pageviews:UInt64}
"""


def fill(client, site: str, pageviews: int, end: dt.datetime = END) -> float:  # type: ignore[no-untyped-def]
    """Insert `pageviews` page views of `site`; returns the seconds it took."""
    started = time.perf_counter()
    client.command(
        FILL,
        parameters={
            "site": site,
            "timezone": TIMEZONE,
            "end": end.replace(tzinfo=None),
            "visits": int(pageviews / 2.2 * 1.05) + 1000,
            "pageviews": pageviews,
        },
        settings={"max_insert_threads": 2},
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--pageviews", type=int, default=10_000_000)
    args = parser.parse_args()
    client = open_clickhouse(Settings(clickhouse_dsn=args.dsn)).client
    seconds = fill(client, SITE, args.pageviews)
    count = client.query("SELECT count() FROM events WHERE site = {s:String}", {"s": SITE})
    print(f"{count.result_rows[0][0]:,} page views in {seconds:.1f} s")


if __name__ == "__main__":
    main()
