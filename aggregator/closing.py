"""Closing days: a site's visitors of past days stored as counts (`visitor_counts`).

A site's visitor ids are salted per site-local day, so no id is seen on two days
and a period's visitors are the sum of its days'. While a day is open its
visitors are `uniq` states in the rollups, decoded hash by hash at every query;
once it is over they no longer change, so the aggregator closes it:

* a day is closed an hour after it ends in the site's timezone (`CLOSE_GRACE_MS`):
  events are stamped when received and ids change at midnight, so only an
  aggregator that fell behind, and imports, add to a day after that;
* `close_due` closes a site's days after its last closed one, oldest first, at
  most `DAYS_PER_STEP` of them a call: one INSERT of every rollup's counts of
  those days, then one of their markers; when it closes a month's last day, the
  month's sums and marker follow;
* `close_again` closes anew the closed days (and months) that late events were
  added to: the aggregator notes those days in Redis before it acknowledges their
  batch, and closes them again in its next round, once for many batches.

Every closing has a version, read from ClickHouse's clock before its states are
read: a later closing reads a later snapshot and has the higher version, so the
rows at a marker's latest version are the day's whole counts. Queries read those
(see `Closed`) and merge states for the other days.

Events added to a day while it is closed for the first time are noted too, and the
day stays noted until it is closed, then is closed again: no closing misses them.
Until the next round (`CLOSE_EVERY` seconds), a closed day's counts may miss the
late events of the last batches.
"""

from __future__ import annotations

import datetime as dt

from footfall.connections import AsyncClickHouse
from footfall.visitor_counts import closed

CLOSE_GRACE_MS = 3_600_000
DAYS_PER_STEP = 7
"""A week of a site's days per call, between two batches: after an upgrade, a year of
bench/dashboard.py's data (10 million page views) closes in 52 calls, 40 s in all."""

# Every rollup's visitors per day of the days {first:Date}..{last:Date}, as rows
# (kind, date, key, value, visitors).
_DAY_COUNTS = """
SELECT 'site' AS kind, date, '' AS key, '' AS value, uniqMerge(visitors) AS n
FROM site_visitors WHERE site = {site:String} AND span = 'day'
    AND date BETWEEN {first:Date} AND {last:Date} GROUP BY date
UNION ALL
SELECT property, date, '', value, uniqMerge(visitors)
FROM breakdown_stats WHERE site = {site:String} AND span = 'day'
    AND date BETWEEN {first:Date} AND {last:Date} GROUP BY property, date, value
UNION ALL
SELECT 'article', date, article_id, '', uniqMerge(visitors)
FROM article_stats WHERE site = {site:String} AND span = 'day'
    AND date BETWEEN {first:Date} AND {last:Date} GROUP BY date, article_id
UNION ALL
SELECT 'article_visits', date, article_id, '', uniqMerge(visits)
FROM article_stats WHERE site = {site:String} AND span = 'day'
    AND date BETWEEN {first:Date} AND {last:Date} GROUP BY date, article_id
UNION ALL
SELECT 'article_source', date, article_id, source, uniqMerge(visitors)
FROM article_sources WHERE site = {site:String} AND span = 'day'
    AND date BETWEEN {first:Date} AND {last:Date} GROUP BY date, article_id, source
UNION ALL
SELECT 'exit_page', toDate(visit_start, {tz:String}) AS day, '', path, uniq(visitor_id)
FROM visit_exits FINAL WHERE site = {site:String}
    AND visit_start >= toDateTime({first:Date}, {tz:String})
    AND visit_start < toDateTime({last:Date} + 1, {tz:String}) GROUP BY day, path
"""
COLUMNS = "(site, kind, span, date, key, value, visitors, version)"


def last_due(today_an_hour_ago: dt.date) -> dt.date:
    """The last day due to be closed, given the site's date an hour (`CLOSE_GRACE_MS`) ago."""
    return today_an_hour_ago - dt.timedelta(days=1)


