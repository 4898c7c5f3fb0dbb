"""The counts of a site's closed days (`closed_counts`): their kinds, and which are closed.

The aggregator closes days (aggregator/closing.py) and the dashboard reads their
counts (dashboard/closed_days.py); both ask this, and each reads the table with its
own SQL. Migration 0013 says what each kind's rows hold (0015, those of `TOP_ARTICLES`;
0020, the paired kinds, `paired`; 0022, those by page, `PAGE_KINDS`; 0023, the
articles' by `BY_PAGE`; 0024, the visits' by `BY_PAGE`; 0025, `PAGES_KEYED`; 0026,
those among the visits of each exit page, `CLICKED`): of the
numbers in `QUANTITIES`, every one its rollup answers (the site's, visitors only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from footfall import visit_rows

SITE = "site"
ARTICLE = "article"
"""An article's numbers, `key` the article."""
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
"""A day's or span's marker, one per closing."""
PAGE = "page"
"""A page's numbers (`value` the path), as every property of `breakdown_stats` is kept; as
the property kinds are paired with (`paired(kind, PAGE)`, `key` the path), what a filter
on one page counts (`PAGE_KINDS`)."""
PAIRED = ("source_name", "country", "device", "browser", "os")
"""The visit properties (of `footfall.visit_rows`: columns of `visits`, stamped on the
events) that pages', articles' and the other visit properties' numbers are also kept
by: the most clicked filters of the dashboard (a source, a country, a device, a browser,
an OS) read a breakdown's numbers among the visits of one value from these, not from
every visit or event that passes (migrations 0020, 0021). Each has few values, which
bounds the rows its pairs add."""
BY_PAGE = (
    "referrer_host", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
    "entry_page",
)  # fmt: skip
"""The visit properties the dashboard's panels show but `PAIRED` (a referrer, a UTM tag, an
entry page; stamped on the events): kept by page (`PAGE_KINDS`), and the articles'
numbers among the visits of each value (`paired(ARTICLES, name)`, migration 0023), as
the site's and those of each value of `PAIRED` and of itself (`paired_among`, 0024).
Under a filter on one value, a breakdown by page reads the first by their `value` (an
entry page's, `PAGES_KEYED`, by `key`), the top articles the second, the cards, chart
and breakdowns by `PAIRED` the third; the `visits` table answers the breakdowns by the
other properties of `BY_PAGE` and the exit page, whose many values would multiply the
rows kept."""
CLICKED = (*PAIRED, *BY_PAGE, EXIT_PAGE)
"""The visit properties whose numbers closed days keep among the visits of each of their
values, so that a click on one value (a filter) reads them: `PAIRED`, `BY_PAGE`, and the
exit page (migration 0026), which is not stamped on the events (not known while the
visit goes on): the closing joins them to their visit's row, kept as `BY_PAGE`'s are."""
PAGES_KEYED = ("entry_page", EXIT_PAGE)
"""Of `BY_PAGE` and the exit page, the properties whose pages' numbers are kept `key` the
property's value too (`paired(PAGE, name)`, as `PAIRED`'s are; migrations 0025, 0026):
the same rows as by page, the other way round. Under a filter on one entry page, its
breakdown by page reads them by `key`, where its rows by page (`value` the entry page)
are every visit's pair of entry and page (a 12-month period's, 3.6 M on the 10 M bench:
440 ms)."""
PAGE_KINDS = (SITE, ARTICLES, *BY_PAGE, EXIT_PAGE)
"""The kinds also kept paired with each page (`paired(kind, PAGE)`, migration 0022), as a
filter on it counts them: the site's numbers of the page's events (visitors, visits,
page views, engaged time), with the entries, bounces and durations of the visits that
started on the day and viewed it; the same numbers of each article on it, and of each
value of each property of `BY_PAGE`, and each exit page, among its visits. Under that
filter, a breakdown by a property of `PAIRED` reads the pages' paired kinds
(`paired(PAGE, name)`) by their `value`, the page."""
VISIT_PROPERTIES = (*visit_rows.STAMPED, EXIT_PAGE)
"""The visit properties whose numbers are kept paired (`visits`' columns, and its exit
page): visitors, visits and page views of the visits with each value."""
QUANTITIES = ("visitors", "visits", "pageviews", "engaged_ms", "entries", "bounces", "duration_ms")
"""The numbers a row holds, in columns of the same names (the last three, only the paired
counts of visits: 0 in the others)."""


