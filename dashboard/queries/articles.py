"""Article queries: a period's top articles, and one article's numbers, series and sources."""

from __future__ import annotations

import datetime as dt

from dashboard import closed_days, top_articles
from dashboard.queries import plan
from dashboard.queries.numbers import Numbers, numbers
from dashboard.queries.selection import Selection
from dashboard.sql import articles as articles_sql
from dashboard.sql.days import Counts, Rollup
from dashboard.sql.raw_events import VisitRoad
from dashboard.sql.scope import SiteScope
from dashboard.sql.shapes import ONE_GROUP, ordered, paged, summed
from dashboard.stats_metrics import ARTICLE_SOURCES, ARTICLE_STATS, PAIRED, QUANTITIES
from footfall.closed_counts import span_end
from footfall.connections import AsyncClickHouse

ARTICLE_QUANTITIES = ["pageviews", "visits", "visitors", "engaged_ms"]
SOURCE_QUANTITIES = ["visitors", "pageviews"]


async def articles(
    ch: AsyncClickHouse,
    sel: Selection,
    *,
    sort: str,
    limit: int,
    offset: int,
    raw: bool = False,
) -> list[tuple[str, str, Numbers]]:
    """(article id, title, quantities) of the period's most read articles, by `sort`."""
    scope = SiteScope(ch, sel.site)
    order, needs = articles_sql.ORDER[sort]
    params = sel.params()
    page = {"limit": limit, "offset": offset}
    source = plan.for_articles(sel, raw=raw)
    if source == plan.RAW:
        road = plan.visit_road(sel, raw=raw)
        if road == VisitRoad.STAMPED and all(QUANTITIES[q].page_views_only for q in needs):
            # The page of articles first, ranked on the page views alone, then its numbers.
            ranked = articles_sql.ranked_articles_raw(sel.filters, params, needs, road=road)
            ids = [g for g, *_ in await scope.query(paged(ordered(ranked, order)), params | page)]
            if not ids:
                return []
            params = sel.params() | {"articles": ids}
            listed = articles_sql.listed_articles_raw(
                sel.filters, params, ARTICLE_QUANTITIES, road=road
            )
            numbered = {
                g: (title, numbers(rest, ARTICLE_QUANTITIES))
                for g, title, *rest in await scope.query(listed, params)
            }
            return [(g, *numbered[g]) for g in ids]
        every = articles_sql.every_article_raw(sel.filters, params, ARTICLE_QUANTITIES, road=road)
        found = await scope.query(paged(ordered(every, order)), params | page)
        return [(g, title, numbers(rest, ARTICLE_QUANTITIES)) for g, title, *rest in found]
    every_days, listed_days = articles_sql.EVERY_ARTICLE, articles_sql.LISTED
    filtered: dict[str, object] = {}
    if source == PAIRED:
        only = plan.paired(sel)
        assert only is not None
        every_days, listed_days = articles_sql.paired(only, filtered)
    elif plan.lists_first(sort, limit, offset):
        from_lists = await _listed_articles(scope, sel, sort, limit=limit, offset=offset)
        if from_lists is not None:
            return from_lists
    # The page of articles first, from what its order needs of every article (by page
    # views, a sum of one column), then the page's own numbers and titles.
    params |= filtered
    counted = closed_days.counted(needs, source)
    parts = await closed_days.by_day(scope, sel.range, counted, params, every_days)
    sql = paged(ordered(summed(parts, needs), order))
    ids = [g for g, *_ in await scope.query(sql, params | page)]
    if not ids:
        return []
    found = await _of_articles(scope, sel, listed_days, {"articles": ids} | filtered, source=source)
    return [(g, *found[g]) for g in ids]


async def _listed_articles(
    scope: SiteScope, sel: Selection, sort: str, *, limit: int, offset: int
) -> list[tuple[str, str, Numbers]] | None:
    """`articles` from the lists of top articles (see dashboard/top_articles.py), or None
    if they cannot tell."""
    params = sel.params()
    parts = closed_days.split(await closed_days.known(scope), sel.range)
    quantities = closed_days.counted(ARTICLE_QUANTITIES, ARTICLE_STATS)
    (counted,) = closed_days.counted([sort], ARTICLE_STATS)
    rows = await scope.query(articles_sql.top_lists(parts, counted, quantities, params), params)
    candidates = top_articles.candidates(top_articles.lists_of(rows), offset + limit)
    if not candidates.first:
        return None
    closed = top_articles.closed_numbers(rows, parts, candidates.first, ARTICLE_QUANTITIES)
    found = None
    if closed is not None:
        found = await _with_open_numbers(scope, sel, parts, closed)
    if found is None:
        found = await _of_articles(scope, sel, articles_sql.LISTED, {"articles": candidates.first})
    ranked = candidates.ranked({g: row[sort] for g, (_, row) in found.items()})
    if ranked is None:
        return None
    return [(g, *found[g]) for g in ranked[offset:]]


