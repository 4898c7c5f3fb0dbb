"""The SQL of article queries: a period's top articles, one article's numbers and sources.

`article_stats` holds each article's numbers per site-local day (and its title),
`article_sources` its page views by source; closed days' counts hold the same
(kinds `articles`, `article`, `article_source`), and each closed day's and span's
`top_articles` lists. Raw events answer under filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dashboard.filters import Filter
from dashboard.sql import days, scope, visits
from dashboard.sql.days import (
    DAY_ROWS,
    Counted,
    Counts,
    Rollup,
    closed_where,
    open_sql,
)
from dashboard.sql.raw_events import (
    EVENT_DAY,
    IN_RANGE,
    JOINED,
    VisitRoad,
    event_conditions,
    visit_filters,
    with_visits_of,
)
from dashboard.sql.shapes import bucket, date_bucket, grouped
from dashboard.stats_metrics import PAGE_VIEWS, QUANTITIES
from footfall import closed_counts, tables

if TYPE_CHECKING:
    from dashboard.closed_days import Split

ORDER = {
    "pageviews": ("q_pageviews", ["pageviews"]),
    "visits": ("q_visits", ["visits"]),
    "visitors": ("q_visitors", ["visitors"]),
    # engaged_time is a mean per visitor: ordered by the same ratio, computed here.
    "engaged_time": ("q_engaged_ms / greatest(q_visitors, 1)", ["engaged_ms", "visitors"]),
}
"""Per sort: the SQL articles are ordered by, and the quantities it needs."""

_ANY = "article_id != ''"
_ONE = ("key = {article:String}", "article_id = {article:String}")
"""The article `{article}`: its counts (by `key`), its rows."""
_LISTED = ("key IN {articles:Array(String)}", "article_id IN {articles:Array(String)}")
"""The articles `{articles}`: their counts (by `key`), their rows."""

EVERY_ARTICLE = (
    Counts(closed_counts.ARTICLES, "value"),
    Rollup(tables.ARTICLE_STATS, "article_id", f"{DAY_ROWS} AND {_ANY}"),
)
"""Every article's numbers: closed days' counts (`value` the article), open days' rows."""


def _of_articles(groups: tuple[str, str], where: tuple[str, str]) -> tuple[Counts, Rollup]:
    """Closed days' counts (kind `article`, `key` the article) grouped by `groups[0]`, open
    days' rows grouped by `groups[1]`, of the articles that pass `where` (on each)."""
    return (
        Counts(closed_counts.ARTICLE, groups[0], where[0]),
        Rollup(tables.ARTICLE_STATS, groups[1], f"{DAY_ROWS} AND {where[1]}"),
    )


LISTED = _of_articles(("key", "article_id"), _LISTED)
"""The numbers of the articles `{articles}`, each with its title."""


def one_article(group: str) -> tuple[Counts, Rollup]:
    """The numbers of the article `{article}` per `group` (a date bucket), with its title."""
    return _of_articles((group, group), _ONE)


def paired(
    only: Filter, params: dict[str, object]
) -> tuple[tuple[Counts, Rollup], tuple[Counts, Rollup]]:
    """`EVERY_ARTICLE` and `LISTED` among the visits that pass the filter `only` (see
    `dashboard.sql.days.paired`; its values added to `params`): the articles' paired
    counts (`value` the article) of closed days, open days' events."""
    kind = closed_counts.ARTICLES
    every = days.paired(only, params, kind, "article_id", _ANY)
    listed = days.paired(
        only, params, kind, "article_id", _LISTED[1], "value IN {articles:Array(String)}"
    )
    return every, listed


def series_group(interval: str, *, raw: bool) -> str:
    """An article's time bucket: over its events' times (raw), or its rows' dates."""
    return bucket("ts", interval) if raw else date_bucket("date", interval)


# Top articles: the lists of closed days and spans (dashboard/top_articles.py) ----

OPEN = "open"
"""The open days' list."""


def top_lists(
    parts: Split, sort: Counted, numbers: list[Counted], params: dict[str, object]
) -> str:
    """`SELECT list, g, q, q_<number>...`: of the closed days and spans of `parts`, each
    one's listed articles, their quantity `sort` and every one of `numbers`; and the
    open days' `TOP` by `sort` (`OPEN`, its numbers left 0)."""
    columns = ", ".join(f"q_{c.quantity}" for c in numbers)
    selected = []
    if parts.spans or parts.days:
        params["top_kind"] = closed_counts.TOP_ARTICLES
        closed = ", ".join(f"{c.quantity} AS q_{c.quantity}" for c in numbers)
        where = ["kind = {top_kind:String}", closed_where(parts, params)]
        selected.append(
            f"SELECT concat(span, toString(date)) AS list, value AS g, {sort.quantity} AS q, "
            f"{closed} FROM {scope.rows(tables.CLOSED_COUNTS, *where)}"
        )
    if parts.open:
        rows = open_sql(parts, [sort], params, EVERY_ARTICLE[1])
        params["top"] = closed_counts.TOP
        zeros = ", ".join(f"0 AS q_{c.quantity}" for c in numbers)
        top = (
            f"SELECT g, sum(q_{sort.quantity}) AS q FROM ({rows}) "
            "GROUP BY g ORDER BY q DESC, g LIMIT {top:UInt32}"
        )
        selected.append(f"SELECT '{OPEN}' AS list, g, q, {zeros} FROM ({top})")
    return " UNION ALL ".join(f"SELECT list, g, q, {columns} FROM ({sql})" for sql in selected)


