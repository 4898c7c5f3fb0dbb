"""Closed days: the aggregator stores past days' visitors as counts, and closes a day again
when late events (an import) reach it; the Stats API's numbers stay those of raw events."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import types

import pytest

from aggregator import closing, consumer, schema, sql
from aggregator.closing import closed
from aggregator.consumer import Aggregator
from dashboard import closed_days, queries
from dashboard.periods import DateRange
from dashboard.properties import PROPERTIES
from dashboard.queries import Selection
from dashboard.stats_metrics import (
    ARTICLE_SOURCES,
    ARTICLE_STATS,
    PAGE_BREAKDOWN,
    PAIRED,
    PAIRED_VISITS,
    QUANTITIES,
    VISIT_BREAKDOWN,
    VISIT_EXITS,
)
from footfall import closed_counts, keys
from footfall.closed_counts import Closed
from footfall.connections import AsyncClickHouse, async_redis
from tests.helpers import Recording, add_page_views

SITE = "news.example"
TZ = "Asia/Ho_Chi_Minh"
NOV_1_UTC = 1_698_796_800_000  # 2023-11-01 00:00 UTC, 07:00 in Hà Nội
DAY_MS = 86_400_000


@pytest.fixture
async def site(add_site):
    return await add_site(SITE, timezone=TZ)


async def numbers(ch, first: str, last: str, *, raw: bool = False, clickhouse=None) -> tuple:
    """The cards' visitors, the page breakdown by visitors and the visitors by month, from
    the rollups or raw; by default on a fresh connection, which remembers no closed days."""
    sel = Selection(SITE, DateRange(dt.date.fromisoformat(first), dt.date.fromisoformat(last), TZ))
    clickhouse = clickhouse or AsyncClickHouse(ch)
    total = await queries.aggregate(clickhouse, sel, ["visitors", "pageviews"], raw=raw)
    pages = await queries.breakdown(
        clickhouse, sel, PROPERTIES["event:page"], ["visitors", "pageviews"],
        order_by="visitors", limit=10, raw=raw,
    )  # fmt: skip
    months = await queries.timeseries(clickhouse, sel, ["visitors"], "month", raw=raw)
    return total, pages, months


PAGE_VIEWS = [
    ("2023-11-02T09:00:00", "/a", "v1"),
    ("2023-11-02T09:05:00", "/b", "v1"),
    ("2023-11-02T10:00:00", "/a", "v2"),
    ("2023-11-03T23:50:00", "/a", "v1"),
    ("2023-11-04T00:10:00", "/a", "v1"),  # the same person after midnight: another day
    ("2023-11-30T12:00:00", "/c", "v3"),
]


async def test_days_close_an_hour_after_they_end_oldest_first(
    site, clock, aggregator, ch, redis_db
):
    clock.now_ms = NOV_1_UTC + DAY_MS + 17 * 3_600_000 + 1_800_000  # Nov 3, 00:30 in Hà Nội
    add_page_views(redis_db, SITE, PAGE_VIEWS[:3], clock())
    await aggregator.drain()
    assert await aggregator.close_due() == 0  # Nov 2 ended half an hour ago
    clock.now_ms += 1_800_000
    assert await aggregator.close_due() == 1
    clock.now_ms = NOV_1_UTC + 28 * DAY_MS + 18 * 3_600_000  # Nov 30, 01:00 in Hà Nội
    add_page_views(redis_db, SITE, PAGE_VIEWS[3:5], clock())
    await aggregator.drain()
    # Nov 3 and 4 were due when their events came: noted late, then closed for the first
    # time with them, so not again.
    assert redis_db.smembers(keys.late_days(SITE)) == {b"2023-11-03", b"2023-11-04"}
    assert await aggregator.close_due() == closing.DAYS_PER_STEP  # Nov 3-9: a backlog
    assert redis_db.smembers(keys.late_days(SITE)) == set()
    assert redis_db.smembers(keys.late_days_closing(SITE)) == set()
    while await aggregator.close_due():
        pass
    known = await closed(AsyncClickHouse(ch), SITE)
    first_day = dt.date(2023, 11, 2)
    assert sorted(known.days) == [first_day + dt.timedelta(days=n) for n in range(28)]
    assert known.through == dt.date(2023, 11, 29)
    assert known.months == {}  # November is not over
    day = dt.date.fromisoformat
    # The weeks whose Sunday is closed (Nov 5, 12, 19, 26), from Monday.
    assert sorted(known.weeks) == [
        day(d) for d in ("2023-10-30", "2023-11-06", "2023-11-13", "2023-11-20")
    ]
    counts = ch.query(
        "SELECT span, date, value, visitors FROM closed_counts WHERE kind = 'page' "
        "ORDER BY span, date, value"
    ).result_rows
    assert counts == [
        ("day", day("2023-11-02"), "/a", 2), ("day", day("2023-11-02"), "/b", 1),
        ("day", day("2023-11-03"), "/a", 1), ("day", day("2023-11-04"), "/a", 1),
        # The week's: the sums of its days' (v1 on three days, v2 on one).
        ("week", day("2023-10-30"), "/a", 4), ("week", day("2023-10-30"), "/b", 1),
    ]  # fmt: skip


async def test_a_call_closes_fewer_days_where_they_hold_more_page_views_than_a_step(
    site, clock, aggregator, ch, redis_db, monkeypatch
):
    monkeypatch.setattr(closing, "PAGEVIEWS_PER_STEP", 2)
    clock.now_ms = NOV_1_UTC + 28 * DAY_MS + 18 * 3_600_000  # Nov 30, 01:00 in Hà Nội
    add_page_views(redis_db, SITE, PAGE_VIEWS[:5], clock())
    await aggregator.drain()
    await aggregator.close_due()  # a first round
    database, last = AsyncClickHouse(ch), dt.date(2023, 11, 29)
    # Nov 2 holds 3 page views: alone, over the step; Nov 3 and 4, 1 each: a week.
    assert sorted((await closed(database, SITE)).days) == [dt.date(2023, 11, 2)]
    steps = []
    while days := await closing.close_due(database, SITE, TZ, last):
        steps.append((days[0].day, days[-1].day))
    assert steps == [(3, 9), (10, 16), (17, 23), (24, 29)]
    assert await numbers(ch, "2023-11-01", "2023-11-29") == (
        await numbers(ch, "2023-11-01", "2023-11-29", raw=True)
    )


async def close_all_at(now_ms: int, clock, aggregator, redis_db) -> None:
    """At `now_ms`: `PAGE_VIEWS` added, aggregated, and every day due closed."""
    clock.now_ms = now_ms
    add_page_views(redis_db, SITE, PAGE_VIEWS, clock())
    await aggregator.drain()
    while await aggregator.close_due():
        pass


def span_counts(ch, span: str, kind: str = "page") -> list[tuple[dt.date, str, int]]:
    """(first day, value, visitors) of the `span`s' counts of `kind`."""
    return ch.query(
        "SELECT date, value, visitors FROM closed_counts WHERE kind = {kind:String} "
        "AND span = {span:String} ORDER BY date, value",
        parameters={"kind": kind, "span": span},
    ).result_rows


