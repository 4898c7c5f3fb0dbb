"""A site's queries: its totals (with the previous period's), time series and breakdowns."""

from __future__ import annotations

import dataclasses
import datetime as dt

from dashboard import closed_days
from dashboard.periods import DateRange
from dashboard.properties import Property
from dashboard.queries import plan
from dashboard.queries.numbers import Numbers, rows_of
from dashboard.queries.selection import Selection
from dashboard.sql import raw_events, visits
from dashboard.sql import site as site_sql
from dashboard.sql.scope import SiteScope
from dashboard.sql.shapes import ONE_GROUP, VISIT_DAY, bucket, by_quantity, paged, summed
from dashboard.stats_metrics import (
    ONE_PAGE,
    PAIRED,
    PAIRED_VISITS,
    SITE_DAILY,
    SITE_HOURLY,
    VISIT_EXITS,
    VISITS,
)
from footfall import tables
from footfall.connections import AsyncClickHouse


async def aggregate(
    ch: AsyncClickHouse, sel: Selection, quantities: list[str], *, raw: bool = False
) -> Numbers:
    """The quantities over the whole selection."""
    scope = SiteScope(ch, sel.site)
    source = plan.for_site(sel, quantities, raw=raw)
    if source == SITE_HOURLY:
        sql, params = await _site_rollups(scope, sel, quantities, None)
    elif source == SITE_DAILY:
        sql, params = _site_days(sel, quantities, None)
    elif source == VISITS:
        sql, params = _visits(sel, quantities, ONE_GROUP)
    elif source in (PAIRED_VISITS, ONE_PAGE):
        sql, params = await _paired_site(scope, sel, quantities, None, source)
    else:
        sql, params = _raw(sel, quantities, raw_events.Group(), raw=raw)
    rows = await rows_of(scope, sql, params, quantities)
    return rows[0][1] if rows else dict.fromkeys(quantities, 0.0)


async def aggregate_compared(
    ch: AsyncClickHouse,
    sel: Selection,
    previous: DateRange,
    quantities: list[str],
    *,
    raw: bool = False,
) -> tuple[Numbers, Numbers]:
    """The quantities over the whole selection, and over `previous`, the days just before
    it: from the rollups (or `visits`) in one query over both; from raw events, one each."""
    both = dataclasses.replace(sel, range=previous.until(sel.range.last))
    source = plan.for_site(both, quantities, raw=raw)
    if source == plan.RAW:
        now = await aggregate(ch, sel, quantities, raw=raw)
        earlier = dataclasses.replace(sel, range=previous)
        return now, await aggregate(ch, earlier, quantities, raw=raw)
    scope = SiteScope(ch, sel.site)
    if source == SITE_HOURLY:
        sql, params = await _site_rollups(scope, both, quantities, None, since=sel.range.first)
    elif source == VISITS:
        sql, params = _visits(both, quantities, site_sql.before_since(VISIT_DAY))
        params["since"] = sel.range.first
    elif source in (PAIRED_VISITS, ONE_PAGE):
        sql, params = await _paired_site(
            scope, both, quantities, None, source, since=sel.range.first
        )
    else:
        sql, params = _site_days(both, quantities, None, since=sel.range.first)
    rows = dict(await rows_of(scope, sql, params, quantities))
    empty = dict.fromkeys(quantities, 0.0)
    return rows.get("", empty), rows.get(site_sql.PREVIOUS, empty)


async def timeseries(
    ch: AsyncClickHouse, sel: Selection, quantities: list[str], interval: str, *, raw: bool = False
) -> dict[str, Numbers]:
    """The quantities per time bucket ("2023-11-15", "2023-11-15 13:00:00", "2023-11-01")."""
    scope = SiteScope(ch, sel.site)
    source = plan.for_site(sel, quantities, interval=interval, raw=raw)
    if source == SITE_HOURLY:
        sql, params = await _site_rollups(scope, sel, quantities, interval)
    elif source == SITE_DAILY:
        sql, params = _site_days(sel, quantities, interval)
    elif source == VISITS:
        sql, params = _visits(sel, quantities, bucket("visit_start", interval))
    elif source in (PAIRED_VISITS, ONE_PAGE):
        sql, params = await _paired_site(scope, sel, quantities, interval, source)
    else:
        group = raw_events.Group(bucket("ts", interval), bucket("visit_start", interval))
        sql, params = _raw(sel, quantities, group, raw=raw)
    return dict(await rows_of(scope, sql, params, quantities))


