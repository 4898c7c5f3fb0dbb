"""The Stats API: Plausible's v1 (`/api/v1/stats/...`) and footfall's articles endpoints.

Each handler authorizes (`stats:read` on the site), reads its parameters in
Plausible's order (period, date, property, interval, filters, metrics, limit,
page), so that the first bad one is the one reported, with Plausible's
message, as `{"error": "..."}` and a 4xx; then asks `queries` for the
quantities its metrics need and computes the metrics (`metrics`). Breakdowns
and articles are also served as CSV (`format=csv` or `Accept: text/csv`), their
text cells safe to open in a spreadsheet (`csv_export`).
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from dashboard import appkeys, queries
from dashboard.auth import authorize
from dashboard.csv_export import csv_response
from dashboard.filters import Filter, parse_filters
from dashboard.metrics import (
    ARTICLE_METRICS,
    METRICS,
    Metric,
    change,
    compute,
    parse_metrics,
    quantities_of,
)
from dashboard.periods import parse_period
from dashboard.properties import Property, breakdown_property
from dashboard.queries import Selection
from footfall import presence
from footfall.clock import system_clock
from footfall.sites import Site, normalize_domain
from footfall.web import ApiError, json_response

MISSING_SITE = "Missing site ID. Please provide the required site_id parameter with your request."
UNKNOWN_SITE = (
    "Invalid API key or site ID. Please make sure you're using a valid API key with access "
    "to the site you've requested."
)
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
SOURCES_LIMIT = 20
SESSION_METRICS = ("visits", "bounce_rate", "visit_duration", "views_per_visit")
SUMMED = ("visitors", "visits", "pageviews", "events")
"""Metrics equal to one quantity: a breakdown sorted by one of them is paged in SQL."""


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/api/v1/stats/realtime/visitors", realtime_visitors)
    router.add_get("/api/v1/stats/aggregate", aggregate)
    router.add_get("/api/v1/stats/timeseries", timeseries)
    router.add_get("/api/v1/stats/breakdown", breakdown)
    router.add_get("/api/v1/stats/articles", articles)
    router.add_get("/api/v1/stats/articles/{article}", article)


async def realtime_visitors(request: web.Request) -> web.Response:
    """The site's visitors online now: the public counter's number."""
    site = await _site(request)
    return json_response(await presence.online_now(_redis(request), site, _now(request)))


async def aggregate(request: web.Request) -> web.Response:
    site = await _site(request)
    query = request.query
    period = parse_period(query, site.timezone, _now(request))
    filters = parse_filters(query.get("filters"))
    metrics = _metrics(query, filters, None)
    compare = _compare(query)
    sel = Selection(site.domain, period.range, tuple(filters))
    quantities = quantities_of(metrics)
    ch = request.app[appkeys.CLICKHOUSE]
    if not compare:
        values = compute(metrics, await queries.aggregate(ch, sel, quantities))
        return json_response({"results": {m.name: {"value": values[m.name]} for m in metrics}})
    now, before = await queries.aggregate_compared(ch, sel, period.previous(), quantities)
    values, previous = compute(metrics, now), compute(metrics, before)
    results = {
        m.name: {
            "value": values[m.name],
            "comparison_value": previous[m.name],
            "change": change(m, previous[m.name], values[m.name]),
        }
        for m in metrics
    }
    return json_response({"results": results})


async def timeseries(request: web.Request) -> web.Response:
    site = await _site(request)
    query = request.query
    period = parse_period(query, site.timezone, _now(request))
    filters = parse_filters(query.get("filters"))
    metrics = _metrics(query, filters, None)
    sel = Selection(site.domain, period.range, tuple(filters))
    ch = request.app[appkeys.CLICKHOUSE]
    buckets = await queries.timeseries(ch, sel, quantities_of(metrics), period.interval)
    empty = dict.fromkeys(quantities_of(metrics), 0.0)
    results = [
        {"date": label, **compute(metrics, buckets.get(label, empty))}
        for label in period.range.buckets(period.interval)
    ]
    return json_response({"results": results})


async def breakdown(request: web.Request) -> web.StreamResponse:
    site = await _site(request)
    query = request.query
    period = parse_period(query, site.timezone, _now(request))
    prop = breakdown_property(query.get("property"))
    filters = parse_filters(query.get("filters"))
    metrics = _metrics(query, filters, prop)
    limit, page = _paging(query)
    as_csv = _wants_csv(request)
    sel = Selection(site.domain, period.range, tuple(filters))
    rows = await _breakdown_rows(request, sel, prop, metrics, limit, page)
    results = [{prop.key: prop.label(value), **values} for value, values in rows]
    if as_csv:
        return csv_response([prop.key, *(m.name for m in metrics)], results, f"{prop.key}.csv")
    return json_response({"results": results})


async def _breakdown_rows(
    request: web.Request,
    sel: Selection,
    prop: Property,
    metrics: list[Metric],
    limit: int,
    page: int,
) -> list[tuple[str, dict[str, int | float]]]:
    """Sorted by the first metric (descending), then by value; one page of them."""
    ch = request.app[appkeys.CLICKHOUSE]
    quantities = quantities_of(metrics)
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


ARTICLE_SORTS = ARTICLE_METRICS


async def articles(request: web.Request) -> web.StreamResponse:
    """Per article: page views, visits, visitors, engaged time, readers now and title; of the
    events that pass the `filters` (then from raw events)."""
    site = await _site(request)
    query = request.query
    period = parse_period(query, site.timezone, _now(request))
    filters = parse_filters(query.get("filters"))
    sort = query.get("sort", "pageviews")
    if sort not in ARTICLE_SORTS:
        raise ApiError(400, f"Invalid `sort` '{sort}'. Sort by one of: {', '.join(ARTICLE_SORTS)}.")
    limit, page = _paging(query)
    as_csv = _wants_csv(request)
    sel = Selection(site.domain, period.range, tuple(filters))
    ch = request.app[appkeys.CLICKHOUSE]
    rows = await queries.articles(ch, sel, sort=sort, limit=limit, offset=(page - 1) * limit)
    readers = await presence.readers_now(
        _redis(request), site, [article for article, _, _ in rows], _now(request)
    )
    metrics = [METRICS[name] for name in ARTICLE_METRICS]
    results = [
        {"article_id": article, "title": title, **compute(metrics, numbers), "readers": now}
        for (article, title, numbers), now in zip(rows, readers, strict=True)
    ]
    if as_csv:
        columns = ["article_id", "title", *ARTICLE_METRICS, "readers"]
        return csv_response(columns, results, "articles.csv")
    return json_response({"results": results})


async def article(request: web.Request) -> web.Response:
    """One article: its totals, its time series, where its readers came from, readers now."""
    site = await _site(request)
    article_id = request.match_info["article"]
    query = request.query
    period = parse_period(query, site.timezone, _now(request))
    sel = Selection(site.domain, period.range)
    ch = request.app[appkeys.CLICKHOUSE]
    metrics = [METRICS[name] for name in ARTICLE_METRICS]
    title, totals, buckets = await queries.article_overview(ch, sel, article_id, period.interval)
    sources = await queries.article_sources(ch, sel, article_id, SOURCES_LIMIT)
    (readers,) = await presence.readers_now(_redis(request), site, [article_id], _now(request))
    empty = dict.fromkeys(queries.ARTICLE_QUANTITIES, 0.0)
    return json_response(
        {
            "article_id": article_id,
            "title": title,
            "readers": readers,
            "totals": compute(metrics, totals),
            "results": [
                {"date": label, **compute(metrics, buckets.get(label, empty))}
                for label in period.range.buckets(period.interval)
            ],
            "sources": [
                {"source": source, "visitors": visitors, "pageviews": pageviews}
                for source, visitors, pageviews in sources
            ],
        }
    )


# Parameters ------------------------------------------------------------------


async def _site(request: web.Request) -> Site:
    site_id = request.query.get("site_id", "").strip()
    await authorize(request, "stats:read", normalize_domain(site_id) if site_id else None)
    if not site_id:
        raise ApiError(400, MISSING_SITE)
    site = await request.app[appkeys.SITES].mirrored(site_id)
    if site is None:
        raise ApiError(404, UNKNOWN_SITE)
    return site


def _metrics(
    query: Mapping[str, str], filters: list[Filter], prop: Property | None
) -> list[Metric]:
    """The `metrics` parameter, refused where Plausible refuses it."""
    metrics = parse_metrics(query.get("metrics"))
    filtered = {f.property.name for f in filters}
    for m in metrics:
        if m.name == "views_per_visit" and "event:page" in filtered:
            raise ApiError(
                400, "Metric `views_per_visit` cannot be queried with a filter on `event:page`."
            )
        if m.name == "views_per_visit" and prop is not None:
            raise ApiError(400, "Metric `views_per_visit` is not supported in breakdown queries.")
        if m.name in SESSION_METRICS and prop is not None and prop.name == "event:name":
            raise ApiError(
                400, f"Session metric `{m.name}` cannot be queried for breakdown by `event:name`."
            )
        if m.name in SESSION_METRICS and "event:name" in filtered:
            raise ApiError(
                400,
                f"Session metric `{m.name}` cannot be queried when using a filter on `event:name`.",
            )
    return metrics


def _compare(query: Mapping[str, str]) -> bool:
    compare = query.get("compare")
    if compare is None:
        return False
    if compare != "previous_period":
        raise ApiError(
            400,
            f"Error parsing `compare` parameter: invalid value `{compare}`. "
            "The one accepted value is `previous_period`.",
        )
    return True


def _paging(query: Mapping[str, str]) -> tuple[int, int]:
    limit = _positive(query.get("limit", str(DEFAULT_LIMIT)))
    if limit is None or limit > MAX_LIMIT:
        raise ApiError(400, f"Please provide limit as a number between 1 and {MAX_LIMIT}.")
    page = _positive(query.get("page", "1"))
    if page is None:
        raise ApiError(400, "Please provide page as a positive number.")
    return limit, page


def _positive(text: str) -> int | None:
    # Plausible's Integer.parse: an optional sign and digits, nothing else.
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(text) > 12:
        return None
    number = int(text)
    return number if number > 0 else None


def _wants_csv(request: web.Request) -> bool:
    fmt = request.query.get("format")
    if fmt is not None and fmt not in ("json", "csv"):
        raise ApiError(400, f"Invalid `format` '{fmt}': use json or csv.")
    return fmt == "csv" or (fmt is None and "text/csv" in request.headers.get("Accept", ""))


def _now(request: web.Request) -> int:
    return request.app.get(appkeys.CLOCK, system_clock)()


def _redis(request: web.Request):  # type: ignore[no-untyped-def]
    return request.app[appkeys.REDIS]
