"""Closing days: a site's numbers of past days stored as counts (`closed_counts`).

A site's visitor ids are salted per site-local day, so no id is seen on two days
and a period's visitors are the sum of its days'. While a day is open its
visitors are `uniq` states in the rollups, decoded hash by hash at every query,
and its sums lie in rollup rows ordered for writing, not for every read; once it
is over they no longer change, so the aggregator closes it:

* a day is closed an hour after it ends in the site's timezone (`CLOSE_GRACE_MS`):
  events are stamped when received and ids change at midnight, so only an
  aggregator that fell behind, and imports, add to a day after that;
* `close_due` closes the spans a closing cut short left unclosed, then a site's days
  after its last closed one, oldest first, at
  most `DAYS_PER_STEP` of them a call, fewer where they hold more than
  `PAGEVIEWS_PER_STEP` page views (one at least): the INSERTs of every rollup's counts of
  those days (`sql.CLOSE_DAYS`) and one of each day's top articles
  (`closed_counts.TOP_ARTICLES`), then one of their markers; when it closes the last
  day of a week (Monday to Sunday), a month or a quarter, its sums (a statement per
  piece of its kinds and keys, `SPAN_PIECE_ROWS`), top articles and marker follow, so
  that a long period reads a few spans' rows instead of every day's;
* `close_runs` closes the runs of months (`closed_counts.MONTH_RUNS`: the whole
  months of a 6mo or 12mo period) once all their months are closed, from the months'
  sums, the latest first, at most `RUNS_PER_STEP` of them a call;
* `close_again` closes anew the closed days (and their spans and runs) that late events were
  added to: the aggregator notes those days in Redis before it acknowledges their
  batch, and closes them again in its next round, once for many batches.

The aggregator closes `in_background` (`footfall.connections`): under `footfall serve`,
where chdb runs one statement at a time, the dashboard's queries go before the closing's
next statement and wait for one at most.

Every closing has a version, read from ClickHouse's clock before its states are
read: a later closing reads a later snapshot and has the higher version, so the
rows at a marker's latest version are the day's whole counts. Queries read those alone
(see `Closed`) and merge states for the other days: a closing cut short (ClickHouse gone
between its statements) leaves rows of a version that no marker names.

Events added to a day while it is closed for the first time are noted too, and the
day stays noted until it is closed, then is closed again: no closing misses them.
Until the next round (`CLOSE_EVERY` seconds), a closed day's counts may miss the
late events of the last batches.
"""

from __future__ import annotations

import datetime as dt

from aggregator import sql
from footfall import closed_counts
from footfall.closed_counts import (
    Closed,
    add_months,
    closed_from,
    span_end,
    span_start,
    starts_containing,
)
from footfall.connections import AsyncClickHouse

CLOSE_GRACE_MS = 3_600_000
DAYS_PER_STEP = 7
"""A week of a site's days per call, between two batches: after an upgrade, a year of
bench/dashboard.py's data (10 million page views) closes in 52 calls, 1,350 s in all
(with migration 0026's kinds)."""
PAGEVIEWS_PER_STEP = 500_000
"""Most page views of a call's days, but one day's whatever it holds: the memory of a
closing's statements grows with its days' pages, visits and articles, and was measured
(under chdb's 1.5 GiB) on the 10 M bench's weeks, at most ~360 k page views each; a site
of 100 M a year has as many in a day."""
SPAN_PIECE_ROWS = 2_000_000
"""About how many rows of its days (or months) one statement of a span's sums reads, a
key's at least: under `footfall serve` each statement holds chdb's one thread, so the
dashboard's queries wait for it. A month of the 10 M bench's days is 21 M rows of 185
kinds (0.8 M at most): 38 s in one statement, 25 s in 13 pieces of 3 s at most (both
with other work on the machine). A kind bigger than that is cut by its keys: its run of
11 months (2.9 M rows), 2.2 s in one statement, 2.4 s in 4 pieces of 0.7 s at most (cut by
a hash of the key instead, each piece reads the whole kind: 4.2 s)."""
AFTER_EVERY_KIND = "\uffff"
"""A string after every kind's name (they are ASCII): where the last piece of kinds ends."""
RUNS_PER_STEP = 2
"""Runs of months per call: a month's two, or, after an upgrade, a year's in a few rounds."""

