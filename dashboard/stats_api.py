"""The Stats API: Plausible's v1 (`/api/v1/stats/...`) and footfall's articles endpoints.

Each handler reads its parameters (`stats_params`: authorized, in Plausible's
order, the first bad one reported with Plausible's message), asks `queries`
for the quantities its metrics need, computes the metrics (`stats_metrics`) and
answers one of the `stats_answers` types. Breakdowns and articles are also
served as CSV (`format=csv` or `Accept: text/csv`), their text cells safe to
open in a spreadsheet (`csv_export`). `API` is the routes, each with its
operation in the API's document.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from dashboard import appkeys, queries, stats_params
from dashboard.auth import SCHEMES, SIGNED_IN
from dashboard.csv_export import csv_response
from dashboard.stats_answers import (
    ANSWERS,
    SOURCES_LIMIT,
    AggregateResults,
    AggregateValue,
    Article,
    ArticleRow,
    ArticleSource,
    ArticlesResults,
    ArticleTotals,
    BreakdownResults,
    TimeseriesResults,
)
from dashboard.stats_metrics import (
    ARTICLE_METRICS,
    METRICS,
    Metric,
    Numbers,
    change,
    compute,
    quantities_of,
)
from dashboard.stats_params import (
    COMPARE,
    FILTERS,
    FORMAT,
    INTERVAL,
    LIMIT,
    METRICS_PARAM,
    PAGE,
    PERIOD_PARAMS,
    PROPERTY,
    SITE_ID,
    SORT,
    StatsRequest,
)
from footfall import openapi, presence
from footfall.openapi import JSON, Route, answer, errors, path_param, ref
from footfall.web import json_response

SUMMED = ("visitors", "visits", "pageviews", "events")
"""Metrics equal to one quantity: a breakdown sorted by one of them is paged in SQL."""
ARTICLE_ROW_METRICS = [METRICS[name] for name in ARTICLE_METRICS]


def add_routes(app: web.Application) -> None:
    openapi.mount(app, API)


async def realtime_visitors(request: web.Request) -> web.Response:
    """The site's visitors online now: the public counter's number."""
    site = await stats_params.site_of(request)
    redis = request.app[appkeys.REDIS]
    return json_response(await presence.online_now(redis, site, stats_params.now_of(request)))


async def aggregate(request: web.Request) -> web.Response:
    asked = await stats_params.read(request)
    compared = stats_params.compare(request.query)
    metrics, quantities = asked.metrics, quantities_of(asked.metrics)
    if not compared:
        values = compute(metrics, await queries.aggregate(asked.clickhouse, asked.sel, quantities))
        return json_response(
            AggregateResults({m.name: AggregateValue(values[m.name]) for m in metrics})
        )
    now, before = await queries.aggregate_compared(
        asked.clickhouse, asked.sel, asked.period.previous(), quantities
    )
    values, previous = compute(metrics, now), compute(metrics, before)
    results = {
        m.name: AggregateValue(
            value=values[m.name],
            comparison_value=previous[m.name],
            change=change(m, previous[m.name], values[m.name]),
        )
        for m in metrics
    }
    return json_response(AggregateResults(results))


async def timeseries(request: web.Request) -> web.Response:
    asked = await stats_params.read(request)
    interval = asked.period.interval
    quantities = quantities_of(asked.metrics)
    buckets = await queries.timeseries(asked.clickhouse, asked.sel, quantities, interval)
    return json_response(TimeseriesResults(_series(asked, asked.metrics, buckets, quantities)))


def _series(
    asked: StatsRequest,
    metrics: list[Metric],
    buckets: dict[str, Numbers],
    quantities: list[str] | tuple[str, ...],
) -> list[dict[str, str | float]]:
    """Every bucket of the period, empty ones with zeros."""
    empty = dict.fromkeys(quantities, 0.0)
    return [
        {"date": label, **compute(metrics, buckets.get(label, empty))}
        for label in asked.period.range.buckets(asked.period.interval)
    ]


async def breakdown(request: web.Request) -> web.StreamResponse:
    asked = await stats_params.read(request, prop=True)
    limit, page = stats_params.paging(request.query)
    as_csv = stats_params.wants_csv(request)
    prop, metrics = asked.prop, asked.metrics
    assert prop is not None
    rows = await _breakdown_rows(asked, limit, page)
    results = [{prop.key: prop.label(value), **values} for value, values in rows]
    if as_csv:
        return csv_response([prop.key, *(m.name for m in metrics)], results, f"{prop.key}.csv")
    return json_response(BreakdownResults(results))


async def _breakdown_rows(
    asked: StatsRequest, limit: int, page: int
) -> list[tuple[str, dict[str, int | float]]]:
    """Sorted by the first metric (descending), then by value; one page of them."""
    prop, metrics = asked.prop, asked.metrics
    assert prop is not None
    ch, sel, quantities = asked.clickhouse, asked.sel, quantities_of(metrics)
    first = metrics[0]
    offset = (page - 1) * limit
    if first.name in SUMMED:
        rows = await queries.breakdown(
            ch, sel, prop, quantities, order_by=first.name, limit=limit, offset=offset
        )
        return [(value, compute(metrics, numbers)) for value, numbers in rows]
    # A ratio (bounce rate...) is sorted here, after computing it for every value.
    rows = await queries.breakdown(ch, sel, prop, quantities, order_by=None, limit=None)
    computed = [(value, compute(metrics, numbers)) for value, numbers in rows]
    computed.sort(key=lambda row: (-row[1][first.name], row[0]))
    return computed[offset : offset + limit]


async def articles(request: web.Request) -> web.StreamResponse:
    """Per article: page views, visits, visitors, engaged time, readers now and title; of the
    events that pass the `filters` (then from raw events)."""
    asked = await stats_params.read(request, metrics=False)
    sort = stats_params.sort(request.query)
    limit, page = stats_params.paging(request.query)
    as_csv = stats_params.wants_csv(request)
    rows = await queries.articles(
        asked.clickhouse, asked.sel, sort=sort, limit=limit, offset=(page - 1) * limit
    )
    readers = await presence.readers_now(
        asked.redis, asked.site, [article for article, _, _ in rows], asked.now
    )
    results = [
        ArticleRow(
            article_id=article,
            title=title,
            readers=now,
            **compute(ARTICLE_ROW_METRICS, numbers),
        )
        for (article, title, numbers), now in zip(rows, readers, strict=True)
    ]
    if as_csv:
        columns = ["article_id", "title", *ARTICLE_METRICS, "readers"]
        return csv_response(columns, map(msgspec.structs.asdict, results), "articles.csv")
    return json_response(ArticlesResults(results))


async def article(request: web.Request) -> web.Response:
    """One article: its totals, its time series, where its visitors came from, readers now."""
    asked = await stats_params.read(request, filters=False, metrics=False)
    article_id = request.match_info["article"]
    ch, sel, interval = asked.clickhouse, asked.sel, asked.period.interval
    title, totals, buckets = await queries.article_overview(ch, sel, article_id, interval)
    sources = await queries.article_sources(ch, sel, article_id, SOURCES_LIMIT)
    (readers,) = await presence.readers_now(asked.redis, asked.site, [article_id], asked.now)
    return json_response(
        Article(
            article_id=article_id,
            title=title,
            readers=readers,
            totals=ArticleTotals(**compute(ARTICLE_ROW_METRICS, totals)),
            results=_series(asked, ARTICLE_ROW_METRICS, buckets, queries.ARTICLE_QUANTITIES),
            sources=[ArticleSource(*source) for source in sources],
        )
    )


# -- the routes, as the document shows them ----------------------------------------------------

STATS = openapi.Tag("Stats API", "Plausible's Stats API v1, and footfall's articles.", order=10)
ERRORS = errors(400, 401, 403, 404)
CSV = {"text/csv": {"schema": {"type": "string"}}}


def _json_or_csv(description: str, name: str) -> openapi.Schema:
    return {"description": description, "content": {JSON: {"schema": ref(name)}, **CSV}}


API = openapi.Part(
    STATS,
    (
        Route(
            "GET",
            "/api/v1/stats/realtime/visitors",
            realtime_visitors,
            "Visitors online now",
            "Distinct visitors with any event in the site's online window: the number the "
            "public counter shows.",
            {"200": answer("The number.", {"type": "integer"}), **ERRORS},
            (SITE_ID,),
        ),
        Route(
            "GET",
            "/api/v1/stats/aggregate",
            aggregate,
            "Totals over a period",
            "Each metric's value over the period (and the previous period's, with `compare`).",
            {"200": answer("The metrics.", ref("AggregateResults")), **ERRORS},
            (*PERIOD_PARAMS, METRICS_PARAM, FILTERS, COMPARE),
        ),
        Route(
            "GET",
            "/api/v1/stats/timeseries",
            timeseries,
            "Metrics per hour, day or month",
            "Every bucket of the period, empty ones with zeros.",
            {"200": answer("One row per bucket.", ref("TimeseriesResults")), **ERRORS},
            (*PERIOD_PARAMS, METRICS_PARAM, FILTERS, INTERVAL),
        ),
        Route(
            "GET",
            "/api/v1/stats/breakdown",
            breakdown,
            "Metrics per value of a property",
            "Rows sorted by the first metric, largest first, then by value; paged.",
            {"200": _json_or_csv("One row per value.", "BreakdownResults"), **ERRORS},
            (*PERIOD_PARAMS, PROPERTY, METRICS_PARAM, FILTERS, LIMIT, PAGE, FORMAT),
        ),
        Route(
            "GET",
            "/api/v1/stats/articles",
            articles,
            "Articles",
            "Per article: page views, visits, visitors, engaged time, readers now, title; "
            "of the events that pass the filters.",
            {"200": _json_or_csv("One row per article.", "ArticlesResults"), **ERRORS},
            (*PERIOD_PARAMS, FILTERS, SORT, LIMIT, PAGE, FORMAT),
        ),
        Route(
            "GET",
            "/api/v1/stats/articles/{article}",
            article,
            "One article",
            "Its totals, its time series, where its visitors came from, readers now.",
            {"200": answer("The article.", ref("Article")), **ERRORS},
            (path_param("article", "The article id."), *PERIOD_PARAMS, INTERVAL),
        ),
    ),
    lambda: openapi.answer_schemas(*ANSWERS),
    security=SIGNED_IN,
    security_schemes=SCHEMES,
)