async def test_a_backlog_closes_in_rounds_that_rest_three_times_as_long_as_each_took(
    site, settings, clock, ch, redis_db, monkeypatch
):
    # Under `footfall serve` the dashboard's queries wait behind closing's statements.
    now = [1_000.0]
    monkeypatch.setattr(consumer, "time", types.SimpleNamespace(
        monotonic=lambda: now[0], perf_counter=time.perf_counter))  # fmt: skip
    close_due = closing.close_due

    async def taking_two_seconds(*args):  # type: ignore[no-untyped-def]
        now[0] += 2
        return await close_due(*args)

    monkeypatch.setattr(closing, "close_due", taking_two_seconds)
    database = AsyncClickHouse(ch)
    rounds: list[tuple[dt.date | None, float]] = []

    class Enough(Exception):
        pass

    async def rest(seconds: float) -> None:
        rounds.append(((await closed(database, SITE)).through, seconds))
        now[0] += seconds
        clock.now_ms += DAY_MS if len(rounds) == 5 else 0
        if len(rounds) == 6:
            raise Enough

    clock.now_ms = NOV_1_UTC + 31 * DAY_MS  # Dec 2, 07:00 in Hà Nội: Nov 2 to Dec 1 due
    add_page_views(redis_db, SITE, PAGE_VIEWS, clock())
    redis = async_redis(settings.redis_url)
    aggregator = Aggregator(settings, redis, database, consumer="t", clock=clock, rest=rest)
    await aggregator.prepare()
    await aggregator.drain()
    with pytest.raises(Enough):
        await aggregator.close_in_turn()
    await redis.aclose()
    assert rounds == [
        (dt.date(2023, 11, 8), 6.0),  # a backlog: resting 3 x 2 s
        (dt.date(2023, 11, 15), 6.0),
        (dt.date(2023, 11, 22), 6.0),
        (dt.date(2023, 11, 29), 6.0),
        (dt.date(2023, 12, 1), consumer.CLOSE_EVERY),  # no backlog left; a day goes by
        (dt.date(2023, 12, 2), consumer.CLOSE_EVERY),
    ]