async def breakdown(
    ch: AsyncClickHouse,
    sel: Selection,
    prop: Property,
    quantities: list[str],
    *,
    order_by: str | None,
    limit: int | None,
    offset: int = 0,
    raw: bool = False,
) -> list[tuple[str, Numbers]]:
    """The quantities per value of `prop` (stored values: "" for none), ordered by the
    quantity `order_by` (descending, then by value) and paged in SQL; unordered when None."""
    scope = SiteScope(ch, sel.site)
    source = plan.for_breakdown(sel, prop, quantities, raw=raw)
    if source in (plan.RAW, VISITS):
        if source == VISITS:
            sql, params = _visits(sel, quantities, prop.in_visits)
        else:
            sql, params = _raw(sel, quantities, raw_events.property_group(prop), raw=raw)
        if prop.empty is None:
            sql = raw_events.valued(sql)
    else:
        params = sel.params()
        if source == VISIT_EXITS:
            days = site_sql.EXIT_PAGE_DAYS
        elif source in (PAIRED, PAIRED_VISITS, ONE_PAGE):
            only = plan.paired(sel)
            assert only is not None
            days = site_sql.paired_days(prop, only, params)
        else:
            params["property"] = prop.rollup
            days = site_sql.property_days(prop)
        counted = closed_days.counted(quantities, source)
        sql = summed(await closed_days.by_day(scope, sel.range, counted, params, days), quantities)
    if order_by is not None:
        sql = by_quantity(sql, order_by)
    if limit is not None:
        sql = paged(sql)
        params |= {"limit": limit, "offset": offset}
    return await rows_of(scope, sql, params, quantities)


def _raw(
    sel: Selection, quantities: list[str], group: raw_events.Group, *, raw: bool
) -> tuple[str, dict[str, object]]:
    params = sel.params()
    road = plan.visit_road(sel, raw=raw)
    return raw_events.numbers(sel.filters, params, quantities, group, road=road), params


def _params_since(sel: Selection, since: dt.date | None) -> dict[str, object]:
    """The selection's parameters, and `{since}` when given."""
    return sel.params() | ({"since": since} if since is not None else {})


def _visits(sel: Selection, quantities: list[str], group: str) -> tuple[str, dict[str, object]]:
    params = sel.params()
    return visits.numbers(sel.filters, params, quantities, group), params


async def _paired_site(
    scope: SiteScope,
    sel: Selection,
    quantities: list[str],
    interval: str | None,
    source: str,
    *,
    since: dt.date | None = None,
) -> tuple[str, dict[str, object]]:
    """The quantities per bucket (None: one total) of the visits that pass the selection's
    one filter that `plan.paired` finds (`source` `PAIRED_VISITS`), or of the page it
    keeps (`ONE_PAGE`): closed days' paired counts, open days' visits or events; with
    `since` (and no interval), `PREVIOUS` and '' as `_site_rollups` gives them."""
    params = _params_since(sel, since)
    only = plan.paired(sel)
    assert only is not None
    days = site_sql.paired_site_days(only, params, interval, since=since is not None)
    counted = closed_days.counted(quantities, source)
    parts = await closed_days.by_day(
        scope, sel.range, counted, params, days, interval=interval, since=since
    )
    return summed(parts, quantities), params


def _site_days(
    sel: Selection, quantities: list[str], interval: str | None, *, since: dt.date | None = None
) -> tuple[str, dict[str, object]]:
    """`site_daily`'s sums per bucket of days (None: one total); with `since` (and no
    interval), `PREVIOUS` and '' as `_site_rollups` gives them."""
    params = _params_since(sel, since)
    _, days = site_sql.buckets(interval, since=since is not None)
    return site_sql.site_daily(quantities, days), params


async def _site_rollups(
    scope: SiteScope,
    sel: Selection,
    quantities: list[str],
    interval: str | None,
    *,
    since: dt.date | None = None,
) -> tuple[str, dict[str, object]]:
    """`site_hourly`'s sums per bucket (None: one total), with visitors summed over days
    (see `plan.site_visitors`). Within one day, its hours' states merged in the same query
    as the sums are the day's visitors. With `since` (and no interval), two totals:
    `PREVIOUS`, of the days before it, and '', of the others."""
    params = _params_since(sel, since)
    hours, days = site_sql.buckets(interval, since=since is not None)
    visitors = await plan.site_visitors(scope, sel, quantities, interval)
    if visitors is None:
        return site_sql.site_hourly(quantities, hours), params
    sums = [q for q in quantities if q != "visitors"]
    parts = [(site_sql.site_hourly(sums, hours), sums)] if sums else []
    if visitors == tables.SITE_VISITORS:
        counted = closed_days.counted(["visitors"], SITE_HOURLY)
        parts += await closed_days.by_day(
            scope, sel.range, counted, params, site_sql.visitor_days(days),
            interval=interval, since=since,
        )  # fmt: skip
    else:
        parts.append((site_sql.visitors_by_hours(hours), ["visitors"]))
    return summed(parts, quantities), params
