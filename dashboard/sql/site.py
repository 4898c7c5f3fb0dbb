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
from dashboard.sql.days import DAY_ROWS, OPEN_VISITS, Counts, Rollup, visit_kind
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


EXIT_PAGE_DAYS = (
    Counts(closed_counts.EXIT_PAGE, "value"),
    Rollup(
        f"{tables.VISITS} FINAL",
        visit_rows.EXIT_PAGE,
        f"{OPEN_VISITS} AND {visit_rows.VIEWED}",
        VISIT_DAY,
    ),
)
"""Visits by exit page: closed days' counts, `visits`' visits of open days (with a page view)."""


def _page_events(on_page: str) -> str:
    """The events, each with its visit's page views, duration and exit page, if it is one of
    the visits of the open days' events that pass `on_page` (a filter on a page): those
    alone are read of `visits` (the open days of a period and the one before it may lie a
    year apart)."""
    viewed = scope.rows(tables.EVENTS, "date IN {open_days:Array(Date)}", on_page)
    started = scope.rows(
        f"{tables.VISITS} FINAL",
        OPEN_VISITS,
        f"(visitor_id, visit_start) IN (SELECT visitor_id, visit_start FROM {viewed})",
    )
    return (
        f"{tables.EVENTS} LEFT JOIN (SELECT visitor_id, visit_start, pageviews AS v_pageviews, "
        f"duration_ms AS v_duration_ms, {visit_rows.EXIT_PAGE} AS v_exit_page FROM {started}) "
        "AS v USING (visitor_id, visit_start)"
    )


def paired_days(prop: Property, only: Filter, params: dict[str, object]) -> tuple[Counts, Rollup]:
    """Numbers per page, or per value of the visit property `prop`, among the visits that
    pass the filter `only` (one value of a property of `closed_counts.CLICKED`; its values
    added to `params`): closed days' paired counts, the pages' by their `key` where
    `closed_counts.pages_keyed`, else by page; open days' events among those visits
    (`days.events_of`), or visits; those with no value only if `prop` labels them. Under
    a filter on a page, see `_on_page_days`."""
    if not only.property.is_visit:
        return _on_page_days(prop, only, params)
    if prop.name == "event:page" and not closed_counts.pages_keyed(visit_kind(only.property)):
        # Kept by page alone (`closed_counts.PAGE_KINDS`): the page is the `key`.
        kind = closed_counts.paired(only.property.in_visits, closed_counts.PAGE)
        counts = Counts(kind, "key", f"{only.condition('value', params)} AND key != ''")
        return counts, days.events_of(only, params, "path", "path != ''")
    if prop.name == "event:page":
        return days.paired(only, params, closed_counts.PAGE, "path", "path != ''", "value != ''")
    kind = visit_kind(prop)
    valued = prop.in_visits if prop.empty is None else None
    return _paired_visits(only, params, kind, ("value", prop.in_visits), valued)


def paired_site_days(
    only: Filter, params: dict[str, object], interval: str | None, *, since: bool = False
) -> tuple[Counts, Rollup]:
    """A site's numbers per bucket of days (as `buckets` groups them) among the visits that
    pass the filter `only` (see `paired_days`): closed days' paired counts, open days'
    visits; under a filter on a page, its counts and its events (`ONE_PAGE`)."""
    _, closed = buckets(interval, since=since)
    if not only.property.is_visit:
        # The events' `date` is their site-local day, as the counts' is.
        return _on_page(only, params, (closed, closed))
    if since:
        opened = before_since(VISIT_DAY)
    else:
        opened = ONE_GROUP if interval is None else date_bucket(VISIT_DAY, interval)
    return _paired_visits(only, params, closed_counts.SITE, (closed, opened))


def _on_page_days(prop: Property, only: Filter, params: dict[str, object]) -> tuple[Counts, Rollup]:
    """Numbers by page, or per value of the visit property `prop` (of `closed_counts.PAIRED`
    or `BY_PAGE`, or the exit page), of the events on the page the filter `only` keeps
    (its value added to `params`): closed days' counts by page (the page's own,
    `ONE_PAGE`; of `prop`'s values, `value`), or the pages' paired counts by their page
    (`value`, the property's value the `key`); open days' events on the page, by their
    path or the visit's value stamped on them (its exit page, from its row); those with
    no value only if `prop` labels them."""
    if prop.name == "event:page":
        return _on_page(only, params, ("key", "path"))
    if prop.name == "visit:exit_page":
        kind = closed_counts.paired(closed_counts.EXIT_PAGE, closed_counts.PAGE)
        counts = Counts(kind, "value", f"{only.condition('key', params)} AND value != ''")
        on_page = only.condition(only.property.column, params)
        return counts, Rollup(
            _page_events(on_page), "v_exit_page", f"{on_page} AND v_exit_page != ''"
        )
    name, stamped = prop.in_visits, prop.stamped
    assert stamped is not None, prop.name
    if name in closed_counts.PAIRED:
        kind, page, value = closed_counts.paired(closed_counts.PAGE, name), "value", "key"
    else:
        kind, page, value = closed_counts.paired(name, closed_counts.PAGE), "key", "value"
    key = [only.condition(page, params)]
    rows = [only.condition(only.property.column, params)]
    if prop.empty is None:
        key.append(f"{value} != ''")
        rows.append(f"{stamped} != ''")
    counts = Counts(kind, value, " AND ".join(key))
    return counts, Rollup(tables.EVENTS, stamped, " AND ".join(rows), title=days.EVENTS_TITLE)


def _on_page(
    only: Filter, params: dict[str, object], groups: tuple[str, str]
) -> tuple[Counts, Rollup]:
    """Closed days' site counts by the page the filter `only` keeps (its value added to
    `params`), grouped by `groups[0]`; open days' events on it, each with its visit's
    row, grouped by `groups[1]`."""
    kind = closed_counts.paired(closed_counts.SITE, closed_counts.PAGE)
    counts = Counts(kind, groups[0], only.condition("key", params))
    on_page = only.condition(only.property.column, params)
    return counts, Rollup(_page_events(on_page), groups[1], on_page)


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
    key = [only.condition("key", params)]
    rows = [OPEN_VISITS, only.condition(only.property.in_visits, params)]
    if valued is not None:
        key.append("value != ''")
        rows.append(f"{valued} != ''")
    paired = closed_counts.paired(kind, visit_kind(only.property))
    counts = Counts(paired, groups[0], " AND ".join(key))
    return counts, Rollup(f"{tables.VISITS} FINAL", groups[1], " AND ".join(rows), VISIT_DAY)


def property_days(prop: Property) -> tuple[Counts, Rollup]:
    """Numbers per value of `prop` (its `{property}`): closed days' counts, `breakdown_stats`'
    open days; those with no value only if it labels them."""
    assert prop.rollup is not None
    valued = "value != ''" if prop.empty is None else "1"
    where = f"{DAY_ROWS} AND property = {{property:String}} AND {valued}"
    return Counts(prop.rollup, "value", valued), Rollup(tables.BREAKDOWN_STATS, "value", where)