_KINDS = {
    "site_kind": closed_counts.SITE,
    "article": closed_counts.ARTICLE,
    "articles": closed_counts.ARTICLES,
    "top_articles": closed_counts.TOP_ARTICLES,
    "article_source": closed_counts.ARTICLE_SOURCE,
    "exit_page": closed_counts.EXIT_PAGE,
    "closed": closed_counts.CLOSED,
}


def last_due(today_an_hour_ago: dt.date) -> dt.date:
    """The last day due to be closed, given the site's date an hour (`CLOSE_GRACE_MS`) ago."""
    return today_an_hour_ago - dt.timedelta(days=1)


async def close_due(ch: AsyncClickHouse, site: str, timezone: str, last: dt.date) -> list[dt.date]:
    """Close the site's days after its last closed one up to `last` (at most
    `DAYS_PER_STEP` of them), after the spans a closing cut short left unclosed; returns
    the days closed."""
    now = await closed(ch, site)
    for span, start in _spans_missing(now):
        await _close_span(ch, site, span, start)
    if now.through is not None:
        first = now.through + dt.timedelta(days=1)
    else:
        ((first,),) = await ch.query(sql.FIRST_DAY, {"site": site})
        if first is None:
            return []
    last = min(last, first + dt.timedelta(days=DAYS_PER_STEP - 1))
    if first > last:
        return []
    last = await _step_end(ch, site, first, last)
    await _close(ch, site, timezone, first, last)
    for span, start in _spans_ending(first, last):
        await _close_span(ch, site, span, start)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


async def _step_end(ch: AsyncClickHouse, site: str, first: dt.date, last: dt.date) -> dt.date:
    """The last of the days `first`..`last` that one call closes: those whose page views
    add up to `PAGEVIEWS_PER_STEP` at most, `first` at least."""
    days = await ch.query(sql.DAY_PAGEVIEWS, {"site": site, "first": first, "last": last})
    step = 0
    for day, pageviews in days:
        step += pageviews
        if step > PAGEVIEWS_PER_STEP and day > first:
            return day - dt.timedelta(days=1)
    return last


async def close_again(
    ch: AsyncClickHouse, site: str, timezone: str, days: set[dt.date]
) -> set[dt.date]:
    """After late events were added to `days`: close anew those of them at or before the
    last closed day, and the closed weeks, months, quarters and runs of months they are
    in; returns those days (the others will be closed in their turn, with the late
    events)."""
    now = await closed(ch, site)
    if now.through is None or not days:
        return set()
    late = sorted(day for day in days if day <= now.through)
    for day in late:
        await _close(ch, site, timezone, day, day)
    # A calendar span sums its days, so they go in any order; a run sums its months, after them.
    for span in closed_counts.SPANS[1:]:
        for start in sorted({start for day in late for start in starts_containing(span, day)}):
            if start in now.of(span):
                await _close_span(ch, site, span, start)
    return set(late)


async def close_runs(ch: AsyncClickHouse, site: str) -> list[tuple[str, dt.date]]:
    """Close the runs of months not closed yet whose months are all closed, those ending
    the latest first, at most `RUNS_PER_STEP`; returns them as (span, first day)."""
    now = await closed(ch, site)
    due = [
        (span, start)
        for last in sorted(now.months, reverse=True)
        for span, months in closed_counts.MONTH_RUNS.items()
        if (start := add_months(last, 1 - months)) not in now.of(span)
        and all(add_months(start, n) in now.months for n in range(months))
    ]
    for span, start in due[:RUNS_PER_STEP]:
        await _close_span(ch, site, span, start)
    return due[:RUNS_PER_STEP]


async def _close(
    ch: AsyncClickHouse, site: str, timezone: str, first: dt.date, last: dt.date
) -> None:
    """Counts of the days `first`..`last` and their top articles, then their markers (so
    that a query never sees a marker before its counts)."""
    ((version,),) = await ch.query(sql.CLOSING_VERSION)
    params = _KINDS | {
        "site": site, "tz": timezone, "first": first, "last": last, "version": version,
    }  # fmt: skip
    for statement in sql.CLOSE_DAYS:
        await ch.command(statement, params)
    await _top_articles(ch, site, "day", first, last, version)
    await ch.command(sql.MARK_DAYS_CLOSED, params)