async def _with_open_numbers(
    scope: SiteScope, sel: Selection, parts: closed_days.Split, closed: dict[str, Numbers]
) -> dict[str, tuple[str, Numbers]] | None:
    """{g: (title, quantities)} of the articles of `closed` (their numbers over the closed
    days of `parts`): those numbers plus their open days', and their latest title on an
    open day; None if an article has no title there, or had it before a closed day (it
    may have another since)."""
    params = sel.params() | {"articles": list(closed)}
    counted = closed_days.counted(ARTICLE_QUANTITIES, ARTICLE_STATS)
    sql = articles_sql.open_numbers(parts, counted, params, ARTICLE_QUANTITIES)
    ends = [*parts.days, *(span_end(span, start) for span, start in parts.spans)]
    closed_until = max(ends, default=dt.date.min)
    found = {}
    for g, title, titled_on, *rest in await scope.query(sql, params):
        if not title or titled_on < closed_until:
            return None
        opened = numbers(rest, ARTICLE_QUANTITIES)
        found[g] = (title, {q: closed[g][q] + opened[q] for q in ARTICLE_QUANTITIES})
    return found if len(found) == len(closed) else None


async def article_totals(
    ch: AsyncClickHouse, sel: Selection, article: str, *, raw: bool = False
) -> tuple[str, Numbers]:
    """(title, quantities) of one article over the selection."""
    raw = plan.for_article(None, raw=raw) == plan.RAW
    series = await _article_groups(ch, sel, article, ONE_GROUP, raw=raw, interval=None)
    title, row = series.get("", ("", dict.fromkeys(ARTICLE_QUANTITIES, 0.0)))
    return title, row


async def article_series(
    ch: AsyncClickHouse, sel: Selection, article: str, interval: str, *, raw: bool = False
) -> dict[str, Numbers]:
    """The quantities of one article per time bucket; hours come from raw events."""
    raw = plan.for_article(interval, raw=raw) == plan.RAW
    group = articles_sql.series_group(interval, raw=raw)
    series = await _article_groups(ch, sel, article, group, raw=raw, interval=interval)
    return {g: row for g, (_, row) in series.items()}


async def article_overview(
    ch: AsyncClickHouse, sel: Selection, article: str, interval: str, *, raw: bool = False
) -> tuple[str, Numbers, dict[str, Numbers]]:
    """(title, totals, series) of one article. By day or month from the rollups, the totals
    are the series' sums (every quantity adds up over days): one query less."""
    if plan.for_article(interval, raw=raw) == plan.RAW:
        title, totals = await article_totals(ch, sel, article, raw=raw)
        return title, totals, await article_series(ch, sel, article, interval, raw=raw)
    group = articles_sql.series_group(interval, raw=False)
    series = await _article_groups(ch, sel, article, group, raw=False, interval=interval)
    totals = {q: sum(row[q] for _, row in series.values()) for q in ARTICLE_QUANTITIES}
    titled = sorted((g, title) for g, (title, _) in series.items() if title)
    title = titled[-1][1] if titled else ""
    return title, totals, {g: row for g, (_, row) in series.items()}


async def _article_groups(
    ch: AsyncClickHouse,
    sel: Selection,
    article: str,
    group: str,
    *,
    raw: bool,
    interval: str | None,
) -> dict[str, tuple[str, Numbers]]:
    scope = SiteScope(ch, sel.site)
    values = {"article": article}
    if not raw:
        days = articles_sql.one_article(group)
        return await _of_articles(scope, sel, days, values, interval=interval)
    params = sel.params()
    sql = articles_sql.one_article_raw(sel.filters, params, group, ARTICLE_QUANTITIES)
    rows = await scope.query(sql, params | values)
    return {g: (title, numbers(rest, ARTICLE_QUANTITIES)) for g, title, *rest in rows}


async def _of_articles(
    scope: SiteScope,
    sel: Selection,
    days: tuple[Counts, Rollup],
    values: dict[str, object],
    *,
    interval: str | None = None,
    source: str = ARTICLE_STATS,
) -> dict[str, tuple[str, Numbers]]:
    """{g: (title, quantities)} of the articles `days` reads (`articles_sql.LISTED`,
    `one_article`, or paired), with the parameters `values`; per `interval` bucket (None:
    in all). `source` is what answers their open days (`article_stats`, or `PAIRED`)."""
    params = sel.params() | values
    counted = closed_days.counted(ARTICLE_QUANTITIES, source)
    parts = await closed_days.by_day(
        scope, sel.range, counted, params, days, interval=interval, titled=True
    )
    rows = await scope.query(summed(parts, ["title", *ARTICLE_QUANTITIES]), params)
    return {g: (title, numbers(rest, ARTICLE_QUANTITIES)) for g, title, *rest in rows}


async def article_sources(
    ch: AsyncClickHouse, sel: Selection, article: str, limit: int, *, raw: bool = False
) -> list[tuple[str, int, int]]:
    """(source, visitors, page views) of an article's page views, by where each came from."""
    scope = SiteScope(ch, sel.site)
    params = sel.params() | {"article": article, "limit": limit}
    if plan.for_article_sources(raw=raw) == plan.RAW:
        sql = articles_sql.sources_raw()
    else:
        counted = closed_days.counted(SOURCE_QUANTITIES, ARTICLE_SOURCES)
        days = articles_sql.SOURCE_DAYS
        parts = await closed_days.by_day(scope, sel.range, counted, params, days)
        sql = summed(parts, SOURCE_QUANTITIES)
    rows = await scope.query(articles_sql.top_sources(sql), params)
    return [(g, int(v), int(p)) for g, v, p in rows]
