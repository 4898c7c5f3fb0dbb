"""The SQL of a site's queries: totals, time series and breakdowns, over its rollups.

`site_hourly` (UTC hours) holds a site's sums and each hour's visitors; `site_visitors`
its visitors and sums per site-local day (`site_daily`); `breakdown_stats` and
`visits` the rows its breakdowns read (under filters: `dashboard.sql.visits` and
`dashboard.sql.raw_events`; under one source or country, the paired counts).
"""

from __future__ import annotations

from dashboard.filters import Filter
from dashboard.properties import Property
from dashboard.sql import days, scope
from dashboard.sql.days import DAY_ROWS, Counts, Rollup
from dashboard.sql.shapes import ONE_GROUP, T0, T1, VISIT_DAY, bucket, date_bucket, grouped
from dashboard.stats_metrics import QUANTITIES, SITE_DAILY, SITE_HOURLY
from footfall import closed_counts, tables, visit_rows

_HOURS = f"hour >= {T0} AND hour < {T1}"
_DAYS = "date >= {d0:Date} AND date <= {d1:Date}"
_HOUR_DAY = "toDate(hour, {tz:String})"
PREVIOUS = "previous"
"""The group of the days before `{since}`, when a query reads a period and the one before."""

FIRST_DAYS = (
    f"SELECT (SELECT minOrNull(date) FROM {scope.rows(tables.SITE_VISITORS, DAY_ROWS)}), "
    f"(SELECT toDate(minOrNull(hour), {{tz:String}}) FROM {scope.rows(tables.SITE_HOURLY)})"
)
"""The site's first day in `site_visitors`, and in `site_hourly` (its first hour's)."""


def buckets(interval: str | None, *, since: bool = False) -> tuple[str, str]:
    """The groups of `site_hourly`'s hours and of a rollup's days: by `interval` (None:
    one total), or with `since`, `PREVIOUS` before `{since}` and '' from it."""
    if since:
        return before_since(_HOUR_DAY), before_since("date")
    if interval is None:
        return ONE_GROUP, ONE_GROUP
    return bucket("hour", interval), date_bucket("date", interval)


def before_since(date: str) -> str:
    """`PREVIOUS` for a site-local `date` before `{since}`, else ''."""
    return f"if({date} < {{since:Date}}, '{PREVIOUS}', '')"


def site_hourly(quantities: list[str], group: str) -> str:
    """Sums per `group` of `site_hourly`'s hours; visitors only by hour or within one day
    (an hour's are of one day)."""
    exprs = ", ".join(f"{QUANTITIES[q].of_day(SITE_HOURLY)} AS q_{q}" for q in quantities)
    return f"SELECT {group} AS g, {exprs} FROM {scope.rows(tables.SITE_HOURLY, _HOURS)} GROUP BY g"


def site_daily(quantities: list[str], group: str) -> str:
    """Sums per `group` of `site_visitors`' days in the period, visitors counted per day
    and summed (`site_daily`: a day's visitors are of that day alone)."""
    exprs = [(q, QUANTITIES[q].of_day(SITE_DAILY)) for q in quantities]
    return grouped(scope.rows(tables.SITE_VISITORS, DAY_ROWS, _DAYS), group, exprs, "date")


def visitors_by_hours(group: str) -> str:
    """Visitors per `group` from `site_hourly`'s hours, each day's merged, summed over days."""
    exprs = [("visitors", QUANTITIES["visitors"].daily[SITE_HOURLY])]
    return grouped(scope.rows(tables.SITE_HOURLY, _HOURS), group, exprs, _HOUR_DAY)


def visitor_days(group: str) -> tuple[Counts, Rollup]:
    """Visitors per `group` of days: closed days' counts, `site_visitors`' open days."""
    return Counts(closed_counts.SITE, group), Rollup(tables.SITE_VISITORS, group, DAY_ROWS)


_OPEN_VISITS = (
    "visit_start >= toDateTime({open_first:Date}, {tz:String}) "
    "AND visit_start < toDateTime({open_last:Date} + 1, {tz:String})"
)
EXIT_PAGE_DAYS = (
    Counts(closed_counts.EXIT_PAGE, "value"),
    Rollup(
        f"{tables.VISITS} FINAL",
        visit_rows.EXIT_PAGE,
        f"{_OPEN_VISITS} AND {visit_rows.VIEWED}",
        VISIT_DAY,
    ),
)
"""Visits by exit page: closed days' counts, `visits`' visits of open days (with a page view)."""


def paired_days(prop: Property, only: Filter, params: dict[str, object]) -> tuple[Counts, Rollup]:
    """Numbers per page, or per value of the visit property `prop`, among the visits that
    pass the filter `only` (one value of a property of `closed_counts.PAIRED`; its values
    added to `params`): closed days' paired counts; open days' events by the visit's value
    stamped on them (`days.paired`), or visits; those with no value only if `prop` labels
    them."""
    if prop.name == "event:page":
        return days.paired(only, params, closed_counts.PAGE, "path", "path != ''", "value != ''")
    kind = closed_counts.EXIT_PAGE if prop.name == "visit:exit_page" else prop.in_visits
    valued = prop.in_visits if prop.empty is None else None
    return _paired_visits(only, params, kind, ("value", prop.in_visits), valued)


def paired_site_days(
    only: Filter, params: dict[str, object], interval: str | None, *, since: bool = False
) -> tuple[Counts, Rollup]:
    """A site's numbers per bucket of days (as `buckets` groups them) among the visits that
    pass the filter `only` (see `paired_days`): closed days' paired counts, open days'
    visits."""
    _, closed = buckets(interval, since=since)
    if since:
        opened = before_since(VISIT_DAY)
    else:
        opened = ONE_GROUP if interval is None else date_bucket(VISIT_DAY, interval)
    return _paired_visits(only, params, closed_counts.SITE, (closed, opened))


def _paired_visits(
    only: Filter,
    params: dict[str, object],
    kind: str,
    groups: tuple[str, str],
    valued: str | None = None,
) -> tuple[Counts, Rollup]:
    """Closed days' counts of `kind` paired with the property of `only` (its values added
    to `params`), grouped by `groups[0]`; open days' visits that pass `only`, grouped by
    `groups[1]`; with `valued` (SQL over a visit), only those where it is not empty."""
    name = only.property.in_visits
    key = [only.condition("key", params)]
    rows = [_OPEN_VISITS, only.condition(name, params)]
    if valued is not None:
        key.append("value != ''")
        rows.append(f"{valued} != ''")
    counts = Counts(closed_counts.paired(kind, name), groups[0], " AND ".join(key))
    return counts, Rollup(f"{tables.VISITS} FINAL", groups[1], " AND ".join(rows), VISIT_DAY)


def property_days(prop: Property) -> tuple[Counts, Rollup]:
    """Numbers per value of `prop` (its `{property}`): closed days' counts, `breakdown_stats`'
    open days; those with no value only if it labels them."""
    assert prop.rollup is not None
    valued = "value != ''" if prop.empty is None else "1"
    where = f"{DAY_ROWS} AND property = {{property:String}} AND {valued}"
    return Counts(prop.rollup, "value", valued), Rollup(tables.BREAKDOWN_STATS, "value", where)