async def test_a_closed_month_and_its_days_answer_as_raw_events(
    site, clock, aggregator, ch, redis_db
):
    await close_all_at(NOV_1_UTC + 31 * DAY_MS, clock, aggregator, redis_db)  # Dec 2, 07:00
    assert dt.date(2023, 11, 1) in (await closed(AsyncClickHouse(ch), SITE)).months
    november = dt.date(2023, 11, 1)
    # v1 on 3 days, v2
    assert span_counts(ch, "month") == [
        (november, "/a", 4),
        (november, "/b", 1),
        (november, "/c", 1),
    ]
    for first, last in (("2023-11-01", "2023-11-30"), ("2023-11-02", "2023-11-04"),
                        ("2023-10-20", "2023-12-02")):  # fmt: skip
        assert await numbers(ch, first, last) == await numbers(ch, first, last, raw=True)
    total, _, _ = await numbers(ch, "2023-11-01", "2023-11-30")
    assert total["visitors"] == 5  # v1 on Nov 2, 3 and 4, v2, v3


async def test_a_period_and_the_one_before_it_are_read_in_one_query_split_where_they_meet(
    site, clock, aggregator, ch, redis_db
):
    await close_all_at(NOV_1_UTC + 31 * DAY_MS, clock, aggregator, redis_db)  # Dec 2, 07:00
    day = dt.date.fromisoformat
    quantities = ["visitors", "visits", "pageviews"]
    # November and the week of Nov 13 are closed whole, and cross where the two meet.
    for first, last, previous in (("2023-11-16", "2023-11-30", ("2023-11-01", "2023-11-15")),
                                  ("2023-11-03", "2023-11-04", ("2023-11-01", "2023-11-02"))):  # fmt: skip
        sel = Selection(SITE, DateRange(day(first), day(last), TZ))
        before = DateRange(day(previous[0]), day(previous[1]), TZ)
        recording = Recording(ch)
        served = await queries.aggregate_compared(recording, sel, before, quantities)
        raw = await queries.aggregate_compared(
            AsyncClickHouse(ch), sel, before, quantities, raw=True
        )
        assert served == raw
        assert len([sql for sql in recording.statements if "hour >= " in sql]) == 1
    assert served[0]["visitors"] == 2  # v1 on Nov 3 and on Nov 4
    assert served[1]["visitors"] == 2  # v1 and v2 on Nov 2


async def test_a_closed_quarter_answers_as_raw_events(site, clock, aggregator, ch, redis_db):
    await close_all_at(NOV_1_UTC + 62 * DAY_MS, clock, aggregator, redis_db)  # 2024-01-02
    assert dt.date(2023, 10, 1) in (await closed(AsyncClickHouse(ch), SITE)).quarters
    autumn = dt.date(2023, 10, 1)
    assert span_counts(ch, "quarter") == [(autumn, "/a", 4), (autumn, "/b", 1), (autumn, "/c", 1)]
    # By month, a quarter is read as its months, and a week across two months as its days.
    for first, last in (("2023-10-01", "2023-12-31"), ("2023-09-25", "2024-01-01"),
                        ("2023-10-25", "2023-11-10")):  # fmt: skip
        recording = Recording(ch)
        served = await numbers(ch, first, last, clickhouse=recording)
        assert served == await numbers(ch, first, last, raw=True)
        quarter_read = any("span = 'quarter'" in sql for sql in recording.statements)
        assert quarter_read == (last != "2023-11-10")


async def test_late_events_close_their_day_and_month_again(site, clock, aggregator, ch, redis_db):
    await close_all_at(NOV_1_UTC + 31 * DAY_MS, clock, aggregator, redis_db)
    stale = AsyncClickHouse(ch)  # it will remember the closed days of now a while
    before = await numbers(ch, "2023-11-01", "2023-11-30", clickhouse=stale)
    before_nov_3 = await numbers(ch, "2023-11-03", "2023-11-03", clickhouse=stale)
    # An import of older page views: one on a closed day, one before the first closed day.
    add_page_views(
        redis_db, SITE, [("2023-11-03T08:00:00", "/b", "v4"), ("2023-11-01T08:00:00", "/a", "v5")],
        clock(),
    )  # fmt: skip
    await aggregator.drain()
    assert redis_db.smembers(keys.late_days(SITE)) == {b"2023-11-01", b"2023-11-03"}
    await aggregator.close_due()  # its next round
    assert redis_db.smembers(keys.late_days(SITE)) == set()
    after = await numbers(ch, "2023-11-01", "2023-11-30")
    assert after == await numbers(ch, "2023-11-01", "2023-11-30", raw=True)
    assert after[0]["visitors"] == before[0]["visitors"] + 2
    # Until it asks again, a connection reads the closings it knew, not the new ones too
    # (the page breakdowns, and the month's visitors; page views and a single day's
    # visitors come from the site's hours, always up to date).
    total, pages, _ = await numbers(ch, "2023-11-01", "2023-11-30", clickhouse=stale)
    assert (total["visitors"], pages) == (before[0]["visitors"], before[1])
    _, pages, _ = await numbers(ch, "2023-11-03", "2023-11-03", clickhouse=stale)
    assert pages == before_nov_3[1]
    # The days, and the week (Oct 30 - Nov 5), closed again with them.
    for first, last in (("2023-11-01",) * 2, ("2023-11-03",) * 2, ("2023-10-30", "2023-11-05")):
        assert await numbers(ch, first, last) == await numbers(ch, first, last, raw=True)
    assert dt.date(2023, 11, 1) in (await closed(AsyncClickHouse(ch), SITE)).days


