"""The counts of a site's closed days (`closed_counts`): their kinds, and which are closed.

The aggregator closes days (aggregator/closing.py) and the dashboard reads their
counts (dashboard/closed_days.py); both ask this. Migration 0013 says what each
kind's rows hold (0015, those of `TOP_ARTICLES`): of the numbers in `QUANTITIES`,
every one its rollup answers (the site's, visitors only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from footfall.connections import AsyncClickHouse

SITE = "site"
ARTICLE = "article"
"""An article's numbers, `key` the article: one article's rows are together."""
ARTICLES = "articles"
"""The same numbers, `value` the article: a period's rows of every article are together."""
TOP_ARTICLES = "top_articles"
"""Of each closed day and span, the `TOP` articles by page views, by visits and by
visitors (`value` the article; one row each): where a period's top articles are looked
for first (dashboard/top_articles.py)."""
TOP = 100
ARTICLE_SOURCE = "article_source"
EXIT_PAGE = "exit_page"
CLOSED = "closed"
"""A day's or month's marker, one per closing."""
QUANTITIES = ("visitors", "visits", "pageviews", "engaged_ms")
"""The numbers a row holds, in columns of the same names."""


SPANS = ("day", "week", "month", "quarter")
"""What rows a closing writes: its days', and the sums of each week (Monday to Sunday),
calendar month and quarter whose last day it closes. A query reads a period in the
longest spans that fit it."""


def span_start(span: str, day: dt.date) -> dt.date:
    """The first day of the `span` that `day` is in."""
    if span == "week":
        return day - dt.timedelta(days=day.weekday())
    if span == "month":
        return day.replace(day=1)
    if span == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day


def span_end(span: str, start: dt.date) -> dt.date:
    """The last day of the `span` that starts on `start`."""
    if span == "week":
        return start + dt.timedelta(days=6)
    months = {"month": 1, "quarter": 3}.get(span)
    if months is None:
        return start
    year, month = divmod(start.month - 1 + months, 12)
    return dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Closed:
    """A site's closed days, weeks, months and quarters (by first day), each with its
    latest closing's version, and those of them closed more than once, as (span, date)."""

    days: dict[dt.date, dt.datetime] = field(default_factory=dict)
    weeks: dict[dt.date, dt.datetime] = field(default_factory=dict)
    months: dict[dt.date, dt.datetime] = field(default_factory=dict)
    quarters: dict[dt.date, dt.datetime] = field(default_factory=dict)
    reclosed: frozenset[tuple[str, dt.date]] = frozenset()

    def of(self, span: str) -> dict[dt.date, dt.datetime]:
        """The closed `span`s, by first day."""
        return {
            "day": self.days, "week": self.weeks, "month": self.months, "quarter": self.quarters,
        }[span]  # fmt: skip

    @property
    def through(self) -> dt.date | None:
        """The last closed day. Closings go oldest first from the site's first day, and a
        day before it that gets events later (an import) is closed then."""
        return max(self.days, default=None)


async def closed(ch: AsyncClickHouse, site: str) -> Closed:
    rows = await ch.query(
        "SELECT span, date, max(version), count() FROM closed_counts "
        "WHERE site = {site:String} AND kind = {closed:String} GROUP BY span, date",
        {"site": site, "closed": CLOSED},
    )
    spans: dict[str, dict[dt.date, dt.datetime]] = {span: {} for span in SPANS}
    for span, date, version, _ in rows:
        spans[span][date] = version
    reclosed = frozenset((span, date) for span, date, _, closings in rows if closings > 1)
    return Closed(spans["day"], spans["week"], spans["month"], spans["quarter"], reclosed)