CALENDAR_SPANS = ("week", "month", "quarter")
"""Spans a closing writes with their last day: the sums of each week (Monday to Sunday),
calendar month and quarter."""
MONTH_RUNS = {"11mo": 11, "5mo": 5}
"""Runs of whole months, by span (the longest first): how many. The whole months of a
`6mo` and a `12mo` period that ends in the current month (the dashboard's longest): one
span's rows to read instead of two to five quarters' and months'. A run is closed once
every one of its months is, from their sums (aggregator/closing.py, `close_runs`)."""
SPANS = ("day", *CALENDAR_SPANS, *MONTH_RUNS)
"""What rows closings write: the days', and the spans' sums. A query reads a period in
the longest spans that fit it."""


def paired_among(name: str) -> tuple[str, ...]:
    """The visit properties (of `VISIT_PROPERTIES`) whose visitors, visits and page views
    are kept among the visits of each value of `name` (of `CLICKED`), as the site's are
    (`paired(SITE, name)`): every one of them for `PAIRED`; for `BY_PAGE` and the exit
    page, those of `PAIRED` and `name` itself (a breakdown by the filter's own property)."""
    if name in PAIRED:
        return VISIT_PROPERTIES
    assert name in CLICKED, name
    return (*PAIRED, name)


def paired(kind: str, name: str) -> str:
    """The kind of `kind`'s rows among the visits of each value of the visit property `name`
    (`kind` `SITE`, `ARTICLES`, one of `paired_among(name)`, and `PAGE` where
    `pages_keyed(name)`), or of one of `PAGE_KINDS` by page (`name` `PAGE`): `key` that
    property's value (the path), `value` the page, the article or the other property's
    value."""
    return f"{kind}:{name}"


def pages_keyed(name: str) -> bool:
    """Whether the pages' numbers among the visits of each value of the visit property
    `name` are kept `key` that value (`paired(PAGE, name)`): those of `PAIRED` and
    `PAGES_KEYED`. The others of `BY_PAGE` keep them by page alone."""
    return name in PAIRED or name in PAGES_KEYED


def span_start(span: str, day: dt.date) -> dt.date:
    """The first day of the day or calendar span that `day` is in."""
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
    months = {"month": 1, "quarter": 3, **MONTH_RUNS}.get(span)
    if months is None:
        return start
    return add_months(start, months) - dt.timedelta(days=1)


def starts_containing(span: str, day: dt.date) -> list[dt.date]:
    """The first days of the `span`s that `day` is in: one, but a run of months is in as
    many as it has months."""
    months = MONTH_RUNS.get(span)
    if months is None:
        return [span_start(span, day)]
    return [add_months(day.replace(day=1), -n) for n in range(months)]


def add_months(first: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after (or before) the one starting on `first`."""
    year, month = divmod(first.month - 1 + months, 12)
    return dt.date(first.year + year, month + 1, 1)


@dataclass(frozen=True)
class Closed:
    """A site's closed days, weeks, months, quarters and runs of months (by first day),
    each with its latest closing's version: its counts are the rows of that version (a
    closing cut short leaves rows of its own, and no marker)."""

    days: dict[dt.date, dt.datetime] = field(default_factory=dict)
    weeks: dict[dt.date, dt.datetime] = field(default_factory=dict)
    months: dict[dt.date, dt.datetime] = field(default_factory=dict)
    quarters: dict[dt.date, dt.datetime] = field(default_factory=dict)
    runs: dict[str, dict[dt.date, dt.datetime]] = field(default_factory=dict)
    """By span of `MONTH_RUNS`."""

    def of(self, span: str) -> dict[dt.date, dt.datetime]:
        """The closed `span`s, by first day."""
        if span in MONTH_RUNS:
            return self.runs.get(span, {})
        return {
            "day": self.days, "week": self.weeks, "month": self.months, "quarter": self.quarters,
        }[span]  # fmt: skip

    @property
    def through(self) -> dt.date | None:
        """The last closed day. Closings go oldest first from the site's first day, and a
        day before it that gets events later (an import) is closed then."""
        return max(self.days, default=None)


def closed_from(rows: list[tuple]) -> Closed:
    """The closed days and spans of a site from its `closed` markers' rows: (span, date,
    the latest version), one per span and date. The aggregator (the table's writer) reads
    them to know what to close, the dashboard to plan its reads."""
    spans: dict[str, dict[dt.date, dt.datetime]] = {span: {} for span in SPANS}
    for span, date, version in rows:
        spans[span][date] = version
    runs = {span: spans[span] for span in MONTH_RUNS}
    return Closed(spans["day"], spans["week"], spans["month"], spans["quarter"], runs)
