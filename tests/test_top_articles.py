"""A period's top articles from each closed day's and span's list of its top articles:
the lists the closings write, the answer they give (that of raw events), and the
answers they cannot give, read from every article's counts instead."""

from __future__ import annotations

import datetime as dt

import pytest

from aggregator import schema
from dashboard import queries, top_articles
from dashboard.periods import DateRange
from dashboard.queries import Selection
from footfall import closed_counts
from footfall.connections import AsyncClickHouse
from tests.helpers import Recording, add_page_views

SITE = "news.example"
TZ = "Asia/Ho_Chi_Minh"
NOV_1_UTC = 1_698_796_800_000  # 2023-11-01 00:00 UTC, 07:00 in Hà Nội
DAY_MS = 86_400_000
NOVEMBER = Selection(SITE, DateRange(dt.date(2023, 11, 1), dt.date(2023, 11, 30), TZ))


@pytest.fixture
async def site(add_site):
    return await add_site(SITE, timezone=TZ)


def views(day: int, page_views: dict[str, int]) -> list[tuple[str, str, str]]:
    """Page views of the articles on a November day, each by another visitor."""
    return [
        (f"2023-11-{day:02d}T09:{n:02d}:00", f"/{article}", f"{article}-{day}-{n}")
        for article, count in page_views.items()
        for n in range(count)
    ]


async def close_at(now_ms: int, rows, clock, aggregator, redis_db) -> None:
    """At `now_ms`: the page views `rows` added, aggregated, and every day due closed."""
    clock.now_ms = now_ms
    add_page_views(redis_db, SITE, rows, clock())
    await aggregator.drain()
    while await aggregator.close_due():
        pass


NOV_30_NOON = NOV_1_UTC + 29 * DAY_MS + 5 * 3_600_000  # Nov 29 closed, Nov 30 open


async def top(ch, sort: str = "pageviews", limit: int = 1, offset: int = 0, *, raw=False):
    return await queries.articles(ch, NOVEMBER, sort=sort, limit=limit, offset=offset, raw=raw)


def read_every_article(recording: Recording) -> bool:
    """Whether the articles were ordered from every article's counts (its page query)."""
    return any("OFFSET {offset:UInt32}" in sql for sql in recording.statements)


async def test_the_lists_give_the_top_articles_when_they_outnumber_every_other_article(
    site, clock, aggregator, ch, redis_db, monkeypatch
):
    monkeypatch.setattr(closed_counts, "TOP", 3)
    page_views = {"a": 4, "b": 3, "c": 1, "d": 1}
    # Closed: Nov 7 (in a closed week), the weeks of Nov 13 and 20, Nov 28; open: Nov 30.
    rows = [row for day in (7, 14, 21, 28, 30) for row in views(day, page_views)]
    await close_at(NOV_30_NOON, rows, clock, aggregator, redis_db)
    for sort in top_articles.SORTS:
        for limit, offset in ((1, 0), (2, 0), (1, 1)):
            recording = Recording(ch)
            served = await top(recording, sort, limit, offset)
            assert served == await top(AsyncClickHouse(ch), sort, limit, offset, raw=True)
            assert not read_every_article(recording), (sort, limit, offset)
    assert [g for g, *_ in await top(AsyncClickHouse(ch), limit=2)] == ["a", "b"]
    # c and d have 5 each, and no list shows d (c comes first by id): the lists cannot
    # tell which is third, every article's counts can. Nor do they order by engaged time.
    for sort, limit in (("pageviews", 3), ("engaged_time", 1)):
        recording = Recording(ch)
        served = await top(recording, sort, limit)
        assert served == await top(AsyncClickHouse(ch), sort, limit, raw=True)
        assert read_every_article(recording)
    assert [g for g, *_ in await top(AsyncClickHouse(ch), limit=3)] == ["a", "b", "c"]


def read_closed_numbers(recording: Recording) -> bool:
    """Whether the articles' numbers were read from their closed days' counts."""
    return any("key IN {articles:Array(String)}" in sql for sql in recording.statements)


