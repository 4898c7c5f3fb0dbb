"""A filter on a visit's property (a click on a source, a country, an entry page...) reads
the `visits` table, a row per visit, and answers exactly as raw events do.

The data is test_stats_api's scripted stretch around a site's midnight: six visits of
four people, one of them cut at midnight, with sources, UTM tags, an engagement and a
custom event.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aggregator.backfills import stamp_visits
from aggregator.schema import migrations
from dashboard import queries
from dashboard.filters import parse_filters
from dashboard.periods import DateRange
from dashboard.properties import PROPERTIES
from dashboard.queries import Selection, plan
from dashboard.sql.days import visit_kind
from footfall import visit_rows
from footfall.closed_counts import (
    ARTICLES,
    BY_PAGE,
    EXIT_PAGE,
    PAGE,
    PAIRED,
    VISIT_PROPERTIES,
    pages_keyed,
    paired,
    paired_among,
)
from footfall.connections import AsyncClickHouse
from tests.helpers import Recording
from tests.test_stats_api import (
    A1,
    B2,
    C3,
    D4,
    GOOGLE,
    SITE,
    SITE_QUANTITIES,
    TZ,
    V3,
    V4,
    at,
    internal,
    page,
    scripted_midnight,
    send,
)

VISIT_PROPERTIES_OF_API = [p for p in PROPERTIES.values() if p.is_visit]
RANGES = (
    ("2023-11-15", "2023-11-15"),
    ("2023-11-10", "2023-11-16"),
)
BY = ["visit:source", "visit:country", "visit:exit_page", "event:page"]
"""The breakdowns each filter is checked with (every visit property's: one filter below)."""
MORE_FILTERS = (
    "visit:source!=Google",
    "visit:source==Google|Facebook",
    "visit:entry_page==/tin-tuc/**",
    "visit:exit_page==/tin-tuc/b-*.html",
    "visit:source==Direct / None;visit:device==Desktop",
    "visit:utm_medium==email;visit:country!=VN",
)
NOVEMBER_CLOSED = 1_701_475_200_000  # 2023-12-02 00:00 UTC
PAIRED_OF = ("site", "page", "articles", *VISIT_PROPERTIES)
BY_PAGE_KINDS = {
    name: {
        paired(ARTICLES, name), paired("site", name),
        paired(PAGE, name) if pages_keyed(name) else paired(name, PAGE),
        *(paired(kind, name) for kind in paired_among(name)),
    }
    for name in (*BY_PAGE, EXIT_PAGE)
}  # fmt: skip
"""What a filter on one referrer, UTM tag, entry or exit page reads of the closed days'
counts."""
PAIRED_KINDS = {paired(kind, name) for kind in PAIRED_OF for name in PAIRED}.union(
    *BY_PAGE_KINDS.values()
)
FILTERS_OF_CLICKS = (
    "visit:source==Google",
    "visit:source==Direct / None",
    "visit:country==VN",
    "visit:device==Mobile",
    "visit:browser==Chrome",
    "visit:os==iOS",
    "visit:referrer==google.com",
    "visit:referrer==Direct / None",
    "visit:utm_source==newsletter",
    "visit:utm_medium==email",
    "visit:utm_campaign==nov",
    f"visit:entry_page=={A1}",
    f"visit:entry_page=={B2}",
    f"visit:exit_page=={A1}",
    f"visit:exit_page=={B2}",
    "visit:source==Google|Facebook",
    "visit:country!=VN",
    "visit:referrer==google.com|m.facebook.com",
    "visit:source==Google;visit:device==Desktop",
)
"""Filters on one source, country, device, browser or OS, referrer, UTM tag or entry page
(what a click on a row sets), and some that the paired counts cannot answer."""
CLICKED_BY_PAGE = {
    "referrer_host", "utm_source", "utm_medium", "utm_campaign", "entry_page", EXIT_PAGE,
}  # fmt: skip
COUNTED = ["visitors", "visits", "pageviews", "entries", "bounces", "duration_ms", "engaged_ms"]
"""What the paired counts of visits answer: the dashboard's cards (and panels: visitors)."""


@pytest.fixture
async def scripted(client, add_site, clock, aggregator) -> None:
    await add_site(SITE, timezone=TZ)
    await scripted_midnight(client, clock, aggregator)


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


async def scripted_returns(client, clock, aggregator) -> None:  # type: ignore[no-untyped-def]
    """`scripted_midnight`, then: V3 reads a-1 again in its day-B visit, V4 comes from
    Google again 40 minutes after its visit (a page's page views are not its visitors,
    nor a source's visits), then opens the home page, a page of no article."""
    await scripted_midnight(client, clock, aggregator)
    await at(clock, "17:34:00")
    await send(client, page(A1, V3, internal(D4), "Bão số 3 (cập nhật)"))
    await at(clock, "18:00:00")
    await send(client, page(C3, V4, GOOGLE, "Giá vàng"))
    await at(clock, "18:01:00")
    await send(client, page("/", V4, internal(C3), "Trang chủ"))
    assert await aggregator.drain() == 3


async def closed_through_november(  # type: ignore[no-untyped-def]
    client, add_site, clock, aggregator, timezone: str
) -> None:
    """`scripted_returns` on a site in `timezone`, every day closed by the aggregator."""
    await add_site(SITE, timezone=timezone)
    await scripted_returns(client, clock, aggregator)
    clock.now_ms = NOVEMBER_CLOSED
    while await aggregator.close_due():
        pass


async def _filters(raw: AsyncClickHouse, sel: Selection) -> list[str]:
    """A filter on the most common value of every visit property, and `MORE_FILTERS`."""
    found = []
    for prop in VISIT_PROPERTIES_OF_API:
        ranked = await queries.breakdown(
            raw, sel, prop, ["visitors"], order_by="visitors", limit=1, raw=True
        )
        found += [f"{prop.name}=={prop.label(value)}" for value, _ in ranked]
    return [*found, *MORE_FILTERS]


async def _assert_site_equals_raw(
    fast: Recording, raw: AsyncClickHouse, sel: Selection, quantities: list[str]
) -> None:
    """The site's `quantities`, alone and with the month before, and by hour (within a day),
    day and month, as raw events give them."""
    assert await queries.aggregate(fast, sel, quantities) == (
        await queries.aggregate(raw, sel, quantities, raw=True)
    )
    before = DateRange(
        _date("2023-10-01"), sel.range.first - dt.timedelta(days=1), sel.range.timezone
    )
    assert await queries.aggregate_compared(fast, sel, before, quantities) == (
        await queries.aggregate(raw, sel, quantities, raw=True),
        await queries.aggregate(raw, Selection(SITE, before, sel.filters), quantities, raw=True),
    )
    for interval in ("hour", "date", "month"):
        if interval == "hour" and sel.range.days > 1:
            continue
        assert await queries.timeseries(fast, sel, quantities, interval) == (
            await queries.timeseries(raw, sel, quantities, interval, raw=True)
        ), interval


async def _assert_filtered_equals_raw(fast: Recording, raw: AsyncClickHouse, sel: Selection):
    quantities = list(SITE_QUANTITIES)
    await _assert_site_equals_raw(fast, raw, sel, quantities)
    for name in BY:
        prop = PROPERTIES[name]
        wanted = ["visitors", "pageviews"] if name == "event:page" else quantities
        kwargs = {"order_by": "visitors", "limit": 100, "offset": 0}
        assert await queries.breakdown(fast, sel, prop, wanted, **kwargs) == (
            await queries.breakdown(raw, sel, prop, wanted, raw=True, **kwargs)
        ), name
    for sort in ("pageviews", "visitors", "visits"):
        kwargs = {"sort": sort, "limit": 100, "offset": 0}
        assert await queries.articles(fast, sel, **kwargs) == (
            await queries.articles(raw, sel, raw=True, **kwargs)
        ), sort


@pytest.mark.parametrize("timezone", [TZ, "Asia/Kolkata", "Asia/Kathmandu"])
async def test_every_visit_filter_reads_the_visits_table_and_answers_as_raw_events(
    client, add_site, clock, ch, aggregator, timezone
):
    await add_site(SITE, timezone=timezone)
    await scripted_midnight(client, clock, aggregator)
    raw = AsyncClickHouse(ch)
    for first, last in RANGES:
        period = DateRange(_date(first), _date(last), timezone)
        filters = await _filters(raw, Selection(SITE, period))
        assert len(filters) > len(VISIT_PROPERTIES_OF_API)
        for text in filters:
            fast = Recording(ch)
            sel = Selection(SITE, period, tuple(parse_filters(text)))
            await _assert_filtered_equals_raw(fast, raw, sel)
            # The visits that pass come from the table: none is grouped from the events.
            assert any("FROM visits FINAL" in sql for sql in fast.statements), text
            assert not any("GROUP BY visitor_id, visit_start" in sql for sql in fast.statements)
            # Pages and articles read the visit's properties on the events, but its exit:
            # the events join the visits that pass, or under one exit page (the paired
            # counts' road, but by hour), are those of the visits whose rows pass.
            joined = [sql for sql in fast.statements if "INNER JOIN period_visits" in sql]
            one_exit = "exit_page" in text and plan.paired(sel) is not None
            of_rows = [sql for sql in fast.statements if "visit_start) IN (SELECT" in sql]
            assert bool(of_rows) == one_exit, text
            if one_exit:
                assert all("%H:00:00" in sql for sql in joined), text
            else:
                assert bool(joined) == ("exit_page" in text), text


@pytest.mark.parametrize("first, last", [*RANGES, ("2023-11-01", "2023-11-30")])
@pytest.mark.parametrize("timezone", [TZ, "Asia/Kathmandu"])
async def test_breakdowns_and_articles_under_one_clicked_value_read_closed_days_paired_counts(
    client, add_site, clock, ch, aggregator, timezone, first, last
):
    await closed_through_november(client, add_site, clock, aggregator, timezone)
    raw, seen = AsyncClickHouse(ch), set()
    period = DateRange(_date(first), _date(last), timezone)
    for text in FILTERS_OF_CLICKS:
        fast = Recording(ch)
        sel = Selection(SITE, period, tuple(parse_filters(text)))
        await _assert_filtered_equals_raw(fast, raw, sel)
        await _assert_site_equals_raw(fast, raw, sel, COUNTED)
        for prop in VISIT_PROPERTIES_OF_API:
            kwargs = {"order_by": "visitors", "limit": 100, "offset": 0}
            assert await queries.breakdown(fast, sel, prop, COUNTED, **kwargs) == (
                await queries.breakdown(raw, sel, prop, COUNTED, raw=True, **kwargs)
            ), (text, prop.name)
        kinds = {params.get("kind") for _, params in fast.calls}
        one = plan.paired(sel)
        if one is None:
            assert not kinds & PAIRED_KINDS, text
            continue
        # Every day with visits is closed: the breakdowns and articles come from the
        # counts, and the days read otherwise are those before the first (never closed).
        # Of a referrer, a UTM tag, an entry or an exit page, all but the breakdowns by
        # the others of these.
        name = visit_kind(one.property)
        seen.add(name)
        if name in PAIRED:
            wanted = {paired(kind, name) for kind in PAIRED_OF}
        else:
            wanted = BY_PAGE_KINDS[name]
            assert any("FROM visits FINAL" in sql for sql in fast.statements), text
        assert kinds & PAIRED_KINDS == wanted, text
        counted = [params for _, params in fast.calls if params.get("kind") in PAIRED_KINDS]
        read = {day for params in counted for day in params.get("open_days", [])}
        assert all(day < _date("2023-11-15") for day in read), text
    assert seen == {*PAIRED, *CLICKED_BY_PAGE}


async def test_the_entry_page_migration_keys_closed_pages_by_entry_as_a_closing_does(
    client, add_site, clock, ch, aggregator
):
    await closed_through_november(client, add_site, clock, aggregator, TZ)
    keyed = (
        "SELECT span, date, key, value, visitors, visits, pageviews, engaged_ms, version "
        f"FROM closed_counts WHERE kind = '{paired(PAGE, 'entry_page')}' ORDER BY ALL"
    )
    closed = ch.query(keyed).result_rows
    assert {span for span, *_ in closed} >= {"day", "week", "month"}
    assert {(key, value) for _, _, key, value, *_ in closed} >= {(A1, A1), (A1, D4), (B2, B2)}
    # As before migration 0025: the closing kept the pages by entry page, `key` the page.
    ch.command(f"ALTER TABLE closed_counts DELETE WHERE kind = '{paired(PAGE, 'entry_page')}' "
               "SETTINGS mutations_sync = 2")  # fmt: skip
    (keyed_pages,) = [m for m in migrations() if m.version == 25]
    for statement in keyed_pages.statements:
        ch.command(statement)
    for statement in keyed_pages.statements:  # again, as after an interruption: no change
        ch.command(statement)
    assert ch.query(keyed).result_rows == closed


async def test_a_breakdown_by_every_visit_property_under_a_visit_filter_reads_only_visits(
    scripted, ch
):
    fast, raw = Recording(ch), AsyncClickHouse(ch)
    period = DateRange(_date("2023-11-10"), _date("2023-11-16"), TZ)
    sel = Selection(SITE, period, tuple(parse_filters("visit:device!=Mobile")))
    quantities = list(SITE_QUANTITIES)
    for prop in VISIT_PROPERTIES_OF_API:
        kwargs = {"order_by": "visits", "limit": 100, "offset": 0}
        assert await queries.breakdown(fast, sel, prop, quantities, **kwargs) == (
            await queries.breakdown(raw, sel, prop, quantities, raw=True, **kwargs)
        ), prop.name
    assert fast.statements
    assert all("FROM visits FINAL" in sql for sql in fast.statements)
    assert not any("FROM events" in sql for sql in fast.statements)


async def test_the_visits_table_holds_a_row_per_visit_with_its_entry_exit_and_sums(scripted, ch):
    rows = ch.query(
        "SELECT toString(visit_start), source_name, entry_page, substring(exit, 14), "
        "pageviews, events, engaged_ms, duration_ms FROM visits FINAL "
        "WHERE site = {site:String} ORDER BY visit_start",
        parameters={"site": SITE},
    ).result_rows
    assert rows == [
        ("2023-11-15 16:40:00.000", "Google", "/tin-tuc/a-1.html", "/tin-tuc/b-2.html",
         2, 2, 50_000, 120_000),
        ("2023-11-15 16:45:00.000", "Facebook", "/tin-tuc/a-1.html", "/tin-tuc/a-1.html",
         1, 1, 0, 0),
        ("2023-11-15 16:50:00.000", "newsletter", "/tin-tuc/c-3.html", "/tin-tuc/c-3.html",
         1, 2, 0, 300_000),
        ("2023-11-15 17:05:00.000", "", "/tin-tuc/b-2.html", "/tin-tuc/b-2.html", 1, 1, 0, 0),
        ("2023-11-15 17:20:00.000", "Google", "/tin-tuc/a-1.html", "/tin-tuc/a-1.html",
         1, 1, 0, 0),
        ("2023-11-15 17:30:00.000", "", "/tin-tuc/a-1.html", "/tin-tuc/d-4.html", 2, 2, 0, 60_000),
    ]  # fmt: skip


async def test_the_visits_migration_fills_the_visits_of_events_stored_before_it(scripted, ch):
    # As before migration 0018: no visits table, nothing in its place.
    ch.command("TRUNCATE TABLE visits")
    (visits,) = [m for m in migrations() if m.version == 18]
    for statement in visits.statements:
        ch.command(statement)
    for statement in visits.statements:  # run again, as after an interruption: no change
        ch.command(statement)

    clickhouse = AsyncClickHouse(ch)
    period = DateRange(_date("2023-11-10"), _date("2023-11-16"), TZ)
    for text in ("visit:source==Google", "visit:exit_page==/tin-tuc/b-2.html"):
        sel = Selection(SITE, period, tuple(parse_filters(text)))
        await _assert_filtered_equals_raw(Recording(ch), clickhouse, sel)
    ((visits_read,),) = ch.query("SELECT count() FROM visits FINAL").result_rows
    assert visits_read == 6


def _stamped_against_visits(ch) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """(events of visits, those whose stamped properties differ from their visit's row, those
    after the entry with a source stamped)."""
    differ = " OR ".join(f"e.{visit_rows.stamped(n)} != v.{n}" for n in visit_rows.STAMPED)
    (events, differing, sourced) = ch.query(
        f"SELECT count(), countIf({differ}), "
        "countIf(e.new_visit = 0 AND e.visit_source_name != '') "
        "FROM events AS e INNER JOIN (SELECT * FROM visits FINAL) AS v "
        "USING (site, visitor_id, visit_start)"
    ).result_rows[0]
    return events, differing, sourced


async def test_each_event_of_a_visit_carries_the_visits_properties_as_its_row_holds_them(
    scripted, ch
):
    events, differing, sourced = _stamped_against_visits(ch)
    assert events > 6 and differing == 0 and sourced > 0
    ((outside,),) = ch.query(
        "SELECT countIf(visit_entry_page != '') FROM events WHERE visit_start = 0"
    ).result_rows
    assert outside == 0


async def test_the_migration_stamps_the_events_stored_before_it(scripted, ch):
    stamped = ", ".join(visit_rows.stamped(n) for n in visit_rows.STAMPED)
    kept = f"SELECT stream_id, {stamped} FROM events ORDER BY stream_id"
    before = ch.query(kept).result_rows
    blank = ", ".join(f"{visit_rows.stamped(n)} = ''" for n in visit_rows.STAMPED)
    ch.command(f"ALTER TABLE events UPDATE {blank} WHERE 1 SETTINGS mutations_sync = 1")
    assert _stamped_against_visits(ch)[1] > 0

    stamp_visits(ch)
    stamp_visits(ch)  # again, as after an interruption: no change
    assert ch.query(kept).result_rows == before
    assert _stamped_against_visits(ch)[1] == 0


async def test_a_comparison_under_a_visit_filter_reads_both_periods_in_one_query(scripted, ch):
    fast, raw = Recording(ch), AsyncClickHouse(ch)
    now = DateRange(_date("2023-11-16"), _date("2023-11-16"), TZ)
    before = DateRange(_date("2023-11-15"), _date("2023-11-15"), TZ)
    filters = tuple(parse_filters("visit:device!=Mobile"))
    quantities = list(SITE_QUANTITIES)
    compared = await queries.aggregate_compared(
        fast, Selection(SITE, now, filters), before, quantities
    )
    assert compared == (
        await queries.aggregate(raw, Selection(SITE, now, filters), quantities, raw=True),
        await queries.aggregate(raw, Selection(SITE, before, filters), quantities, raw=True),
    )
    assert compared[0] != compared[1]
    assert len(fast.statements) == 1
