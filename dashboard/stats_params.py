"""The Stats API's parameters: how each is read, and how the document describes it.

`read(request)` is every handler's first step: it authorizes (`stats:read` on
the site) and reads the parameters in Plausible's order (site, period and date
and interval, property, filters, metrics), so the first bad one is the one
reported, with Plausible's message, as `{"error": "..."}` and a 4xx. Each
handler then reads its own (compare, sort, limit, page, format) the same way.
Beside each reader stands its parameter in the OpenAPI document, its
enumerations and bounds taken from the same registries and constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import redis.asyncio
from aiohttp import web

from dashboard import appkeys
from dashboard.auth import authorize
from dashboard.filters import Filter, parse_filters
from dashboard.periods import (
    DEFAULT_PERIOD,
    FIRST_DATE,
    INTERVALS,
    LAST_DATE,
    MAX_HOURLY_DAYS,
    PERIODS,
    Period,
    parse_period,
)
from dashboard.properties import PROPERTIES, Property, breakdown_property
from dashboard.queries import Selection
from dashboard.stats_metrics import ARTICLE_METRICS, METRICS, Metric, parse_metrics
from footfall.clock import system_clock
from footfall.connections import AsyncClickHouse
from footfall.openapi import query
from footfall.sites import Site, normalize_domain
from footfall.web import ApiError

MISSING_SITE = "Missing site ID. Please provide the required site_id parameter with your request."
UNKNOWN_SITE = (
    "Invalid API key or site ID. Please make sure you're using a valid API key with access "
    "to the site you've requested."
)
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
SESSION_METRICS = ("visits", "bounce_rate", "visit_duration", "views_per_visit")
ARTICLE_SORTS = ARTICLE_METRICS
DEFAULT_SORT = "pageviews"


@dataclass(frozen=True)
class StatsRequest:
    """What every Stats handler reads first, and the stores it asks."""

    site: Site
    period: Period
    prop: Property | None
    filters: list[Filter]
    metrics: list[Metric]
    sel: Selection
    clickhouse: AsyncClickHouse
    redis: redis.asyncio.Redis
    now: int


async def read(
    request: web.Request, *, prop: bool = False, filters: bool = True, metrics: bool = True
) -> StatsRequest:
    """The site, the period, and (as the handler asks) the property, filters and metrics."""
    site = await site_of(request)
    query = request.query
    now = now_of(request)
    period = parse_period(query, site.timezone, now)
    prop_ = breakdown_property(query.get("property")) if prop else None
    filters_ = parse_filters(query.get("filters")) if filters else []
    metrics_ = _metrics(query, filters_, prop_) if metrics else []
    return StatsRequest(
        site=site,
        period=period,
        prop=prop_,
        filters=filters_,
        metrics=metrics_,
        sel=Selection(site.domain, period.range, tuple(filters_)),
        clickhouse=request.app[appkeys.CLICKHOUSE],
        redis=request.app[appkeys.REDIS],
        now=now,
    )


def now_of(request: web.Request) -> int:
    return request.app.get(appkeys.CLOCK, system_clock)()


async def site_of(request: web.Request) -> Site:
    """The `site_id` site, if the caller may read it."""
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


def compare(query: Mapping[str, str]) -> bool:
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


def sort(query: Mapping[str, str]) -> str:
    sort = query.get("sort", DEFAULT_SORT)
    if sort not in ARTICLE_SORTS:
        raise ApiError(400, f"Invalid `sort` '{sort}'. Sort by one of: {', '.join(ARTICLE_SORTS)}.")
    return sort


def paging(query: Mapping[str, str]) -> tuple[int, int]:
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


def wants_csv(request: web.Request) -> bool:
    fmt = request.query.get("format")
    if fmt is not None and fmt not in ("json", "csv"):
        raise ApiError(400, f"Invalid `format` '{fmt}': use json or csv.")
    return fmt == "csv" or (fmt is None and "text/csv" in request.headers.get("Accept", ""))


# -- as the document describes them ------------------------------------------------------------

SITE_ID = query("site_id", {"type": "string"}, "The site's domain.", required=True)
PERIOD = query(
    "period",
    {"enum": list(PERIODS), "default": DEFAULT_PERIOD},
    "Days in the site's timezone: `7d` is the date and 6 days before, `30d` the date and 30 "
    "before, `month`, `6mo`, `12mo` whole calendar months up to the date's.",
)
DATE = query(
    "date",
    {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}(,\d{4}-\d{2}-\d{2})?$"},
    "The period's last day, `YYYY-MM-DD` (default today, in the site's timezone); for "
    f"`custom`, the first and last: `YYYY-MM-DD,YYYY-MM-DD`. From {FIRST_DATE} to {LAST_DATE}.",
)
INTERVAL = query(
    "interval",
    {"enum": [*INTERVALS, "day"]},
    f"`hour` (periods up to {MAX_HOURLY_DAYS} days), `date` (or `day`), `month`; default "
    "`hour` for `day`, `month` for `6mo` and `12mo`, else `date`.",
)
_METRIC = "(" + "|".join(METRICS) + ")"
METRICS_PARAM = query(
    "metrics",
    {"type": "string", "pattern": f"^{_METRIC}(,{_METRIC})*$", "default": "visitors"},
    "Comma-separated, each once: " + ", ".join(f"`{m}`" for m in METRICS) + ".",
)
FILTERS = query(
    "filters",
    {"type": "string"},
    "`property==value` or `property!=value`, joined by `;`; `a|b` for either; `*` matches "
    "within a path segment, `**` anything. Properties as for `property`.",
)
PROPERTY = query(
    "property", {"enum": list(PROPERTIES)}, "What to break the numbers down by.", required=True
)
LIMIT = query(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "Rows per page.",
)
PAGE = query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number.")
FORMAT = query(
    "format",
    {"enum": ["json", "csv"], "default": "json"},
    "`csv` for a CSV file (so does `Accept: text/csv`).",
)
COMPARE = query(
    "compare",
    {"enum": ["previous_period"]},
    "Also answer the previous period's values (as many days as this period has up to today, "
    "just before it) and the change.",
)
SORT = query(
    "sort", {"enum": list(ARTICLE_SORTS), "default": DEFAULT_SORT}, "Largest first, by this."
)
PERIOD_PARAMS = (SITE_ID, PERIOD, DATE)