async def test_batches_go_in_while_a_closing_takes_long(
    site, settings, clock, ch, redis_db, monkeypatch
):
    closing_now, release = asyncio.Event(), asyncio.Event()
    close_due = closing.close_due

    async def taking_long(*args):  # type: ignore[no-untyped-def]
        closing_now.set()
        await release.wait()  # a month of a big site: minutes
        return await close_due(*args)

    monkeypatch.setattr(closing, "close_due", taking_long)
    clock.now_ms = NOV_1_UTC + 31 * DAY_MS
    redis = async_redis(settings.redis_url)
    aggregator = Aggregator(settings, redis, AsyncClickHouse(ch), consumer="t", clock=clock)
    add_page_views(redis_db, SITE, PAGE_VIEWS[:1], clock())
    running = asyncio.create_task(aggregator.run())
    await asyncio.wait_for(closing_now.wait(), 10)
    add_page_views(redis_db, SITE, PAGE_VIEWS[1:], clock())
    for _ in range(200):
        (inserted,) = ch.query("SELECT count() FROM events").result_rows[0]
        if inserted == len(PAGE_VIEWS):
            break
        await asyncio.sleep(0.05)
    assert inserted == len(PAGE_VIEWS)
    assert (await closed(AsyncClickHouse(ch), SITE)).through is None  # still closing
    release.set()
    for _ in range(200):
        if (await closed(AsyncClickHouse(ch), SITE)).through is not None:
            break
        await asyncio.sleep(0.05)
    aggregator.stop()
    await running
    await redis.aclose()
    assert (await closed(AsyncClickHouse(ch), SITE)).through is not None  # once let go


async def test_a_day_noted_late_while_a_closing_closes_it_again_stays_noted(
    site, clock, aggregator, ch, redis_db, monkeypatch
):
    await close_all_at(NOV_1_UTC + 31 * DAY_MS, clock, aggregator, redis_db)
    add_page_views(redis_db, SITE, [("2023-11-03T08:00:00", "/b", "v4")], clock())
    await aggregator.drain()  # Nov 3 noted late
    close_again = closing.close_again
    imported = [("2023-11-03T09:00:00", "/c", "v5")]

    async def with_a_batch_meanwhile(*args):  # type: ignore[no-untyped-def]
        again = await close_again(*args)
        # Another batch of Nov 3 (another aggregator's, or this one's under `run`),
        # inserted after the closing read the day's states.
        add_page_views(redis_db, SITE, imported, clock())
        await aggregator.drain()
        return again

    monkeypatch.setattr(closing, "close_again", with_a_batch_meanwhile)
    await aggregator.close_due()
    assert redis_db.smembers(keys.late_days(SITE)) == {b"2023-11-03"}
    assert await numbers(ch, "2023-11-03", "2023-11-03") != await numbers(
        ch, "2023-11-03", "2023-11-03", raw=True
    )
    imported = []
    await aggregator.close_due()  # the next round
    assert redis_db.smembers(keys.late_days(SITE)) == set()
    for first, last in (("2023-11-03",) * 2, ("2023-11-01", "2023-11-30")):
        assert await numbers(ch, first, last) == await numbers(ch, first, last, raw=True)


async def test_late_days_a_closing_cut_short_took_are_closed_at_the_next_round(
    site, clock, aggregator, ch, redis_db, monkeypatch
):
    await close_all_at(NOV_1_UTC + 31 * DAY_MS, clock, aggregator, redis_db)
    add_page_views(redis_db, SITE, [("2023-11-03T08:00:00", "/b", "v4")], clock())
    await aggregator.drain()
    close_again = closing.close_again

    async def cut_short(*args):  # type: ignore[no-untyped-def]
        raise OSError("ClickHouse went away")

    monkeypatch.setattr(closing, "close_again", cut_short)
    await aggregator.close_due()  # logged, left for the next round
    assert redis_db.smembers(keys.late_days(SITE)) == set()
    assert redis_db.smembers(keys.late_days_closing(SITE)) == {b"2023-11-03"}
    monkeypatch.setattr(closing, "close_again", close_again)
    await aggregator.close_due()
    assert redis_db.smembers(keys.late_days_closing(SITE)) == set()
    assert await numbers(ch, "2023-11-03", "2023-11-03") == await numbers(
        ch, "2023-11-03", "2023-11-03", raw=True
    )


