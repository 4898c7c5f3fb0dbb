"""Which source answers a stats query: a rollup when one can, raw `events` else.

Each function names the source of one kind of query (see the list in
`dashboard.queries`): a rollup (as `dashboard.stats_metrics` names them), or `RAW`.
`raw` asks for raw events whatever could answer: the tests and bench/dashboard.py
compare both. Under filters on visit properties alone (a click on a source, a
country...), the `visits` table answers a site's totals, time series by day or
month and breakdowns by a visit property, and raw queries about pages read the
events of the visits that pass by the visit properties stamped on them, or join
them to the visits from that table (`visit_road`); under a filter on events (pages,
an event name), raw events answer, a breakdown by a visit property by the visit's
value stamped on the events. Under one filter on a paired property (a source, a
country, a device, a browser, an OS) equal to one value (`paired`), the site's totals
and series, its breakdowns and the top articles read the closed days' paired counts
(`PAIRED`, `PAIRED_VISITS`), as they read the rollups unfiltered; under one on a
referrer, a UTM tag, an entry or an exit page, so do all but its breakdowns by the
other properties of these, which read `visits`; under one on a page (a
click on a page row), its counts by page (`ONE_PAGE`, and `PAIRED` for its articles
and its breakdowns by a visit property).
"""

from __future__ import annotations

import weakref

from dashboard import top_articles
from dashboard.filters import Filter
from dashboard.properties import Property
from dashboard.queries.selection import Selection
from dashboard.sql.days import visit_kind
from dashboard.sql.raw_events import VisitRoad
from dashboard.sql.scope import SiteScope
from dashboard.sql.site import FIRST_DAYS
from dashboard.stats_metrics import (
    ARTICLE_SOURCES,
    ARTICLE_STATS,
    ONE_PAGE,
    PAGE_BREAKDOWN,
    PAIRED,
    PAIRED_VISITS,
    QUANTITIES,
    SITE_DAILY,
    SITE_HOURLY,
    VISIT_BREAKDOWN,
    VISIT_EXITS,
    VISITS,
)
from footfall import closed_counts, tables
from footfall.connections import AsyncClickHouse

RAW = tables.EVENTS
"""Raw events: they answer every query."""


def for_site(
    sel: Selection, quantities: list[str], *, interval: str | None = None, raw: bool = False
) -> str:
    """A site's totals or time series (by `interval`; None: in all) without filters:
    `site_hourly` (UTC hours) when the site's timezone is a whole number of hours off
    UTC, else `site_daily` (site-local days) unless by hour. Under visit filters, by
    day or month, `visits`, or the paired counts under one that `paired` finds (by page:
    `ONE_PAGE`)."""
    if raw:
        return RAW
    only = paired(sel)
    if only is not None and interval != "hour":
        rollup = _site_paired(only)
        if _all_answer(quantities, rollup):
            return rollup
    if sel.filters:
        by_visits = _visit_filters_only(sel) and interval != "hour"
        return VISITS if by_visits and _all_answer(quantities, VISITS) else RAW
    if sel.range.whole_hour_offsets() and _all_answer(quantities, SITE_HOURLY):
        return SITE_HOURLY
    if interval != "hour" and _all_answer(quantities, SITE_DAILY):
        return SITE_DAILY
    return RAW


def _site_paired(only: Filter) -> str:
    """What closed days keep of a site's numbers under the filter `only` that `paired`
    finds: its paired counts of visits (`PAIRED_VISITS`), the page's (`ONE_PAGE`)."""
    return PAIRED_VISITS if only.property.is_visit else ONE_PAGE


def _all_answer(quantities: list[str], rollup: str) -> bool:
    return all(QUANTITIES[q].answers(rollup) for q in quantities)


async def site_visitors(
    scope: SiteScope, sel: Selection, quantities: list[str], interval: str | None
) -> str | None:
    """Where the visitors of a query of `site_hourly` come from: None, from its own sums
    (by hour, or within one day: an hour's visitors are of one day); `site_visitors`, its
    days' (see `_visitors_by_day`); else `SITE_HOURLY`, its hours merged per day."""
    if "visitors" not in quantities or interval == "hour" or sel.range.days == 1:
        return None
    return tables.SITE_VISITORS if await _visitors_by_day(scope, sel) else SITE_HOURLY


