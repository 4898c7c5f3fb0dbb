"""The one registry of the Stats API's metrics: name, definition, and how each is computed.

A metric is computed in Python from a few *quantities* (visitors, page views,
visits, bounces...), and each quantity says how ClickHouse sums or merges it:
from each rollup that has it, and from raw `events`, either over event rows
or over the period's visits (one row per visit, see `queries`). A query asks
for the quantities its metrics need; the rollup that has them all answers,
else raw events. `docs/stats-api.md` lists these metrics with these very
definitions (a test compares them).

A visit belongs to the period it started in (as `site_hourly` counts it):
visits, bounces and durations are those of visits that started in the period.
When a query is about pages (an `event:page` breakdown or filter, articles),
visitors are those who viewed the page and visits those that viewed it.
Distinct counts (visitors; visits of a page) are counted per site-local day and
summed over the period's days: the same number, as no id is on two days, and
exact per day up to uniq's 65,536.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from footfall.web import ApiError

SITE_HOURLY = "site_hourly"
SITE_DAILY = "site_daily"
"""`site_visitors`' day rows: a site's visitors and sums per site-local day (0017)."""
PAGE_BREAKDOWN = "breakdown_stats:page"
VISIT_BREAKDOWN = "breakdown_stats:visit"
VISIT_EXITS = "visits:exit"
"""The `visits` table by exit page, its closed days from their counts (visitors, visits)."""
VISITS = "visits"
"""The `visits` table, a row per visit (0018): a site's numbers under visit filters."""
PAIRED = "closed_counts:paired"
"""Under a filter on one value of a paired property (`footfall.closed_counts.PAIRED`: a
source, a country, a device...): the pages' and articles' paired counts of
closed days (`footfall.closed_counts.paired`), the open days' events of the visits that
pass, by their stamped property."""
PAIRED_VISITS = "closed_counts:paired visits"
"""Under a filter on one value of a paired property, a site's totals and time series by day or
month, and its breakdowns by a visit property: the closed days' paired counts of visits,
the open days' rows of `visits` that pass."""
ONE_PAGE = "closed_counts:one page"
"""Under a filter on one page, a site's totals and time series by day or month, and its
breakdown by page: the closed days' counts by page (`footfall.closed_counts.PAGE_KINDS`),
the open days' events on the page, each with its visit's row of `visits`."""
ARTICLE_STATS = "article_stats"
ARTICLE_SOURCES = "article_sources"
METRICS_DOCS = "https://plausible.io/docs/stats-api#metrics"


@dataclass(frozen=True)
class Quantity:
    """A number metrics are computed from; each SQL expression aggregates rows of its source."""

    name: str
    events_sql: str | None = None
    """Over raw event rows of the period (None: over visits)."""
    visits_sql: str | None = None
    """Over the period's visits: columns `v_pageviews`, `v_duration_ms` per visit."""
    pages_sql: str | None = None
    """Over raw event rows, replacing the above when the query is about pages."""
    page_views_only: bool = False
    """Whether its SQL about pages counts page-view rows alone: a query of such quantities
    may read those rows only (`PAGE_VIEWS`, the second sorting column after the day)."""
    rollups: Mapping[str, str] = field(default_factory=dict)
    """Per rollup, how its rows are summed."""
    daily: Mapping[str, str] = field(default_factory=dict)
    """Per rollup, how it is counted over one day's rows: a count of distinct ids of a
    day (ids change at the site's midnight), summed over days (dashboard/closed_days.py)."""

    @property
    def distinct(self) -> bool:
        """Whether it counts distinct ids, per day then summed (`daily`); else it adds up
        over any rows."""
        return bool(self.daily)

    def answers(self, rollup: str) -> bool:
        return rollup in self.rollups or rollup in self.daily

    def of_day(self, rollup: str) -> str:
        """Its SQL over the rows of one day (or hour) of the rollup."""
        return self.daily.get(rollup) or self.rollups[rollup]

    def raw(self, on_pages: bool) -> tuple[str, str]:
        """("events" or "visits", SQL): which rows it is computed over, and how."""
        if on_pages and self.pages_sql:
            return "events", self.pages_sql
        if self.events_sql:
            return "events", self.events_sql
        assert self.visits_sql is not None
        return "visits", self.visits_sql