async def test_the_granules_migration_keeps_every_closed_count_and_may_run_again(
    site, clock, aggregator, ch, redis_db
):
    await close_all_at(NOV_1_UTC + 31 * DAY_MS, clock, aggregator, redis_db)
    every_row = "SELECT * FROM closed_counts ORDER BY ALL"
    before = ch.query(every_row).result_rows
    assert {kind for _, kind, *_ in before} >= {"closed", "page", "articles"}
    (granules,) = [m for m in schema.migrations() if m.version == 27]
    for statement in granules.statements * 2:  # again, as after an interruption
        ch.command(statement)
    assert ch.query(every_row).result_rows == before
    (create,) = ch.query("SHOW CREATE TABLE closed_counts").result_rows[0]
    assert "index_granularity = 1024" in create
    # Cut short once the table is dropped, then run again: nothing is closed any more,
    # and every number is the rollups' (the aggregator closes the days anew).
    dropped = granules.statements.index("DROP TABLE IF EXISTS closed_counts")
    for statement in [*granules.statements[: dropped + 1], *granules.statements]:
        ch.command(statement)
    assert (await closed(AsyncClickHouse(ch), SITE)).through is None
    for first, last in (("2023-11-03",) * 2, ("2023-11-01", "2023-11-30")):
        assert await numbers(ch, first, last) == await numbers(ch, first, last, raw=True)