def open_numbers(
    parts: Split, counted: list[Counted], params: dict[str, object], quantities: list[str]
) -> str:
    """`SELECT g, title, titled_on, q_<quantity>...`: the numbers of the articles
    `{articles}` over the open days of `parts`, and their latest title there, with its day."""
    rollup = Rollup(tables.ARTICLE_STATS, "article_id", f"{DAY_ROWS} AND {_LISTED[1]}")
    sums = ", ".join(f"sum(q_{q}) AS q_{q}" for q in quantities)
    return (
        "SELECT g, argMaxIf(t_title, t_day, t_title != '') AS title, "
        f"maxIf(t_day, t_title != '') AS titled_on, {sums} "
        f"FROM ({open_sql(parts, counted, params, rollup, titled=True)}) GROUP BY g"
    )


# Raw events -----------------------------------------------------------------------


def every_article_raw(
    filters: Sequence[Filter],
    params: dict[str, object],
    quantities: list[str],
    *,
    road: VisitRoad = VisitRoad.GROUPED,
) -> str:
    """`SELECT g, title, q_<quantity>...` of every article, from the events that pass
    `filters` (their visits by `road`)."""
    return _raw(filters, params, "article_id", _ANY, quantities, road=road)


def ranked_articles_raw(
    filters: Sequence[Filter], params: dict[str, object], quantities: list[str], *, road: VisitRoad
) -> str:
    """`SELECT g, q_<quantity>...` of every article, from the page views that pass `filters`
    alone (`quantities` each `page_views_only`), untitled: what ranks them, in half the
    rows, and grouped by article alone when none is distinct (by page views)."""
    by_day = any(QUANTITIES[q].distinct for q in quantities)
    return _raw(
        filters, params, "article_id", _ANY, quantities,
        road=road, titled=False, page_views=True, by_day=by_day,
    )  # fmt: skip


def listed_articles_raw(
    filters: Sequence[Filter], params: dict[str, object], quantities: list[str], *, road: VisitRoad
) -> str:
    """`SELECT g, title, q_<quantity>...` of the articles `{articles}`, from the events that
    pass `filters`."""
    return _raw(filters, params, "article_id", _LISTED[1], quantities, road=road)


def one_article_raw(
    filters: Sequence[Filter], params: dict[str, object], group: str, quantities: list[str]
) -> str:
    """`SELECT g, title, q_<quantity>...` of the article `{article}` per `group`."""
    return _raw(filters, params, group, _ONE[1], quantities, road=VisitRoad.GROUPED)


def _raw(
    filters: Sequence[Filter],
    params: dict[str, object],
    group: str,
    where: str,
    quantities: list[str],
    *,
    road: VisitRoad,
    titled: bool = True,
    page_views: bool = False,
    by_day: bool = True,
) -> str:
    counted = ", ".join(f"{QUANTITIES[q].raw(on_pages=True)[1]} AS q_{q}" for q in quantities)
    sums = ", ".join(f"sum(q_{q}) AS q_{q}" for q in quantities)
    conditions = [IN_RANGE, where, *event_conditions(filters, params)]
    if page_views:
        conditions.append(PAGE_VIEWS)
    with_visits, table = "", tables.EVENTS
    if road == VisitRoad.STAMPED and visit_filters(filters):
        conditions += visits.stamped(visit_filters(filters), params)
    elif visit_filters(filters):
        props = {f.property for f in visit_filters(filters)}
        with_visits = with_visits_of(filters, props, params, road=road)
        table = JOINED
    title, day_title = "", ""
    if titled:
        named = "type = 'pageview' AND title != ''"
        title = "argMax(day_title, titled_at) AS title, "
        day_title = f"argMaxIf(title, ts, {named}) AS day_title, maxIf(ts, {named}) AS titled_at, "
    # Distinct counts are counted per day, then summed (see dashboard.queries).
    day, groups = (f"{EVENT_DAY} AS d, ", "g, d") if by_day else ("", "g")
    return (
        f"{with_visits}SELECT g, {title}{sums} FROM ("
        f"SELECT {group} AS g, {day}{day_title}{counted} "
        f"FROM {scope.rows(table, *conditions)} GROUP BY {groups}) GROUP BY g"
    )


# Sources ------------------------------------------------------------------------

# The label `article_sources` stores (migration 0009 computes it the same way).
_SOURCE = "if(source_name != '', source_name, if(source = 'internal', 'Internal', 'Direct / None'))"
SOURCE_DAYS = (
    Counts(closed_counts.ARTICLE_SOURCE, "value", _ONE[0]),
    Rollup(tables.ARTICLE_SOURCES, "source", f"{DAY_ROWS} AND {_ONE[1]}"),
)
"""The article `{article}`'s visitors and page views by source: closed days' counts, open
days' rows."""


def sources_raw() -> str:
    """`SELECT g, q_visitors, q_pageviews` of the article `{article}` by source, from its
    page views."""
    exprs = [("visitors", "uniq(visitor_id)"), ("pageviews", "count()")]
    rows = scope.rows(tables.EVENTS, IN_RANGE, "type = 'pageview'", _ONE[1])
    return grouped(rows, _SOURCE, exprs, EVENT_DAY)


def top_sources(sql: str) -> str:
    """The `{limit}` sources of `sql` with the most visitors, then page views."""
    return f"{sql} ORDER BY q_visitors DESC, q_pageviews DESC, g ASC LIMIT {{limit:UInt32}}"