async def test_the_lists_give_what_they_show_of_closed_days_and_the_open_day_the_rest(
    site, clock, aggregator, ch, redis_db, monkeypatch
):
    monkeypatch.setattr(closed_counts, "TOP", 3)
    clock.now_ms = NOV_30_NOON
    closed_rows = [row for day in (7, 14, 21, 28) for row in views(day, {"a": 4, "b": 3, "c": 1})]
    add_page_views(redis_db, SITE, closed_rows, clock(), {"/a": "A before", "/b": "B before"})
    add_page_views(redis_db, SITE, views(30, {"a": 2, "b": 1}), clock(), {"/a": "A now"})
    await close_at(NOV_30_NOON, [], clock, aggregator, redis_db)

    async def served_as_raw(limit: int) -> tuple[list, bool]:
        recording = Recording(ch)
        served = await top(recording, limit=limit)
        assert served == await top(AsyncClickHouse(ch), limit=limit, raw=True)
        return [(g, title) for g, title, _ in served], read_closed_numbers(recording)

    # Every list shows a, and the open day has its title: its closed days' numbers are
    # the lists'.
    assert await served_as_raw(1) == ([("a", "A now")], False)
    # The open day has no title of b: its latest is a closed day's.
    assert await served_as_raw(2) == ([("a", "A now"), ("b", "B before")], True)
    # Nov 2, before the first closed day, gets b's page views (an import not closed yet):
    # an open day's title of b, older than its closed days'.
    add_page_views(redis_db, SITE, views(2, {"b": 1}), clock(), {"/b": "B old"})
    await aggregator.drain()
    assert await served_as_raw(2) == ([("a", "A now"), ("b", "B before")], True)


async def test_an_article_no_list_shows_is_found_when_it_has_the_most(
    site, clock, aggregator, ch, redis_db, monkeypatch
):
    monkeypatch.setattr(closed_counts, "TOP", 2)
    # x is third on every day, so in no list, and first in the month.
    rows = [
        *views(7, {"a": 5, "b": 4, "x": 3}),
        *views(14, {"c": 5, "d": 4, "x": 3}),
        *views(28, {"e": 5, "f": 4, "x": 3}),
        *views(30, {"g": 5, "h": 4, "x": 3}),
    ]
    await close_at(NOV_30_NOON, rows, clock, aggregator, redis_db)
    recording = Recording(ch)
    served = await top(recording, limit=3)
    assert served == await top(AsyncClickHouse(ch), limit=3, raw=True)
    assert [g for g, *_ in served] == ["x", "a", "c"]
    assert read_every_article(recording)


async def test_an_article_a_list_leaves_out_is_found_when_its_other_lists_lift_it_first(
    site, clock, aggregator, ch, redis_db, monkeypatch
):
    monkeypatch.setattr(closed_counts, "TOP", 2)
    # The lists show a 20 and y 18, and the most any article they do not show can have
    # is 5. But y can have 21 (its 3 on Nov 7 left out for b, first by id), and has.
    rows = [*views(7, {"a": 20, "b": 3, "y": 3}), *views(14, {"y": 18, "c": 2, "d": 1})]
    await close_at(NOV_30_NOON, rows, clock, aggregator, redis_db)
    recording = Recording(ch)
    served = await top(recording)
    assert served == await top(AsyncClickHouse(ch), raw=True)
    assert [g for g, *_ in served] == ["y"]
    assert read_every_article(recording)


async def test_a_day_closed_again_is_read_from_its_new_list(
    site, clock, aggregator, ch, redis_db, monkeypatch
):
    monkeypatch.setattr(closed_counts, "TOP", 3)
    page_views = {"a": 4, "b": 3, "c": 1, "d": 1}
    rows = [row for day in (7, 14, 28, 30) for row in views(day, page_views)]
    await close_at(NOV_30_NOON, rows, clock, aggregator, redis_db)
    stale = AsyncClickHouse(ch)  # it will remember the closings of now a while
    before = await top(stale, limit=2)
    # An import: 20 more page views of d on Nov 14, in the closed week of Nov 13.
    late = [(f"2023-11-14T11:{n:02d}:00", "/d", f"late-{n}") for n in range(20)]
    await close_at(NOV_30_NOON, late, clock, aggregator, redis_db)
    recording = Recording(ch)
    served = await top(recording, limit=2)
    assert served == await top(AsyncClickHouse(ch), limit=2, raw=True)
    assert [g for g, *_ in served] == ["d", "a"]
    assert not read_every_article(recording)
    assert await top(stale, limit=2) == before


