"""Numbers over days: the counts of closed days and months, the rollups of open days.

A period's visitors are the sum of its days' visitors: ids are salted per
site-local day, so no visitor is on two days. The aggregator closes each day an
hour after it ends (aggregator/closing.py), and from then on every rollup's
numbers of that day (visitors, and the sums beside them) are in `closed_counts`.
A query splits its period (`split`): its closed whole runs of months, quarters, months
and weeks and its other closed days are read from the counts; the open days (today, mostly) from the
rollup's rows, merged one day at a time; `by_day` sums the two (its SQL: `dashboard.sql.days`).

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
from dashboard.sql.days import CLOSED_MARKERS, Counted, Counts, Rollup, counted_sql
from dashboard.sql.scope import SiteScope
from dashboard.stats_metrics import QUANTITIES
from footfall.closed_counts import CLOSED, MONTH_RUNS, Closed, closed_from, span_end
from footfall.connections import AsyncClickHouse

CLOSED_TTL = 30.0
_CLOSED: weakref.WeakKeyDictionary[AsyncClickHouse, dict[str, tuple[float, Closed]]] = (
    weakref.WeakKeyDictionary()
)


async def known(scope: SiteScope) -> Closed:
    """The site's closed days and months, as known at most `CLOSED_TTL` seconds ago."""
    now = time.monotonic()
    asked = _CLOSED.setdefault(scope.ch, {})
    asked_at, found = asked.get(scope.site, (-CLOSED_TTL, Closed()))
    if now - asked_at >= CLOSED_TTL:
        found = closed_from(await scope.query(CLOSED_MARKERS, {"closed": CLOSED}))
        asked[scope.site] = (now, found)
    return found


async def by_day(
    scope: SiteScope,
    period: DateRange,
    counted: list[Counted],
    params: dict[str, object],
    source: tuple[Counts, Rollup],
    *,
    interval: str | None = None,
    since: dt.date | None = None,
    titled: bool = False,
) -> list[tuple[str, list[str]]]:
    """Parts for `shapes.summed`: the `counted` quantities (and with `titled`, the title)
    over the `period`, from the counts of its closed days and the rollup's rows of the
    others (the `source`'s; see `dashboard.sql.days.counted_sql`), grouped by `interval`
    buckets (None: in all), or the days before `since` apart, or by what they group by
    within those."""
    parts = split(await known(scope), period, interval=interval, since=since)
    sqls = counted_sql(parts, counted, params, *source, titled=titled)
    columns = (["title"] if titled else []) + [c.quantity for c in counted]
    return [(sql, columns) for sql in sqls]


def counted(quantities: list[str], rollup: str) -> list[Counted]:
    """The quantities as closed days hold them (every one of `closed_counts.QUANTITIES`
    that the rollup answers), with their SQL over an open day's rows of the rollup."""
    return [Counted(q, QUANTITIES[q].of_day(rollup)) for q in quantities]


@dataclass(frozen=True)
class Split:
    """A period's days: the closed spans that fit it, as (span, first day), and the other
    closed days, read from their counts; the open days, read from the rollup; and every
    closed one with its latest closing known, as (span, date, version): its counts are
    the rows of that version (not those of a closing since, nor of one cut short)."""

    spans: list[tuple[str, dt.date]]
    days: list[dt.date]
    open: list[dt.date]
    versions: list[tuple[str, dt.date, dt.datetime]]


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
        return Split(
            before.spans + after.spans,
            before.days + after.days,
            before.open + after.open,
            before.versions + after.versions,
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
    versions = [(span, start, known.of(span)[start]) for span, start in counted]
    return Split(spans, days, open_days, versions)


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
