"""A click on a page row filters the page by that page (`event:page==<path>`): its cards,
chart, breakdowns and top articles read the closed days' counts by page, and answer
exactly as raw events do, before the days close and after.

The data is test_stats_api's scripted stretch around a site's midnight, with the
visits test_visit_filters adds (`scripted_returns`): a page read twice by one visitor,
a page of no article (the home page), a custom event on a page.
"""

from __future__ import annotations

import datetime as dt

from dashboard import queries
from dashboard.filters import parse_filters
from dashboard.periods import DateRange
from dashboard.properties import PROPERTIES
from dashboard.queries import Selection, plan
from footfall.closed_counts import BY_PAGE, PAGE, PAGE_KINDS, PAIRED, paired
from footfall.connections import AsyncClickHouse
from tests.helpers import Recording
from tests.test_stats_api import A1, C3, SITE
from tests.test_visit_filters import (
    COUNTED,
    NOVEMBER_CLOSED,
    _assert_site_equals_raw,
    scripted_returns,
)

PERIODS = (
    ("2023-11-15", "2023-11-15"),
    ("2023-11-10", "2023-11-16"),
    ("2023-11-01", "2023-11-30"),
)
ON_PAGE_KINDS = {paired(kind, PAGE) for kind in PAGE_KINDS}
PAGES_PAIRED = {paired(PAGE, name) for name in PAIRED}
KEPT = (*PAIRED, *BY_PAGE)
PAGE_QUANTITIES = ["visitors", "visits", "pageviews", "engaged_ms"]
"""What the counts of a page's events answer, by page or by a paired property."""
PAGES = (A1, C3, "/")
"""A page read twice by a visitor, one with a custom event, one of no article."""
FILTERS = (
    *(f"event:page=={path}" for path in PAGES),
    f"event:page=={A1}|{C3}",
    "event:page==/tin-tuc/**",
    f"event:page!={A1}",
)
"""A filter on one page (what a click on its row sets), and some the counts cannot answer."""


BY = [
    *(("event:page", q) for q in (PAGE_QUANTITIES, COUNTED)),
    *((p.name, PAGE_QUANTITIES) for p in PROPERTIES.values() if p.in_visits in KEPT),
    ("visit:source", COUNTED),
    ("visit:exit_page", PAGE_QUANTITIES),
]
"""The breakdowns checked: by page and by each property kept with pages, with what the
counts answer, and some they do not (bounces, exit pages)."""


async def _assert_page_equals_raw(fast: Recording, raw: AsyncClickHouse, sel: Selection):
    await _assert_site_equals_raw(fast, raw, sel, COUNTED)
    kwargs = {"order_by": "visitors", "limit": 100, "offset": 0}
    for name, quantities in BY:
        prop = PROPERTIES[name]
        assert await queries.breakdown(fast, sel, prop, quantities, **kwargs) == (
            await queries.breakdown(raw, sel, prop, quantities, raw=True, **kwargs)
        ), (name, quantities)
    for sort in ("pageviews", "visitors", "visits"):
        kwargs = {"sort": sort, "limit": 100, "offset": 0}
        assert await queries.articles(fast, sel, **kwargs) == (
            await queries.articles(raw, sel, raw=True, **kwargs)
        ), sort


async def test_a_filter_on_one_page_reads_its_closed_days_counts_and_answers_as_raw_events(
    client, add_site, clock, ch, aggregator
):
    # Nepal (+5:45): the counts are of site-local days, whatever the offset.
    timezone = "Asia/Kathmandu"
    await add_site(SITE, timezone=timezone)
    await scripted_returns(client, clock, aggregator)
    raw = AsyncClickHouse(ch)
    for closed in (False, True):
        if closed:
            clock.now_ms = NOVEMBER_CLOSED
            while await aggregator.close_due():
                pass
        for first, last in PERIODS:
            period = DateRange(dt.date.fromisoformat(first), dt.date.fromisoformat(last), timezone)
            for text in FILTERS if closed else FILTERS[: len(PAGES)]:
                fast = Recording(ch)
                sel = Selection(SITE, period, tuple(parse_filters(text)))
                await _assert_page_equals_raw(fast, raw, sel)
                kinds = {params.get("kind") for _, params in fast.calls}
                if not closed or plan.paired(sel) is None:
                    # Open days: the page's events; the others: raw events alone.
                    assert not kinds & (ON_PAGE_KINDS | PAGES_PAIRED), (text, closed)
                    continue
                # The cards, chart, page breakdown and articles read the page's counts; a
                # breakdown by a paired property, the pages' paired counts by their page.
                assert kinds >= ON_PAGE_KINDS | PAGES_PAIRED, text
                counted = [params for _, params in fast.calls if params.get("kind")]
                read = {day for params in counted for day in params.get("open_days", [])}
                assert all(day < dt.date(2023, 11, 15) for day in read), text


def test_only_a_filter_on_one_whole_page_reads_the_counts():
    period = DateRange(dt.date(2023, 11, 1), dt.date(2023, 11, 30), "Asia/Ho_Chi_Minh")
    found = {text: plan.paired(Selection(SITE, period, tuple(parse_filters(text))))
             for text in FILTERS}  # fmt: skip
    assert [text for text, only in found.items() if only is not None] == list(FILTERS[:3])