# On Nov 7, p has the most page views (one visitor, one visit), q the most visits and
# visitors; r, read on Nov 8 and 9, has the week's most page views.
LISTED = [
    *[(f"2023-11-07T09:0{n}:00", "/p", "reader") for n in range(5)],
    *views(7, {"q": 3}),
    *[(f"2023-11-{day:02d}T09:0{n}:00", "/r", f"r{day}") for day in (8, 9) for n in range(3)],
]
NOV_14_NOON = NOV_1_UTC + 13 * DAY_MS + 5 * 3_600_000  # the week of Nov 6 closed


def lists(ch) -> list[tuple[str, dt.date, str]]:
    return ch.query(
        "SELECT span, date, value FROM closed_counts WHERE kind = {kind:String} "
        "ORDER BY span, date, value",
        parameters={"kind": closed_counts.TOP_ARTICLES},
    ).result_rows


async def test_a_closing_lists_each_day_and_span_s_top_articles_by_each_sum(
    site, clock, aggregator, ch, redis_db, monkeypatch
):
    monkeypatch.setattr(closed_counts, "TOP", 1)
    await close_at(NOV_14_NOON, LISTED, clock, aggregator, redis_db)
    day = dt.date.fromisoformat
    assert lists(ch) == [
        ("day", day("2023-11-07"), "p"), ("day", day("2023-11-07"), "q"),
        ("day", day("2023-11-08"), "r"), ("day", day("2023-11-09"), "r"),
        # The week's own: from its sums (r: 6 page views), not from its days' lists.
        ("week", day("2023-11-06"), "q"), ("week", day("2023-11-06"), "r"),
    ]  # fmt: skip


async def test_the_migration_lists_the_closings_before_it_as_a_closing_does(
    site, clock, aggregator, ch, redis_db
):
    many = views(10, {f"s{n:03d}": 1 for n in range(closed_counts.TOP + 1)})
    await close_at(NOV_14_NOON, [*LISTED, *many], clock, aggregator, redis_db)
    closed = lists(ch)
    assert sum(1 for _, date, _ in closed if date == dt.date(2023, 11, 10)) == closed_counts.TOP
    ch.command(
        "ALTER TABLE closed_counts DELETE WHERE kind = {kind:String}",
        parameters={"kind": closed_counts.TOP_ARTICLES},
        settings={"mutations_sync": 1},
    )
    (migration,) = [m for m in schema.migrations() if m.name == "top_articles"]
    for _ in range(2):  # run again, it adds nothing
        for statement in migration.statements:
            ch.command(statement)
        assert lists(ch) == closed


def article_rows(ch) -> list[tuple]:
    return ch.query(
        "SELECT article_id, date, sum(pageviews), uniqMerge(visitors) FROM article_stats "
        "GROUP BY article_id, date ORDER BY article_id, date"
    ).result_rows


async def test_article_stats_made_anew_by_day_keeps_its_rows_and_its_view(
    site, clock, aggregator, ch, redis_db
):
    clock.now_ms = NOV_14_NOON
    add_page_views(redis_db, SITE, LISTED, clock())
    await aggregator.drain()
    before = article_rows(ch)
    (migration,) = [m for m in schema.migrations() if m.name == "article_stats_by_day"]
    dropped = migration.statements.index("DROP TABLE IF EXISTS article_stats")
    # Interrupted once the table is dropped, then run again from the start.
    for statement in [*migration.statements[: dropped + 1], *migration.statements]:
        ch.command(statement)
    assert article_rows(ch) == before
    ((order,),) = ch.query(
        "SELECT sorting_key FROM system.tables WHERE name = 'article_stats' "
        "AND database = currentDatabase()"
    ).result_rows
    assert order == "site, span, date, article_id"
    add_page_views(redis_db, SITE, views(8, {"q": 2}), clock())
    await aggregator.drain()
    assert ("q", dt.date(2023, 11, 8), 2, 2) in article_rows(ch)
