"""Visitors over days: the counts of closed days and months, the states of open days.

A period's visitors are the sum of its days' visitors: ids are salted per
site-local day, so no visitor is on two days. The aggregator closes each day an
hour after it ends (aggregator/closing.py), and from then on every rollup's
visitors of that day are numbers in `visitor_counts`. A query splits its period
(`split`): the closed whole months and the other closed days are read from the
counts (at the version of the last closing known); the open days (today, mostly)
from the rollup's states, merged one day at a time; `visitors_sql` sums the two.

Which days are closed, and by which closing, is asked once per `CLOSED_TTL`
seconds per site and database connection. An answer that old misses days closed
since, which are then read from their states (as exact, a little slower), and a
day closed again since (late events: an import) is read from its previous
closing's counts, which stay, until the answer is renewed.
"""

from __future__ import annotations

import datetime as dt
import time
import weakref
from dataclasses import dataclass

from dashboard.periods import DateRange
from footfall.connections import AsyncClickHouse
from footfall.visitor_counts import Closed, closed

CLOSED_TTL = 30.0
_CLOSED: weakref.WeakKeyDictionary[AsyncClickHouse, dict[str, tuple[float, Closed]]] = (
    weakref.WeakKeyDictionary()
)


async def closed_days(ch: AsyncClickHouse, site: str) -> Closed:
    """The site's closed days and months, as known at most `CLOSED_TTL` seconds ago."""
    now = time.monotonic()
    asked = _CLOSED.setdefault(ch, {})
    asked_at, known = asked.get(site, (-CLOSED_TTL, Closed()))
    if now - asked_at >= CLOSED_TTL:
        known = await closed(ch, site)
        asked[site] = (now, known)
    return known


@dataclass(frozen=True)
class Split:
    """A period's days: (span, date, version) of the closed whole months and other closed
    days, read from their counts, and the open days, read from states."""

    counted: list[tuple[str, dt.date, dt.datetime]]
    open: list[dt.date]


def split(known: Closed, period: DateRange, *, by_day: bool = False) -> Split:
    """`by_day`: no month counts (a series by day needs each day's)."""
    counted, open_days = [], []
    day = period.first
    while day <= period.last:
        month = day.replace(day=1)
        month_end = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        whole = day == month and month_end <= period.last
        if whole and not by_day and month in known.months:
            counted.append(("month", month, known.months[month]))
            day = month_end + dt.timedelta(days=1)
            continue
        if day in known.days:
            counted.append(("day", day, known.days[day]))
        else:
            open_days.append(day)
        day += dt.timedelta(days=1)
    return Split(counted, open_days)


@dataclass(frozen=True)
class Counted:
    """One quantity summed over days: `kind` of its counts, `of_day` its SQL over a day's
    rows of the rollup (`uniqMerge(visitors)`)."""

    quantity: str
    kind: str
    of_day: str


def visitors_sql(
    parts: Split,
    counted: list[Counted],
    params: dict[str, object],
    *,
    counts: tuple[str, str],
    states: tuple[str, str, str, str],
) -> list[str]:
    """Queries `SELECT g, q_<quantity>...` whose rows, summed per g, are the quantities
    over the days of `parts`.

    `counts` is (g over `visitor_counts` rows, a condition on them beyond site and
    kind), `states` (the rollup table, g over its rows, a condition on them beyond site,
    their day). The condition may bound the rows by `{open_first:Date}` and
    `{open_last:Date}`, the first and last open days.
    """
    selected = []
    if parts.counted:
        params["closed"] = parts.counted
        kinds = ", ".join(f"'{c.kind}'" for c in counted)
        sums = ", ".join(f"sumIf(visitors, kind = '{c.kind}') AS q_{c.quantity}" for c in counted)
        group, where = counts
        selected.append(
            f"SELECT {group} AS g, {sums} FROM visitor_counts "
            f"WHERE site = {{site:String}} AND kind IN ({kinds}) AND {where} AND "
            "(span, date, version) IN {closed:Array(Tuple(String, Date, DateTime64(3, 'UTC')))} "
            "GROUP BY g"
        )
    if parts.open:
        params |= {"open_days": parts.open, "open_first": parts.open[0]}
        params["open_last"] = parts.open[-1]
        table, group, where, day = states
        merged = ", ".join(f"{c.of_day} AS q_{c.quantity}" for c in counted)
        selected.append(
            f"SELECT {group} AS g, {merged} FROM {table} WHERE site = {{site:String}} AND {where} "
            f"AND {day} IN {{open_days:Array(Date)}} GROUP BY g, {day}"
        )
    return selected