async def _close_span(ch: AsyncClickHouse, site: str, span: str, start: dt.date) -> None:
    """A week's, month's or quarter's sums of its closed days' counts, or a run's of its
    months' (each at its latest version, its title the last one), and its top articles,
    then its marker."""
    ((version,),) = await ch.query(sql.CLOSING_VERSION)
    first, last = start, span_end(span, start)
    months = closed_counts.MONTH_RUNS.get(span)
    params = _KINDS | {
        "site": site, "span": span, "start": start, "first": first, "last": last,
        "version": version, "parts": "month" if months else "day",
    }  # fmt: skip
    parts = months or (last - first).days + 1
    last_part = await ch.query(sql.KINDS_OF_PART, params)
    big = [kind for kind, rows in last_part if rows * parts > SPAN_PIECE_ROWS]
    keys = await ch.query(sql.KEYS_OF_PART, params | {"kinds": big}) if big else []
    for after, before in _pieces(last_part, keys, parts):
        await ch.command(
            sql.CLOSE_SPAN,
            params | {"after": after[0], "after_key": after[1],
                      "before": before[0], "before_key": before[1]},
        )  # fmt: skip
    await _top_articles(ch, site, span, start, start, version)
    await ch.command(sql.MARK_SPAN_CLOSED, params)


Bound = tuple[str, str]
"""Where a piece of a span's sums starts or ends: a kind, and a key of it ('' for its first)."""


def _pieces(
    last_part: list[tuple[str, int]], keys: list[tuple[str, str, int]], parts: int
) -> list[tuple[Bound, Bound]]:
    """Ranges of (kind, key) (first included, last excluded) that cover every kind and key,
    each of about `SPAN_PIECE_ROWS` rows of a span of `parts` parts like its last one with
    visitors, or of one key. `last_part` holds its rows per kind, by kind; `keys`, per kind
    and key, by kind and key, those of the kinds too big for one piece. A kind or key that
    part lacks falls in a range all the same."""
    keys_of: dict[str, list[tuple[str, int]]] = {}
    for kind, key, rows in keys:
        keys_of.setdefault(kind, []).append((key, rows))
    starts: list[Bound] = [("", "")]
    rows = 0
    for kind, kind_rows in last_part:
        for key, count in keys_of.get(kind, [("", kind_rows)]):
            if rows and rows + count * parts > SPAN_PIECE_ROWS:
                starts.append((kind, key))
                rows = 0
            rows += count * parts
    return list(zip(starts, [*starts[1:], (AFTER_EVERY_KIND, "")], strict=True))


async def _top_articles(
    ch: AsyncClickHouse,
    site: str,
    span: str,
    first: dt.date,
    last: dt.date,
    version: dt.datetime,
) -> None:
    """The top articles of the `span`s starting `first`..`last`, from their counts at
    `version` (written just before)."""
    params = _KINDS | {
        "site": site, "span": span, "first": first, "last": last, "version": version,
        "top": closed_counts.TOP,
    }  # fmt: skip
    await ch.command(sql.LIST_TOP_ARTICLES, params)


def _spans_ending(first: dt.date, last: dt.date) -> list[tuple[str, dt.date]]:
    """(span, first day) of the weeks, months and quarters whose last day is in
    `first`..`last`."""
    ending = []
    for n in range((last - first).days + 1):
        day = first + dt.timedelta(days=n)
        for span in closed_counts.CALENDAR_SPANS:
            start = span_start(span, day)
            if span_end(span, start) == day:
                ending.append((span, start))
    return ending


def _spans_missing(now: Closed) -> list[tuple[str, dt.date]]:
    """(span, first day) of the weeks, months and quarters whose days are closed (from the
    site's first closed day on) but which are not: a closing cut short after its days'
    markers leaves them so, and no later call would end them (queries would read their
    days: right, but slower, and the runs of months wait for every month)."""
    if now.through is None:
        return []
    first = min(now.days)
    return [
        (span, start)
        for span, start in _spans_ending(first, now.through)
        if start not in now.of(span)
        and all(
            day in now.days
            for n in range((span_end(span, start) - start).days + 1)
            if (day := start + dt.timedelta(days=n)) >= first
        )
    ]


async def closed(ch: AsyncClickHouse, site: str) -> Closed:
    """What of `site` is closed, by the markers each closing writes."""
    rows = await ch.query(sql.CLOSED_MARKERS, {"site": site, "closed": closed_counts.CLOSED})
    return closed_from(rows)
