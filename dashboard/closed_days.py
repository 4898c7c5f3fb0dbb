"""Numbers over days: the counts of closed days and months, the rollups of open days.

A period's visitors are the sum of its days' visitors: ids are salted per
site-local day, so no visitor is on two days. The aggregator closes each day an
hour after it ends (aggregator/closing.py), and from then on every rollup's
numbers of that day (visitors, and the sums beside them) are in `closed_counts`.
A query splits its period (`split`): the closed whole months, the closed whole
weeks and the other closed days are read from the counts; the open days (today, mostly) from the
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
from dataclasses import dataclass, field

from dashboard.periods import DateRange
from footfall.closed_counts import Closed, closed
from footfall.connections import AsyncClickHouse

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
        found = await closed(ch, site)
        asked[site] = (now, found)
    return found


@dataclass(frozen=True)
class Split:
    """A period's days: the closed whole months, whole weeks and other closed days, read
    from their counts, the open days, read from the rollup; and of the closed ones, those
    closed more than once, with their latest closing known (span, date, version), and the
    latest version known (`as_of`: a closing since is not read)."""

    months: list[dt.date]
    days: list[dt.date]
    open: list[dt.date]
    reclosed: list[tuple[str, dt.date, dt.datetime]]
    as_of: dt.datetime | None = None
    weeks: list[dt.date] = field(default_factory=list)


def split(known: Closed, period: DateRange, *, by_day: bool = False) -> Split:
    """`by_day`: no week or month counts (a series by day needs each day's). A whole closed
    month is read from its counts, else a whole closed week that does not reach into one."""
    months, weeks, days, open_days = [], [], [], []
    day = period.first
    while day <= period.last:
        week_end = day + dt.timedelta(days=6)
        if not by_day and _whole_closed_month(day, period, known):
            months.append(day)
            day = _month_end(day) + dt.timedelta(days=1)
        elif (
            not by_day
            and day in known.weeks
            and week_end <= period.last
            and not _whole_closed_month(week_end.replace(day=1), period, known)
        ):
            weeks.append(day)
            day = week_end + dt.timedelta(days=1)
        else:
            (days if day in known.days else open_days).append(day)
            day += dt.timedelta(days=1)
    spans = [
        ("month", known.months, months),
        ("week", known.weeks, weeks),
        ("day", known.days, days),
    ]
    reclosed = [
        (span, start, versions[start])
        for span, versions, starts in spans
        for start in starts
        if (span, start) in known.reclosed
    ]
    as_of = max(
        (versions[start] for _, versions, starts in spans for start in starts), default=None
    )
    return Split(months, days, open_days, reclosed, as_of, weeks)


def _whole_closed_month(day: dt.date, period: DateRange, known: Closed) -> bool:
    """Whether `day` is the first of a month that is closed and whole in `period`."""
    return (
        day.day == 1
        and period.first <= day
        and _month_end(day) <= period.last
        and day in known.months
    )


def _month_end(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


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
    if parts.months or parts.weeks or parts.days:
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
            f"AND {_closed_spans(parts, params)} GROUP BY g"
        )
    if parts.open:
        params |= {"open_days": parts.open, "open_first": parts.open[0]}
        params["open_last"] = parts.open[-1]
        merged = [f"{c.of_day} AS q_{c.quantity}" for c in counted]
        if titled:
            merged += ["argMaxMerge(title) AS t_title", f"{rollup.day} AS t_day"]
        selected.append(
            f"SELECT {rollup.group} AS g, {', '.join(merged)} FROM {rollup.table} "
            f"WHERE site = {{site:String}} AND {rollup.where} "
            f"AND {rollup.day} IN {{open_days:Array(Date)}} GROUP BY g, {rollup.day}"
        )
    return selected


def _closed_spans(parts: Split, params: dict[str, object]) -> str:
    """The counts rows of the closed months and days of `parts`: by span and date, none of a
    closing after the latest known, and, for a day or month closed more than once, at its
    latest closing's version."""
    spans = []
    if parts.months:
        params["closed_months"] = parts.months
        spans.append("span = 'month' AND date IN {closed_months:Array(Date)}")
    if parts.weeks:
        params["closed_weeks"] = parts.weeks
        spans.append("span = 'week' AND date IN {closed_weeks:Array(Date)}")
    for n, (first, last) in enumerate(_runs(parts.days)):
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


def _runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as (first, last) runs of consecutive days."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if runs and runs[-1][1] + dt.timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