async def close_due(ch: AsyncClickHouse, site: str, timezone: str, last: dt.date) -> list[dt.date]:
    """Close the site's days after its last closed one up to `last` (at most
    `DAYS_PER_STEP` of them); returns the days closed."""
    now = await closed(ch, site)
    if now.through is not None:
        first = now.through + dt.timedelta(days=1)
    else:
        ((first,),) = await ch.query(
            "SELECT minOrNull(date) FROM site_visitors WHERE site = {site:String} AND span = 'day'",
            {"site": site},
        )
        if first is None:
            return []
    last = min(last, first + dt.timedelta(days=DAYS_PER_STEP - 1))
    if first > last:
        return []
    await _close(ch, site, timezone, first, last)
    for month in _months_ending(first, last):
        await _close_month(ch, site, month)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


async def close_again(
    ch: AsyncClickHouse, site: str, timezone: str, days: set[dt.date]
) -> set[dt.date]:
    """After late events were added to `days`: close anew those of them at or before the
    last closed day, and the closed months they are in; returns those days (the others
    will be closed in their turn, with the late events)."""
    now = await closed(ch, site)
    if now.through is None or not days:
        return set()
    late = sorted(day for day in days if day <= now.through)
    for day in late:
        await _close(ch, site, timezone, day, day)
    for month in sorted({day.replace(day=1) for day in late}):
        if month in now.months:
            await _close_month(ch, site, month)
    return set(late)


async def _close(
    ch: AsyncClickHouse, site: str, timezone: str, first: dt.date, last: dt.date
) -> None:
    """Counts of the days `first`..`last`, then their markers (so that a query never sees a
    marker before its counts)."""
    ((version,),) = await ch.query("SELECT now64(3, 'UTC')")
    params = {"site": site, "tz": timezone, "first": first, "last": last, "version": version}
    await ch.command(
        f"INSERT INTO visitor_counts {COLUMNS} "
        "SELECT {site:String}, kind, 'day', date, key, value, n, {version:DateTime64(3, 'UTC')} "
        f"FROM ({_DAY_COUNTS})",
        params,
    )
    await ch.command(
        f"INSERT INTO visitor_counts {COLUMNS} "
        "SELECT {site:String}, 'closed', 'day', {first:Date} + number, '', '', 0, "
        "{version:DateTime64(3, 'UTC')} "
        "FROM numbers(dateDiff('day', {first:Date}, {last:Date}) + 1)",
        params,
    )


async def _close_month(ch: AsyncClickHouse, site: str, month: dt.date) -> None:
    """The month's sums of its closed days' counts (each at its latest version), then its
    marker."""
    ((version,),) = await ch.query("SELECT now64(3, 'UTC')")
    params = {"site": site, "month": month, "version": version}
    await ch.command(
        f"INSERT INTO visitor_counts {COLUMNS} "
        "SELECT {site:String}, kind, 'month', {month:Date}, key, value, sum(visitors), "
        "{version:DateTime64(3, 'UTC')} FROM visitor_counts "
        "WHERE site = {site:String} AND span = 'day' AND kind != 'closed' "
        "AND toStartOfMonth(date) = {month:Date} "
        "AND (date, version) GLOBAL IN (SELECT date, max(version) FROM visitor_counts "
        "    WHERE site = {site:String} AND kind = 'closed' AND span = 'day' "
        "    AND toStartOfMonth(date) = {month:Date} GROUP BY date) "
        "GROUP BY kind, key, value",
        params,
    )
    await ch.command(
        f"INSERT INTO visitor_counts {COLUMNS} "
        "SELECT {site:String}, 'closed', 'month', {month:Date}, '', '', 0, "
        "{version:DateTime64(3, 'UTC')}",
        params,
    )


def _months_ending(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first days of the months whose last day is in `first`..`last`."""
    months = []
    day = first
    while day <= last:
        next_month = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        if next_month - dt.timedelta(days=1) <= last:
            months.append(day.replace(day=1))
        day = next_month
    return months