PAGE_VIEWS = "type = 'pageview'"
"""The page-view rows of raw events."""
_VIEWED_IN_VISIT = "type != 'engagement' AND visit_start > 0"
"""The event rows that make a page viewed in their visit (`ONE_PAGE`'s open days)."""

QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in (
        Quantity(
            "visitors",
            events_sql="uniq(visitor_id)",
            pages_sql="uniqIf(visitor_id, type = 'pageview')",
            page_views_only=True,
            daily={
                SITE_HOURLY: "uniqMerge(visitors)",
                SITE_DAILY: "uniqMerge(visitors)",
                PAGE_BREAKDOWN: "uniqMerge(visitors)",
                VISIT_BREAKDOWN: "uniqMerge(visitors)",
                VISIT_EXITS: "uniq(visitor_id)",
                VISITS: "uniq(visitor_id)",
                ARTICLE_STATS: "uniqMerge(visitors)",
                ARTICLE_SOURCES: "uniqMerge(visitors)",
                PAIRED: "uniqIf(visitor_id, type = 'pageview')",
                PAIRED_VISITS: "uniq(visitor_id)",
                ONE_PAGE: "uniqIf(visitor_id, type = 'pageview')",
            },
        ),
        Quantity(
            "pageviews",
            events_sql="countIf(type = 'pageview')",
            page_views_only=True,
            rollups={
                SITE_HOURLY: "sum(pageviews)",
                SITE_DAILY: "sum(pageviews)",
                PAGE_BREAKDOWN: "sum(pageviews)",
                VISITS: "sum(pageviews)",
                ARTICLE_STATS: "sum(pageviews)",
                ARTICLE_SOURCES: "sum(pageviews)",
                PAIRED: "countIf(type = 'pageview')",
                PAIRED_VISITS: "sum(pageviews)",
                ONE_PAGE: "countIf(type = 'pageview')",
            },
        ),
        Quantity(
            "events",
            events_sql="countIf(type != 'engagement')",
            rollups={SITE_HOURLY: "sum(events)", SITE_DAILY: "sum(events)", VISITS: "sum(events)"},
        ),
        Quantity(
            "engaged_ms",
            events_sql="sum(engaged_ms)",
            rollups={
                SITE_HOURLY: "sum(engaged_ms)",
                SITE_DAILY: "sum(engaged_ms)",
                ARTICLE_STATS: "sum(engaged_ms)",
                VISITS: "sum(engaged_ms)",
                PAIRED: "sum(engaged_ms)",
                PAIRED_VISITS: "sum(engaged_ms)",
                ONE_PAGE: "sum(engaged_ms)",
            },
        ),
        Quantity(
            "visits",
            visits_sql="count()",
            pages_sql="uniqIf(visitor_id, visit_start, type = 'pageview' AND visit_start > 0)",
            page_views_only=True,
            rollups={
                SITE_HOURLY: "sum(visits)",
                SITE_DAILY: "sum(visits)",
                VISIT_BREAKDOWN: "sum(visits)",
                VISIT_EXITS: "count()",
                VISITS: "count()",
                PAIRED_VISITS: "count()",
            },
            daily={
                ARTICLE_STATS: "uniqMerge(visits)",
                PAIRED: "uniqIf(visitor_id, visit_start, type = 'pageview' AND visit_start > 0)",
                ONE_PAGE: "uniqIf(visitor_id, visit_start, type = 'pageview' AND visit_start > 0)",
            },
        ),
        # The visits bounce rate and duration are averaged over: those that started in
        # the period, or, in a page breakdown, those that entered on the page.
        Quantity(
            "entries",
            visits_sql="count()",
            rollups={
                SITE_HOURLY: "sum(visits)",
                SITE_DAILY: "sum(visits)",
                VISITS: "count()",
                PAIRED_VISITS: "count()",
            },
            daily={ONE_PAGE: f"uniqIf(visitor_id, visit_start, {_VIEWED_IN_VISIT})"},
        ),
        Quantity(
            "bounces",
            visits_sql="countIf(v_pageviews = 1)",
            rollups={
                SITE_HOURLY: "sum(bounces)",
                SITE_DAILY: "sum(bounces)",
                VISITS: "countIf(pageviews = 1)",
                PAIRED_VISITS: "countIf(pageviews = 1)",
            },
            daily={
                ONE_PAGE: f"uniqIf(visitor_id, visit_start, {_VIEWED_IN_VISIT} AND v_pageviews = 1)"
            },
        ),
        Quantity(
            "duration_ms",
            visits_sql="sum(v_duration_ms)",
            rollups={
                SITE_HOURLY: "sum(visit_duration_ms)",
                SITE_DAILY: "sum(visit_duration_ms)",
                VISITS: "sum(duration_ms)",
                PAIRED_VISITS: "sum(duration_ms)",
                # Each visit's duration once, however many of its events are on the page.
                ONE_PAGE: "arraySum(v -> v.3, "
                f"groupUniqArrayIf((visitor_id, visit_start, v_duration_ms), {_VIEWED_IN_VISIT}))",
            },
        ),
    )
}