class NotingCommands(AsyncClickHouse):
    """The test's ClickHouse, noting the statements it runs as commands (the closing's)."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        super().__init__(client)
        self.commands: list[str] = []

    async def command(self, sql, parameters=None):  # type: ignore[no-untyped-def]
        self.commands.append(sql)
        await super().command(sql, parameters)


def latest_month(ch) -> list[tuple]:
    """Every kind's rows of November's month at its latest closing."""
    return ch.query(
        "SELECT kind, key, value, visitors, visits, pageviews, engaged_ms, entries, bounces, "
        "duration_ms, title FROM closed_counts WHERE span = 'month' AND kind != 'closed' "
        "AND version = (SELECT max(version) FROM closed_counts WHERE span = 'month') "
        "ORDER BY ALL"
    ).result_rows


async def test_a_span_summed_a_key_at_a_time_holds_what_one_statement_sums(
    site, clock, aggregator, ch, redis_db, monkeypatch
):
    await close_all_at(NOV_1_UTC + 31 * DAY_MS, clock, aggregator, redis_db)
    in_one = latest_month(ch)
    monkeypatch.setattr(closing, "SPAN_PIECE_ROWS", 1)  # every kind cut, a statement per key
    noting = NotingCommands(ch)
    await closing.close_again(noting, SITE, TZ, {dt.date(2023, 11, 3)})

    def keys(day: str) -> int:
        return ch.query(
            "SELECT uniq(kind, key) FROM closed_counts WHERE span = 'day' "
            "AND date = {day:Date} AND kind NOT IN ('closed', 'top_articles')",
            parameters={"day": day},
        ).result_rows[0][0]

    # The keys of the last day with visitors of Nov 3's week (Nov 4, not Sunday the 5th),
    # and of November (the 30th).
    assert keys("2023-11-05") == 0 and keys("2023-11-04") > 40
    assert noting.commands.count(sql.CLOSE_SPAN) == keys("2023-11-04") + keys("2023-11-30")
    assert latest_month(ch) == in_one
    assert {kind for kind, *_ in in_one} > {"page", "articles", "site:page"}


def test_a_spans_pieces_cover_every_kind_and_key_once_even_those_its_last_part_lacks(
    monkeypatch,
):
    monkeypatch.setattr(closing, "SPAN_PIECE_ROWS", 10)
    last_day = [("articles", 2), ("page", 1), ("page:country", 1), ("site", 1)]
    pieces = closing._pieces(last_day, [], parts=7)  # 14, 7, 7, 7 rows in a week
    assert pieces == [(("", ""), ("page", "")), (("page", ""), ("page:country", "")),
                      (("page:country", ""), ("site", "")),
                      (("site", ""), (closing.AFTER_EVERY_KIND, ""))]  # fmt: skip
    # The kind too big for one piece is cut by its keys, a piece per key at most.
    keys = [("articles", "/a", 1), ("articles", "/b", 1)]
    pieces = closing._pieces(last_day, keys, parts=7)
    assert pieces[:3] == [(("", ""), ("articles", "/b")), (("articles", "/b"), ("page", "")),
                          (("page", ""), ("page:country", ""))]  # fmt: skip
    keys = [("articles", "/a", 1), ("articles", "/b", 1), ("page", "/", 1)]
    pieces = closing._pieces([("articles", 2), ("page", 1)], keys, parts=11)
    assert pieces == [(("", ""), ("articles", "/b")), (("articles", "/b"), ("page", "/")),
                      (("page", "/"), (closing.AFTER_EVERY_KIND, ""))]  # fmt: skip
    for kind, key in (("article", "/"), ("articles", ""), ("articles", "/"), ("articles", "/b"),
                      ("articles", "/bb"), ("articles", "/c"), ("exit_page", "/"), ("page", "/"),
                      ("page:browser", "Firefox"), ("site:page", "/"), ("x", "")):  # fmt: skip
        assert sum(after <= (kind, key) < before for after, before in pieces) == 1
    assert closing._pieces([], [], parts=30) == [(("", ""), (closing.AFTER_EVERY_KIND, ""))]


async def close_through_nov_3(clock, aggregator, redis_db) -> None:
    """At Nov 4, 07:00 in Hà Nội: the page views of Nov 2-4 aggregated, every day due closed."""
    clock.now_ms = NOV_1_UTC + 3 * DAY_MS
    add_page_views(redis_db, SITE, PAGE_VIEWS[:5], clock())
    await aggregator.drain()
    while await aggregator.close_due():
        pass


async def test_a_closing_cut_short_leaves_counts_that_no_query_reads(
    site, clock, aggregator, ch, redis_db
):
    await close_through_nov_3(clock, aggregator, redis_db)
    database = AsyncClickHouse(ch)
    assert (await closed(database, SITE)).through == dt.date(2023, 11, 3)
    # The first closing of Nov 4 stops after two of its statements (ClickHouse went away):
    # their counts stay, at its version, with no marker; a later closing closes the day.
    ((version,),) = await database.query(sql.CLOSING_VERSION)
    nov_4 = dt.date(2023, 11, 4)
    cut = closing._KINDS | {"site": SITE, "tz": TZ, "first": nov_4, "last": nov_4}
    for statement in sql.CLOSE_DAYS[:2]:
        await database.command(statement, cut | {"version": version})
    clock.now_ms = NOV_1_UTC + 31 * DAY_MS
    add_page_views(redis_db, SITE, PAGE_VIEWS[5:], clock())
    await aggregator.drain()
    while await aggregator.close_due():
        pass
    assert (await closed(database, SITE)).days[nov_4] > version
    for first, last in (("2023-11-04", "2023-11-04"), ("2023-11-01", "2023-11-30"),
                        ("2023-10-30", "2023-11-05")):  # fmt: skip
        served = await numbers(ch, first, last)
        assert served == await numbers(ch, first, last, raw=True)
    assert served[0]["visitors"] == 4  # v1 on Nov 2, 3 and 4, v2


async def test_spans_left_unclosed_by_a_closing_cut_short_close_at_the_next_call(
    site, clock, aggregator, ch, redis_db
):
    await close_through_nov_3(clock, aggregator, redis_db)
    clock.now_ms = NOV_1_UTC + 31 * DAY_MS  # Dec 2
    add_page_views(redis_db, SITE, PAGE_VIEWS[5:], clock())
    await aggregator.drain()
    # A closing of Nov 4-30 stops after its days' markers, before its weeks' and month's sums.
    database = AsyncClickHouse(ch)
    await closing._close(database, SITE, TZ, dt.date(2023, 11, 4), dt.date(2023, 11, 30))
    cut = await closed(database, SITE)
    assert cut.through == dt.date(2023, 11, 30) and not cut.months and not cut.weeks
    assert await closing.close_due(database, SITE, TZ, dt.date(2023, 11, 30)) == []
    now = await closed(database, SITE)
    assert sorted(now.weeks) == [dt.date(2023, 10, 30) + dt.timedelta(weeks=n) for n in range(4)]
    assert list(now.months) == [dt.date(2023, 11, 1)]
    assert span_counts(ch, "month") == [
        (dt.date(2023, 11, 1), "/a", 4), (dt.date(2023, 11, 1), "/b", 1),
        (dt.date(2023, 11, 1), "/c", 1),
    ]  # fmt: skip
    assert await numbers(ch, "2023-11-01", "2023-11-30") == (
        await numbers(ch, "2023-11-01", "2023-11-30", raw=True)
    )


# Page views from June to November: June to October, July to November are runs of five
# whole months.
SUMMER = [
    ("2023-06-01T10:00:00", "/a", "v6"),
    ("2023-07-14T10:00:00", "/b", "v7"),
    ("2023-08-20T10:00:00", "/a", "v8"),
    ("2023-10-31T22:00:00", "/b", "v6"),
]
DEC_2_UTC = NOV_1_UTC + 31 * DAY_MS  # 07:00 in Hà Nội


async def test_a_run_of_months_closes_once_its_months_are_and_answers_as_raw_events(
    site, clock, aggregator, ch, redis_db
):
    clock.now_ms = DEC_2_UTC
    add_page_views(redis_db, SITE, SUMMER, clock())
    await close_all_at(DEC_2_UTC, clock, aggregator, redis_db)
    known = await closed(AsyncClickHouse(ch), SITE)
    day = dt.date.fromisoformat
    assert (set(known.runs["5mo"]), known.runs["11mo"]) == (
        {day("2023-06-01"), day("2023-07-01")},
        {},
    )
    assert span_counts(ch, "5mo") == [
        (day("2023-06-01"), "/a", 2), (day("2023-06-01"), "/b", 2),  # v6 Jun 1, v8; v7, v6 Oct 31
        # v8, then v1 and v2 on Nov 2, v1 on Nov 3 and 4; v7, v6 on Oct 31, v1 on Nov 2; v3
        (day("2023-07-01"), "/a", 5), (day("2023-07-01"), "/b", 3), (day("2023-07-01"), "/c", 1),
    ]  # fmt: skip
    # A 6mo period to the end of December, and a range that starts before a run's first
    # month: each reads its run, and answers as raw events.
    for first, last in (("2023-07-01", "2023-12-31"), ("2023-05-20", "2023-12-02")):
        recording = Recording(ch)
        served = await numbers(ch, first, last, clickhouse=recording)
        assert served == await numbers(ch, first, last, raw=True)
        assert any("span = '5mo'" in sql for sql in recording.statements)
    stale = AsyncClickHouse(ch)
    before = await numbers(ch, "2023-07-01", "2023-12-31", clickhouse=stale)
    # An import into August: its day, its month and both runs are closed again.
    add_page_views(redis_db, SITE, [("2023-08-21T08:00:00", "/c", "v9")], clock())
    await aggregator.drain()
    await aggregator.close_due()
    after = await numbers(ch, "2023-07-01", "2023-12-31")
    assert after == await numbers(ch, "2023-07-01", "2023-12-31", raw=True)
    assert after[0]["visitors"] == before[0]["visitors"] + 1
    assert await numbers(ch, "2023-06-01", "2023-10-31") == await numbers(
        ch, "2023-06-01", "2023-10-31", raw=True
    )


async def test_runs_missing_after_an_upgrade_close_the_latest_first_a_few_a_call(
    site, clock, ch, redis_db, aggregator, monkeypatch
):
    clock.now_ms = DEC_2_UTC
    add_page_views(redis_db, SITE, SUMMER + PAGE_VIEWS, clock())
    await aggregator.drain()
    database = AsyncClickHouse(ch)
    last = dt.date(2023, 12, 1)
    while await closing.close_due(database, SITE, TZ, last):  # as before runs were
        pass
    monkeypatch.setattr(closing, "RUNS_PER_STEP", 1)
    day = dt.date.fromisoformat
    assert await closing.close_runs(database, SITE) == [("5mo", day("2023-07-01"))]
    assert await closing.close_runs(database, SITE) == [("5mo", day("2023-06-01"))]
    assert await closing.close_runs(database, SITE) == []
    # Each run sums its months' visitors: v6 (June), v7, v8, v6 (October); then five in November.
    assert span_counts(ch, "5mo", "site") == [
        (day("2023-06-01"), "", 4),
        (day("2023-07-01"), "", 3 + 5),
    ]


def test_a_period_reads_closed_months_and_days_from_counts_and_open_days_from_the_rollup():
    day = dt.date.fromisoformat
    version = dt.datetime(2023, 12, 2, tzinfo=dt.UTC)
    again = dt.datetime(2023, 12, 3, tzinfo=dt.UTC)
    known = Closed(
        days={day("2023-10-31") + dt.timedelta(days=n): version for n in range(32)}
        | {day("2023-12-01"): again},
        months={day("2023-11-01"): version},
    )
    whole = closed_days.split(known, DateRange(day("2023-10-31"), day("2023-12-02"), TZ))
    assert whole.spans == [("month", day("2023-11-01"))]
    assert whole.days == [day("2023-10-31"), day("2023-12-01")]
    assert whole.open == [day("2023-12-02")]
    # Each is read at its latest closing.
    assert whole.versions == [
        ("month", day("2023-11-01"), version),
        ("day", day("2023-10-31"), version),
        ("day", day("2023-12-01"), again),
    ]
    # A series by day reads every day's counts; a month not whole, its days'.
    by_day = closed_days.split(
        known, DateRange(day("2023-11-01"), day("2023-11-30"), TZ), interval="date"
    )
    assert (by_day.spans, len(by_day.days), by_day.open) == ([], 30, [])
    part = closed_days.split(known, DateRange(day("2023-11-02"), day("2023-11-30"), TZ))
    assert (part.spans, len(part.days), len(part.versions)) == ([], 29, 29)


def test_a_period_reads_whole_closed_weeks_but_not_across_a_whole_closed_month():
    day = dt.date.fromisoformat
    version = dt.datetime(2023, 12, 4, tzinfo=dt.UTC)
    mondays = ("2023-10-30", "2023-11-06", "2023-11-13", "2023-11-20", "2023-11-27")
    known = Closed(
        days={day("2023-10-30") + dt.timedelta(days=n): version for n in range(35)},
        months={day("2023-11-01"): version},
        weeks={day(monday): version for monday in mondays},
    )
    inside = closed_days.split(known, DateRange(day("2023-11-02"), day("2023-11-30"), TZ))
    assert inside.spans == [("week", day(d)) for d in ("2023-11-06", "2023-11-13", "2023-11-20")]
    assert inside.days == [day(f"2023-11-0{n}") for n in range(2, 6)] + [
        day(f"2023-11-{n}") for n in range(27, 31)
    ]
    # Oct 30 - Nov 5 would hide November's whole month: its two October days, the month,
    # then December's first days.
    across = closed_days.split(known, DateRange(day("2023-10-30"), day("2023-12-03"), TZ))
    assert across.spans == [("month", day("2023-11-01"))]
    assert across.days == [
        day(d) for d in ("2023-10-30", "2023-10-31", "2023-12-01", "2023-12-02", "2023-12-03")
    ]
    by_day = closed_days.split(
        known, DateRange(day("2023-11-02"), day("2023-11-30"), TZ), interval="date"
    )
    assert (by_day.spans, len(by_day.days)) == ([], 29)
    # A whole closed quarter before its months.
    quarter = Closed(
        days=known.days,
        months={day(m): version for m in ("2023-10-01", "2023-11-01", "2023-12-01")},
        quarters={day("2023-10-01"): version},
    )
    year_end = closed_days.split(quarter, DateRange(day("2023-09-30"), day("2023-12-31"), TZ))
    assert (year_end.spans, year_end.days) == ([("quarter", day("2023-10-01"))], [])
    assert year_end.open == [day("2023-09-30")]


def test_a_period_reads_its_closed_run_of_months_first_but_not_by_month():
    day = dt.date.fromisoformat
    version = dt.datetime(2023, 12, 2, tzinfo=dt.UTC)
    months = [closed_counts.add_months(day("2022-12-01"), n) for n in range(12)]
    known = Closed(
        days={day("2022-12-01") + dt.timedelta(days=n): version for n in range(365)},
        months=dict.fromkeys(months, version),
        quarters=dict.fromkeys([day("2023-01-01"), day("2023-04-01"), day("2023-07-01")], version),
        runs={
            "11mo": {day("2022-12-01"): version},
            "5mo": {day("2023-06-01"): version, day("2023-07-01"): version},
        },
    )
    twelve = DateRange(day("2022-12-01"), day("2023-11-30"), TZ)  # 12mo, on Dec 1
    assert closed_days.split(known, twelve).spans == [
        ("11mo", day("2022-12-01")), ("month", day("2023-11-01")),
    ]  # fmt: skip
    six = DateRange(day("2023-07-01"), day("2023-12-31"), TZ)
    assert closed_days.split(known, six).spans == [("5mo", day("2023-07-01"))]
    # A run that reaches past the period is not read.
    seven = DateRange(day("2023-06-01"), day("2023-10-15"), TZ)
    assert closed_days.split(known, seven).spans == [
        ("month", day("2023-06-01")), ("quarter", day("2023-07-01")),
    ]  # fmt: skip
    by_month = closed_days.split(known, twelve, interval="month")
    assert by_month.spans == [("month", m) for m in months]


def test_closed_days_hold_every_quantity_a_rollup_read_through_them_answers():
    read_through_counts = (
        PAGE_BREAKDOWN,
        VISIT_BREAKDOWN,
        VISIT_EXITS,
        ARTICLE_STATS,
        ARTICLE_SOURCES,
        PAIRED,
        PAIRED_VISITS,
    )
    for rollup in read_through_counts:
        answered = {q.name for q in QUANTITIES.values() if q.answers(rollup)}
        assert answered <= set(closed_counts.QUANTITIES), rollup