def for_breakdown(
    sel: Selection, prop: Property, quantities: list[str], *, raw: bool = False
) -> str:
    """A breakdown by `prop` without filters: `visits` by exit page (visitors and visits,
    closed days from their counts), `breakdown_stats` (per site-local day) by the other
    properties it has, by visitors and visits (visit properties) or visitors and page
    views (pages). Under one filter that `paired` finds, by page or by a visit property
    kept among its visits (`closed_counts.paired_among`), their paired counts, when they
    answer every quantity (not `events`); under one on a page, by page (`ONE_PAGE`) or by
    a property paired with pages (their paired counts); under one on a property of
    `closed_counts.BY_PAGE`, by page (its counts by page, or by its value where
    `closed_counts.pages_keyed`). By a visit property that these cannot answer, or
    under visit filters, the period's rows of `visits`."""
    if raw:
        return RAW
    only = paired(sel)
    if only is not None and only.property.is_visit:
        if prop.name == "event:page" and _all_answer(quantities, PAIRED):
            return PAIRED
        among = closed_counts.paired_among(visit_kind(only.property))
        kept = prop.is_visit and visit_kind(prop) in among
        if kept and _all_answer(quantities, PAIRED_VISITS):
            return PAIRED_VISITS
    elif only is not None:
        # By page, a visit counts where it entered: the page's counts of its events alone.
        if prop.name == "event:page" and _all_answer(quantities, PAIRED):
            return ONE_PAGE
        if _kept_by_page(prop) and _all_answer(quantities, PAIRED):
            return PAIRED
    if not sel.filters and prop.rollup is not None:
        if prop.name == "visit:exit_page":
            table = VISIT_EXITS
        else:
            table = PAGE_BREAKDOWN if prop.name == "event:page" else VISIT_BREAKDOWN
        if _all_answer(quantities, table):
            return table
    on_visits = not sel.filters or _visit_filters_only(sel)
    return VISITS if on_visits and prop.is_visit and _all_answer(quantities, VISITS) else RAW


def _kept_by_page(prop: Property) -> bool:
    """Whether closed days keep each page's numbers per value of the visit property `prop`
    (`closed_counts.CLICKED`: `PAIRED`, `BY_PAGE`, the exit page)."""
    return prop.is_visit and visit_kind(prop) in closed_counts.CLICKED


def visit_road(sel: Selection, *, raw: bool = False) -> VisitRoad:
    """How a raw query finds the visits that pass its filters: under visit filters alone,
    from the `visits` table, their events by the visit properties stamped on them when
    every filter's is (`STAMPED`: all but the exit page's) or joined to them (`TABLE`);
    under event filters (a page) and visit filters on stamped properties, the events by
    those (`STAMPED`), their visits grouped from the events; else grouped from them."""
    if raw or not sel.filters:
        return VisitRoad.GROUPED
    if all(f.property.stamped for f in sel.filters if f.property.is_visit):
        return VisitRoad.STAMPED
    return VisitRoad.TABLE if _visit_filters_only(sel) else VisitRoad.GROUPED


def paired(sel: Selection) -> Filter | None:
    """The selection's one filter, if closed days keep numbers paired with its property
    (`closed_counts.CLICKED`: a source, a country, a device, a browser, an OS; a
    referrer, a UTM tag, an entry or an exit page, all but its breakdowns by the others
    of these, `closed_counts.paired_among`; or the page, `closed_counts.PAGE_KINDS`) and
    it keeps one value of it: a visitor of two visits on one day, from two countries, is
    one visitor of both, so their counts do not add up over several values."""
    if len(sel.filters) != 1:
        return None
    (only,) = sel.filters
    one_value = not only.negated and not only.wildcard and len(only.values) == 1
    if only.property.is_visit:
        kept = visit_kind(only.property) in closed_counts.CLICKED
    else:
        kept = only.property.name == "event:page"
    return only if one_value and kept else None


def _visit_filters_only(sel: Selection) -> bool:
    return bool(sel.filters) and all(f.property.is_visit for f in sel.filters)


def for_articles(sel: Selection, *, raw: bool = False) -> str:
    """A period's top articles: `article_stats` (per site-local day) without filters, the
    paired counts under one filter that `paired` finds."""
    if raw:
        return RAW
    if not sel.filters:
        return ARTICLE_STATS
    return PAIRED if paired(sel) else RAW


def lists_first(sort: str, limit: int, offset: int) -> bool:
    """Whether a page of top articles from `article_stats` is looked for first in the
    lists of each closed day's and span's top articles (`dashboard.top_articles`): by
    a sum they list, and within their `TOP`."""
    return sort in top_articles.SORTS and offset + limit <= closed_counts.TOP


def for_article(interval: str | None, *, raw: bool = False) -> str:
    """One article's numbers, by `interval` (None: in all): `article_stats` by day or
    month, raw events by hour."""
    return RAW if raw or interval == "hour" else ARTICLE_STATS


def for_article_sources(*, raw: bool = False) -> str:
    """One article's sources: `article_sources` (per site-local day)."""
    return RAW if raw else ARTICLE_SOURCES


_VISITORS_BY_DAY: weakref.WeakKeyDictionary[AsyncClickHouse, set[str]] = weakref.WeakKeyDictionary()
"""Per database connection, the sites whose `site_visitors` rows reach back as far as their
hours. Once true it stays true (both tables get every insert from then on), so it is asked
once per connection."""


async def _visitors_by_day(scope: SiteScope, sel: Selection) -> bool:
    """Whether `site_visitors` has the selection's visitors: its rows reach back as far as
    `site_hourly`'s, or the selection starts after their first day (migration 0011 filled
    them from the raw events there were)."""
    covered = _VISITORS_BY_DAY.setdefault(scope.ch, set())
    if sel.site in covered:
        return True
    ((first_day, first_hour),) = await scope.query(FIRST_DAYS, {"tz": sel.range.timezone})
    if first_hour is None or (first_day is not None and first_day <= first_hour):
        covered.add(sel.site)
        return True
    return first_day is not None and sel.range.first > first_day
