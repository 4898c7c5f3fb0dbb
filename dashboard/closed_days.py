"""Numbers over days: the counts of closed days and months, the rollups of open days.

A period's visitors are the sum of its days' visitors: ids are salted per
site-local day, so no visitor is on two days. The aggregator closes each day an
hour after it ends (aggregator/closing.py), and from then on every rollup's
numbers of that day (visitors, and the sums beside them) are in `closed_counts`.
A query splits its period (`split`): its closed whole runs of months, quarters, months
and weeks and its other closed days are read from the counts; the open days (today, mostly) from the
rollup's rows, merged one day at a time; `counted_sql` sums the two.

Which days are closed, and by which closing, is asked once per `CLOSED_TTL`
seconds per site and database connection. An answer that old misses days closed
since, which are then read from their rollup rows (as exact, a little slower),
and a day closed again since (late events: an import) is read from its previous
closing's counts, which stay, until the answer is renewed.
"""

from __future__ import annotations

import datetime as dt
import time
import weakref
from dataclasses import dataclass

from dashboard.periods import DateRange
from footfall.closed_counts import CLOSED, MONTH_RUNS, SPANS, Closed, closed_from, span_end
from footfall.connections import AsyncClickHouse

CLOSED_MARKERS = (
    "SELECT span, date, max(version), count() FROM closed_counts "
    "WHERE site = {site:String} AND kind = {closed:String} GROUP BY span, date"
)
"""A site's closing markers (`footfall.closed_counts.closed_from` reads them)."""

CLOSED_TTL = 30.0
_CLOSED: weakref.WeakKeyDictionary[AsyncClickHouse, dict[str, tuple[float, Closed]]] = (
    weakref.WeakKeyDictionary()
)


async def known(ch: AsyncClickHouse, site: str) -> Closed:
    """The site's closed days and months, as known at most `CLOSED_TTL` seconds ago."""
    now = time.monotonic()
    asked = _CLOSED.setdefault(ch, {})
    asked_at, found = asked.get(site, (-CLOSED_TTL, Closed()))
    if now - asked_at >= CLOSED_TTL:
        found = closed_from(await ch.query(CLOSED_MARKERS, {"site": site, "closed": CLOSED}))
        asked[site] = (now, found)
    return found


@dataclass(frozen=True)
class Split:
    """A period's days: the closed spans that fit it, as (span, first day), and the other
    closed days, read from their counts; the open days, read from the rollup; of the
    closed ones, those closed more than once, with their latest closing known (span,
    date, version); and the latest version known (`as_of`: a closing since is not read)."""

    spans: list[tuple[str, dt.date]]
    days: list[dt.date]
    open: list[dt.date]
    reclosed: list[tuple[str, dt.date, dt.datetime]]
    as_of: dt.datetime | None = None


def split(
    known: Closed,
    period: DateRange,
    *,
    interval: str | None = None,
    since: dt.date | None = None,
) -> Split:
    """The longest closed spans first: a whole closed run of months (11, else 5), else
    quarter, else month, else a whole closed week that does not reach into a whole
    closed month, else days. A span never straddles two buckets of `interval`: by
    "date", days only; by "month", no runs or quarters, and weeks within one month. Nor
    does one straddle `since`: the days before it and the others are split apart."""
    if since is not None and period.first < since <= period.last:
        before = split(known, period.until(since - dt.timedelta(days=1)), interval=interval)
        after = split(known, DateRange(since, period.last, period.timezone), interval=interval)
        versions = [v for v in (before.as_of, after.as_of) if v is not None]
        return Split(
            before.spans + after.spans,
            before.days + after.days,
            before.open + after.open,
            before.reclosed + after.reclosed,
            max(versions, default=None),
        )
    spans, days, open_days = [], [], []
    day = period.first
    while day <= period.last:
        span = None if interval == "date" else _longest(day, period, known, interval)
        if span is not None:
            spans.append((span, day))
            day = span_end(span, day) + dt.timedelta(days=1)
            continue
        (days if day in known.days else open_days).append(day)
        day += dt.timedelta(days=1)
    counted = [*spans, *(("day", d) for d in days)]
    versions = {(span, start): known.of(span)[start] for span, start in counted}
    reclosed = [
        (span, start, versions[span, start])
        for span, start in counted
        if (span, start) in known.reclosed
    ]
    return Split(spans, days, open_days, reclosed, max(versions.values(), default=None))


def _longest(day: dt.date, period: DateRange, known: Closed, interval: str | None) -> str | None:
    """The longest closed span that starts on `day` and fits in `period` (and, by month,
    in one month)."""
    for span in ("month",) if interval == "month" else (*MONTH_RUNS, "quarter", "month"):
        if _whole_closed(span, day, period, known):
            return span
    week_end = span_end("week", day)
    crosses = week_end.month != day.month
    if crosses and (
        interval == "month" or _whole_closed("month", week_end.replace(day=1), period, known)
    ):
        return None
    return "week" if _whole_closed("week", day, period, known) else None