Numbers = Mapping[str, float]


@dataclass(frozen=True)
class Metric:
    name: str
    definition: str
    needs: tuple[str, ...]
    compute: Callable[[Numbers], int | float]


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def round_half_up(x: float, digits: int = 0) -> int | float:
    """Plausible's rounding (Elixir's `round`): halves away from zero, not to even."""
    scale = 10**digits
    rounded = math.floor(abs(x) * scale + 0.5) / scale
    rounded = math.copysign(rounded, x)
    return int(rounded) if digits == 0 else rounded


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "visitors",
            "Unique visitors: distinct visitor ids with any event in the period. Ids change "
            "at the site's midnight, so over several days these are the sum of each day's.",
            ("visitors",),
            lambda n: int(n["visitors"]),
        ),
        Metric(
            "visits",
            "Visits (sessions) that started in the period; a visit ends after 30 minutes "
            "without events, or at the site's midnight.",
            ("visits",),
            lambda n: int(n["visits"]),
        ),
        Metric(
            "pageviews",
            "Page views in the period.",
            ("pageviews",),
            lambda n: int(n["pageviews"]),
        ),
        Metric(
            "views_per_visit",
            "Page views divided by visits, rounded to 2 decimals.",
            ("pageviews", "visits"),
            lambda n: round_half_up(_ratio(n["pageviews"], n["visits"]), 2),
        ),
        Metric(
            "bounce_rate",
            "Percent of visits with a single page view, as a whole number.",
            ("bounces", "entries"),
            lambda n: round_half_up(100 * _ratio(n["bounces"], n["entries"])),
        ),
        Metric(
            "visit_duration",
            "Mean visit duration in seconds, rounded: from a visit's first event to its last.",
            ("duration_ms", "entries"),
            lambda n: round_half_up(_ratio(n["duration_ms"], n["entries"]) / 1000),
        ),
        Metric(
            "events",
            "Page views and custom events in the period (engagement events are not counted).",
            ("events",),
            lambda n: int(n["events"]),
        ),
        Metric(
            "engaged_time",
            "Mean engaged time per visitor in seconds, rounded: time the page was visible "
            "and in use, as the snippet's engagement events report it.",
            ("engaged_ms", "visitors"),
            lambda n: round_half_up(_ratio(n["engaged_ms"], n["visitors"]) / 1000),
        ),
    )
}

ARTICLE_METRICS = ("pageviews", "visits", "visitors", "engaged_time")
"""What the articles endpoints report per article (besides readers now)."""


def parse_metrics(text: str | None) -> list[Metric]:
    """The `metrics` parameter (default `visitors`); Plausible's errors."""
    names = (text if text is not None else "visitors").split(",")
    if len(names) != len(set(names)):
        raise ApiError(400, "Metrics cannot be queried multiple times.")
    for name in names:
        if name not in METRICS:
            raise ApiError(
                400,
                f"The metric `{name}` is not recognized. Find valid metrics from the "
                f"documentation: {METRICS_DOCS}",
            )
    return [METRICS[name] for name in names]


def quantities_of(metrics: list[Metric]) -> list[str]:
    """The quantities the metrics need, each once, in a stable order."""
    return list(dict.fromkeys(q for m in metrics for q in m.needs))


def compute(metrics: list[Metric], numbers: Numbers) -> dict[str, int | float]:
    return {m.name: m.compute(numbers) for m in metrics}


def change(metric: Metric, previous: int | float, current: int | float) -> int | float | None:
    """Plausible's `change`: percent (rounded), or percentage points for bounce_rate."""
    if metric.name == "bounce_rate":
        return current - previous if previous > 0 else None
    if previous == 0:
        return 100 if current > 0 else 0
    return round_half_up((current - previous) / previous * 100)