def _whole_closed(span: str, start: dt.date, period: DateRange, known: Closed) -> bool:
    """Whether a closed `span` starts on `start` and lies in `period`."""
    return (
        period.first <= start and span_end(span, start) <= period.last and start in known.of(span)
    )


@dataclass(frozen=True)
class Counted:
    """One quantity summed over days: the column of its counts is named after it, `of_day`
    is its SQL over one day's rows of the rollup (`uniqMerge(visitors)`, `sum(pageviews)`)."""

    quantity: str
    of_day: str


@dataclass(frozen=True)
class Counts:
    """The closed days' rows a query reads: `closed_counts` rows of `kind` that pass
    `where` (beyond site, kind and days), grouped by the SQL `group`."""

    kind: str
    group: str
    where: str = "1"


@dataclass(frozen=True)
class Rollup:
    """The open days' rows a query reads: rows of `table` that pass `where` (beyond site
    and their day, the SQL `day`), grouped by the SQL `group`. `where` may bound the rows
    by `{open_first:Date}` and `{open_last:Date}`, the first and last open days."""

    table: str
    group: str
    where: str
    day: str = "date"


def counted_sql(
    parts: Split,
    counted: list[Counted],
    params: dict[str, object],
    counts: Counts,
    rollup: Rollup,
    *,
    titled: bool = False,
) -> list[str]:
    """Queries `SELECT g, q_<quantity>...` whose rows, summed per g, are the quantities
    over the days of `parts`; with `titled`, also `t_title`, a title, and `t_day`, its
    day (the latest is the one)."""
    selected = []
    if parts.spans or parts.days:
        params["kind"] = counts.kind
        sums = [f"sum({c.quantity}) AS q_{c.quantity}" for c in counted]
        if titled:
            sums += [
                "argMaxIf(title, date, title != '') AS t_title",
                "maxIf(date, title != '') AS t_day",
            ]
        selected.append(
            f"SELECT {counts.group} AS g, {', '.join(sums)} FROM closed_counts "
            f"WHERE site = {{site:String}} AND kind = {{kind:String}} AND {counts.where} "
            f"AND {closed_where(parts, params)} GROUP BY g"
        )
    if parts.open:
        selected.append(open_sql(parts, counted, params, rollup, titled=titled))
    return selected


def open_sql(
    parts: Split,
    counted: list[Counted],
    params: dict[str, object],
    rollup: Rollup,
    *,
    titled: bool = False,
) -> str:
    """`counted_sql`'s query of the open days of `parts` (there must be some)."""
    params |= {"open_days": parts.open, "open_first": parts.open[0]}
    params["open_last"] = parts.open[-1]
    merged = [f"{c.of_day} AS q_{c.quantity}" for c in counted]
    if titled:
        merged += ["argMaxMerge(title) AS t_title", f"{rollup.day} AS t_day"]
    return (
        f"SELECT {rollup.group} AS g, {', '.join(merged)} FROM {rollup.table} "
        f"WHERE site = {{site:String}} AND {rollup.where} "
        f"AND {rollup.day} IN {{open_days:Array(Date)}} GROUP BY g, {rollup.day}"
    )


def closed_where(parts: Split, params: dict[str, object]) -> str:
    """The counts rows of the closed spans and days of `parts`: by span and date, none of a
    closing after the latest known, and, for a day or span closed more than once, at its
    latest closing's version."""
    spans = []
    for n, span in enumerate(SPANS[1:]):
        starts = [start for kind, start in parts.spans if kind == span]
        if starts:
            params[f"closed_spans{n}"] = starts
            spans.append(f"span = '{span}' AND date IN {{closed_spans{n}:Array(Date)}}")
    for n, (first, last) in enumerate(_stretches(parts.days)):
        params |= {f"closed_first{n}": first, f"closed_last{n}": last}
        days = f"date BETWEEN {{closed_first{n}:Date}} AND {{closed_last{n}:Date}}"
        spans.append(f"span = 'day' AND {days}")
    params["as_of"] = parts.as_of
    where = f"(({') OR ('.join(spans)})) AND version <= {{as_of:DateTime64(3, 'UTC')}}"
    if parts.reclosed:
        params["reclosed"] = [(span, date) for span, date, _ in parts.reclosed]
        params["latest"] = parts.reclosed
        where += (
            " AND ((span, date) NOT IN {reclosed:Array(Tuple(String, Date))} "
            "OR (span, date, version) IN {latest:Array(Tuple(String, Date, DateTime64(3, 'UTC')))})"
        )
    return where


def _stretches(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as (first, last) stretches of consecutive days."""
    stretches: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if stretches and stretches[-1][1] + dt.timedelta(days=1) == day:
            stretches[-1] = (stretches[-1][0], day)
        else:
            stretches.append((day, day))
    return stretches
