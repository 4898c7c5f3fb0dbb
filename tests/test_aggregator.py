"""The aggregator: events posted to the collector land in ClickHouse and every rollup, exactly.

A scripted stretch of a day with known numbers, then the failures: a batch
retried after its acknowledgement failed, a consumer that died with a batch in
hand, ClickHouse failing for a while, undecodable entries, Redis losing the
counters.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import msgspec
import pytest
import redis.exceptions

from aggregator import consumer
from aggregator.consumer import Aggregator
from aggregator.rows import to_row
from footfall import keys
from footfall.connections import AsyncClickHouse, async_redis
from footfall.wire import StreamEvent, stream_entry
from tests.conftest import AUTH, BROWSER_UA

SITE = "news.example"
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
V1 = {"ip": "8.8.8.8", "ua": BROWSER_UA}  # United States, desktop, came from Google
V2 = {"ip": "14.160.0.1", "ua": MOBILE_UA}  # Viet Nam, phone, came from Facebook
V3 = {"ip": "1.1.1.1", "ua": BROWSER_UA}  # Australia, desktop, typed the address


def page(path: str, visitor: dict, referrer: str = "", title: str = "") -> dict:
    return {"n": "pageview", "u": f"https://{SITE}{path}", "r": referrer, "ti": title,
            "pv": pageview_id(path, visitor), **visitor}  # fmt: skip


def engagement(path: str, visitor: dict, ms: int) -> dict:
    return {"n": "engagement", "u": f"https://{SITE}{path}", "e": ms,
            "pv": pageview_id(path, visitor), **visitor}  # fmt: skip


def pageview_id(path: str, visitor: dict) -> str:
    """The snippet's id of a page view: no visitor of the script sees a page twice."""
    return f"{visitor['ip']}{path}"


async def send(client, *events) -> None:
    response = await client.post("/api/events", json=list(events), headers=AUTH)
    assert response.status == 202, await response.text()


async def scripted_visits(client, clock) -> None:
    """Three visitors, four visits, five page views, three bounces; numbers in the asserts."""
    a1, b2, c3 = "/tin-tuc/a-1.html", "/tin-tuc/b-2.html", "/tin-tuc/c-3.html"
    await send(client, page(a1, V1, "https://www.google.com/", "Bão số 3"))
    clock.advance(10)
    await send(client, page(a1, V2, "https://m.facebook.com/", "Bão số 3"))
    clock.advance(5)
    await send(client, engagement(a1, V2, 5_000))
    clock.advance(5)
    await send(client, page(c3, V3, "", "Giá vàng"))
    clock.advance(10)
    await send(client, engagement(a1, V1, 30_000))
    clock.advance(30)
    await send(client, page(b2, V1, f"https://{SITE}{a1}", "Tỷ giá"))
    clock.advance(30)
    await send(client, engagement(b2, V1, 20_000))
    clock.advance(10)
    await send(client, {"n": "Signup", "u": f"https://{SITE}{b2}", **V1})
    clock.advance(40 * 60)
    await send(client, page(a1, V3, "", "Bão số 3 (cập nhật)"))


def one(ch, sql: str) -> tuple:
    return ch.query(sql, parameters={"site": SITE}).result_rows[0]


@pytest.fixture
async def site(add_site):
    return await add_site(SITE, timezone="Asia/Ho_Chi_Minh", public_counters=True)


async def test_a_scripted_day_lands_in_events_and_every_rollup(client, site, clock, ch, aggregator):
    await scripted_visits(client, clock)
    assert await aggregator.drain() == 9

    types = dict(ch.query("SELECT type, count() FROM events GROUP BY type").result_rows)
    assert types == {"pageview": 5, "engagement": 3, "custom": 1}
    assert one(ch, "SELECT count() FROM events WHERE date = '2023-11-15'") == (
        9,
    )  # 19:00 in Hà Nội

    hourly = one(
        ch,
        "SELECT sum(pageviews), sum(visits), sum(bounces), sum(visit_duration_ms), "
        "sum(engaged_ms), sum(events), uniqMerge(visitors) FROM site_hourly WHERE site = {site:String}",
    )
    # visit durations: V1 0+10+30+30+10... = 100 s from its first page view to its Signup, V2 5 s
    assert hourly == (5, 4, 3, 100_000 + 5_000, 55_000, 6, 3)
    visitors = ch.query(
        "SELECT span, date, uniqMerge(visitors) FROM site_visitors GROUP BY span, date ORDER BY span"
    ).result_rows
    assert visitors == [("day", dt.date(2023, 11, 15), 3)]  # day rows only (migration 0014)

    articles = ch.query(
        "SELECT article_id, span, sum(pageviews), uniqMerge(visits), uniqMerge(visitors), "
        "sum(engaged_ms), argMaxMerge(title) FROM article_stats "
        "GROUP BY article_id, span ORDER BY article_id"
    ).result_rows
    assert articles == [
        ("a-1", "day", 3, 3, 3, 35_000, "Bão số 3 (cập nhật)"),
        ("b-2", "day", 1, 1, 1, 20_000, "Tỷ giá"),
        ("c-3", "day", 1, 1, 1, 0, "Giá vàng"),
    ]
    # Where each article's page views came from: the referrer's name, the site, or none.
    sources = ch.query(
        "SELECT article_id, source, sum(pageviews), uniqMerge(visitors) FROM article_sources "
        "WHERE span = 'day' GROUP BY article_id, source ORDER BY article_id, source"
    ).result_rows
    assert sources == [
        ("a-1", "Direct / None", 1, 1),
        ("a-1", "Facebook", 1, 1),
        ("a-1", "Google", 1, 1),
        ("b-2", "Internal", 1, 1),
        ("c-3", "Direct / None", 1, 1),
    ]

    def breakdown(prop: str) -> dict:
        rows = ch.query(
            "SELECT value, sum(visits), sum(pageviews), uniqMerge(visitors) FROM breakdown_stats "
            "WHERE property = {p:String} AND span = 'day' GROUP BY value",
            parameters={"p": prop},
        ).result_rows
        return {value: rest for value, *rest in rows}

    assert breakdown("source") == {"search": [1, 0, 1], "social": [1, 0, 1], "direct": [2, 0, 1]}
    assert breakdown("source_name") == {"Google": [1, 0, 1], "Facebook": [1, 0, 1], "": [2, 0, 1]}
    assert breakdown("country") == {"US": [1, 0, 1], "VN": [1, 0, 1], "AU": [2, 0, 1]}
    assert breakdown("device") == {"desktop": [3, 0, 2], "mobile": [1, 0, 1]}
    assert breakdown("entry_page") == {
        "/tin-tuc/a-1.html": [3, 0, 3],
        "/tin-tuc/c-3.html": [1, 0, 1],
    }
    assert breakdown("page") == {
        "/tin-tuc/a-1.html": [0, 3, 3],
        "/tin-tuc/b-2.html": [0, 1, 1],
        "/tin-tuc/c-3.html": [0, 1, 1],
    }

    assert one(ch, "SELECT sum(pageviews), sum(visits) FROM site_totals") == (5, 4)
    assert dict(
        ch.query(
            "SELECT article_id, sum(pageviews) FROM article_totals GROUP BY article_id"
        ).result_rows
    ) == {"a-1": 3, "b-2": 1, "c-3": 1}


async def test_hot_counters_equal_clickhouse_after_a_flush_and_after_redis_lost_them(
    client, site, clock, ch, aggregator, redis_db
):
    await scripted_visits(client, clock)
    await aggregator.drain()
    assert redis_db.hgetall(keys.totals(SITE)) == {b"pageviews": b"5", b"visits": b"4"}
    assert redis_db.hgetall(keys.article_pageviews(SITE)) == {
        b"a-1": b"3",
        b"b-2": b"1",
        b"c-3": b"1",
    }
    clock.advance(2)
    assert await (await client.get(f"/api/counters?d={SITE}&a=a-1")).json() == {
        "total": 4, "online": 1, "views": 3, "readers": 1,
    }  # fmt: skip

    for key in redis_db.keys("ff:{*}:totals") + redis_db.keys("ff:{*}:pageviews"):
        redis_db.delete(key)
    redis_db.delete(keys.COUNTERS_SEEDED)  # as after a flush: the marker goes with the data
    await send(client, page("/tin-tuc/d-4.html", {"ip": "81.2.69.160", "ua": BROWSER_UA}))
    await aggregator.drain()
    assert redis_db.hgetall(keys.totals(SITE)) == {b"pageviews": b"6", b"visits": b"5"}
    assert redis_db.hget(keys.article_pageviews(SITE), "d-4") == b"1"


async def test_an_upgraded_aggregator_moves_article_pageviews_to_their_new_key_at_start(
    client, site, clock, ch, aggregator, redis_db, settings
):
    """Before this key was named `ff:{site}:pageviews`, article page views were kept under
    `ff:{site}:views`: the first start of the new aggregator reseeds them under the new
    name and deletes the old key, and nothing else of the site (an article whose readers
    key ends in `:views`)."""
    await scripted_visits(client, clock)
    await aggregator.drain()
    legacy = f"ff:{{{SITE}}}:views"
    redis_db.rename(keys.article_pageviews(SITE), legacy)  # as the older aggregator left it
    redis_db.zadd(keys.readers(SITE, "views"), {"1": clock()})

    connection = async_redis(settings.redis_url)
    upgraded = Aggregator(settings, connection, AsyncClickHouse(ch), consumer="new", clock=clock)
    await upgraded.prepare()
    await connection.aclose()

    assert not redis_db.exists(legacy)
    assert redis_db.hgetall(keys.article_pageviews(SITE)) == {
        b"a-1": b"3",
        b"b-2": b"1",
        b"c-3": b"1",
    }
    assert redis_db.zcard(keys.readers(SITE, "views")) == 1
    clock.advance(2)
    counters = await (await client.get(f"/api/counters?d={SITE}&a=a-1")).json()
    assert counters["views"] == 3


@pytest.fixture
def acl(redis_db, redis_server):
    """A Redis user for an aggregator whose scripts the test can forbid, so that a batch is
    inserted into ClickHouse but cannot be acknowledged: the window a crash would hit."""
    redis_db.execute_command("ACL", "SETUSER", "agg", "on", ">pw", "~*", "&*", "+@all")

    class Acl:
        url = f"redis://agg:pw@127.0.0.1:{redis_server.port}/0"

        def forbid(self, *commands: str) -> None:
            redis_db.execute_command("ACL", "SETUSER", "agg", *(f"-{c}" for c in commands))

        def allow(self, *commands: str) -> None:
            redis_db.execute_command("ACL", "SETUSER", "agg", *(f"+{c}" for c in commands))

        def forbid_scripts(self) -> None:
            self.forbid("evalsha", "eval")

        def allow_scripts(self) -> None:
            self.allow("evalsha", "eval")

    yield Acl()
    redis_db.execute_command("ACL", "DELUSER", "agg")


async def rollup_counts(ch) -> tuple:
    return (
        one(ch, "SELECT count() FROM events"),
        one(ch, "SELECT sum(pageviews), sum(visits), sum(bounces) FROM site_hourly"),
        one(ch, "SELECT sum(pageviews) FROM article_stats WHERE span = 'day'"),
        one(
            ch, "SELECT sum(visits) FROM breakdown_stats WHERE property = 'source' AND span = 'day'"
        ),
        one(ch, "SELECT count() FROM breakdown_stats WHERE span != 'day'"),
        one(ch, "SELECT count() FROM visits FINAL"),
        one(ch, "SELECT sum(pageviews), sum(visits) FROM site_totals"),
        one(ch, "SELECT sum(pageviews) FROM article_totals"),
        one(ch, "SELECT sum(pageviews), sum(engaged_ms) FROM pageview_engagement"),
    )


EXPECTED = ((9,), (5, 4, 3), (5,), (4,), (0,), (4,), (5, 4), (5,), (5, 55_000))


async def test_a_batch_retried_after_its_ack_failed_counts_once_rollups_included(
    client, site, clock, ch, settings, acl, redis_db
):
    await scripted_visits(client, clock)
    connection = async_redis(acl.url)
    aggregator = Aggregator(
        settings, connection, AsyncClickHouse(ch), consumer="retry", clock=clock
    )
    await aggregator.prepare()
    acl.forbid_scripts()
    with pytest.raises(redis.exceptions.NoPermissionError):
        await aggregator.step()
    assert one(ch, "SELECT count() FROM events") == (9,)  # inserted, not acknowledged
    assert redis_db.xpending(keys.stream(SITE), keys.CONSUMER_GROUP)["pending"] == 9
    acl.allow_scripts()
    assert await aggregator.step() == 9  # the same batch again: ClickHouse drops it
    assert await rollup_counts(ch) == EXPECTED
    assert redis_db.xlen(keys.stream(SITE)) == 0
    assert redis_db.hgetall(keys.totals(SITE)) == {b"pageviews": b"5", b"visits": b"4"}
    await connection.aclose()


async def test_a_second_aggregator_takes_over_a_dead_ones_batch(
    client, site, clock, ch, settings, acl, redis_db
):
    await scripted_visits(client, clock)
    connection = async_redis(acl.url)
    dead = Aggregator(settings, connection, AsyncClickHouse(ch), consumer="dead", clock=clock)
    await dead.prepare()
    acl.forbid_scripts()
    with pytest.raises(redis.exceptions.NoPermissionError):
        await dead.step()
    await connection.aclose()  # it dies with its batch inserted and pending

    heir_redis = async_redis(settings.redis_url)
    heir = Aggregator(
        settings.replace(claim_after=0), heir_redis, AsyncClickHouse(ch), consumer="heir"
    )
    assert await heir.claim_abandoned() == 9
    assert await rollup_counts(ch) == EXPECTED
    assert redis_db.xpending(keys.stream(SITE), keys.CONSUMER_GROUP)["pending"] == 0
    consumers = redis_db.xinfo_consumers(keys.stream(SITE), keys.CONSUMER_GROUP)
    assert [c["name"] for c in consumers] == [b"heir"]  # the dead one is forgotten
    await heir_redis.aclose()


async def test_clickhouse_failing_for_a_while_loses_nothing(client, site, clock, ch, settings):
    connection = async_redis(settings.redis_url)
    aggregator = Aggregator(
        settings,
        connection,
        AsyncClickHouse(ch),
        consumer="patient",
        sleep=lambda _: asyncio.sleep(0.01),
    )
    await aggregator.prepare()
    ch.command("DETACH TABLE events")
    try:
        task = asyncio.create_task(aggregator.run())
        await scripted_visits(client, clock)
        for _ in range(500):
            if aggregator.health.problem():
                break
            await asyncio.sleep(0.01)
        assert "ClickHouse insert failing" in aggregator.health.problem()
        ready = await client.get("/ready")
        assert ready.status == 200  # this app runs no aggregator; the failing one reports below
    finally:
        ch.command("ATTACH TABLE events")
    for _ in range(500):
        if await connection.xlen(keys.stream(SITE)) == 0:
            break
        await asyncio.sleep(0.01)
    aggregator.stop()
    await task
    assert aggregator.health.problem() is None
    assert await rollup_counts(ch) == EXPECTED
    await connection.aclose()


async def test_undecodable_events_go_to_the_dead_letter_stream(
    client, site, ch, redis_db, aggregator
):
    await send(client, page("/tin-tuc/a-1.html", V1))
    redis_db.xadd(
        keys.stream(SITE), {"e": b"\xc1 not msgpack", "nv": "0", "vs": "0", "vn": "0", "vd": "0"}
    )
    # Written without a date, as before events carried one: no timezone dates it.
    far_future = msgspec.msgpack.encode({"ts": 10**17, "site": SITE, "type": "pageview",
                                         "name": "pageview", "url": f"https://{SITE}/",
                                         "visitor_id": 1})  # fmt: skip
    redis_db.xadd(keys.stream(SITE), {"e": far_future, "nv": "1", "vs": "0", "vn": "1", "vd": "0"})
    redis_db.xadd(keys.stream(SITE), {"nv": "1"})
    await send(client, page("/tin-tuc/b-2.html", V2))

    assert await aggregator.drain() == 5
    assert one(ch, "SELECT count() FROM events") == (2,)
    letters = redis_db.xrange(keys.DEAD_LETTERS)
    assert len(letters) == 3
    assert all(fields[b"reason"].startswith(b"undecodable") for _, fields in letters)
    assert letters[0][1][b"e"] == b"\xc1 not msgpack"
    assert redis_db.xlen(keys.stream(SITE)) == 0


async def test_an_event_is_filed_on_the_day_the_collector_dated_it(
    client, site, clock, ch, aggregator
):
    """Its date comes with it: a timezone changed before the aggregator reads the event
    does not move it to another day than its visitor id's."""
    clock.now_ms = 1_700_078_400_000  # 2023-11-15 20:00 UTC: 03:00 on the 16th in Hà Nội
    await send(client, page("/tin-tuc/a-1.html", V1))
    moved = await client.put(f"/api/v1/sites/{SITE}", json={"timezone": "UTC"}, headers=AUTH)
    assert moved.status == 200
    assert await aggregator.drain() == 1
    assert one(ch, "SELECT date FROM events") == (dt.date(2023, 11, 16),)


async def test_entries_an_older_collector_wrote_are_inserted_once_on_their_sites_day(
    client, site, clock, ch, aggregator, redis_db
):
    """After an upgrade the stream may hold entries written before events carried their
    date: they are dated by their site's timezone, and counted once beside the new ones."""
    clock.now_ms = 1_700_078_400_000  # 2023-11-15 20:00 UTC: 03:00 on the 16th in Hà Nội
    older = msgspec.msgpack.encode({"ts": clock(), "site": SITE, "type": "pageview",
                                    "name": "pageview", "url": f"https://{SITE}/tin-tuc/c-3.html",
                                    "visitor_id": 7, "article": "c-3"})  # fmt: skip
    redis_db.xadd(keys.stream(SITE), {"e": older, "nv": "1", "vs": clock(), "vn": "1", "vd": "0"})
    await send(client, page("/tin-tuc/a-1.html", V1))
    assert await aggregator.drain() == 2
    rows = "SELECT date, count(), uniqExact(stream_id) FROM events GROUP BY date"
    assert ch.query(rows).result_rows == [(dt.date(2023, 11, 16), 2, 2)]
    assert redis_db.hgetall(keys.totals(SITE)) == {b"pageviews": b"2", b"visits": b"2"}
    assert redis_db.xlen(keys.stream(SITE)) == 0


async def test_serve_shows_clickhouses_truth_in_the_counters_within_seconds(make_client, clock, ch):
    """The whole path with the aggregator task `footfall serve` runs: 202 -> counters."""
    client = await make_client(aggregate=True)
    await client.post("/api/v1/sites", json={"domain": SITE, "public_counters": True}, headers=AUTH)
    await send(client, page("/tin-tuc/a-1.html", V1), page("/tin-tuc/a-1.html", V2))
    for _ in range(100):
        clock.advance(1)  # past the counters' one-second cache
        counters = await (await client.get(f"/api/counters?d={SITE}&a=a-1")).json()
        if counters["total"] == 2:
            break
        await asyncio.sleep(0.05)
    assert counters == {"total": 2, "online": 2, "views": 2, "readers": 2}
    assert one(ch, "SELECT sum(visits) FROM site_totals") == (2,)
    ready = await client.get("/ready")
    assert ready.status == 200


async def test_ready_reports_a_failing_clickhouse_insert(make_client, clock, ch):
    client = await make_client(aggregate=True)
    await client.post("/api/v1/sites", json={"domain": SITE}, headers=AUTH)
    ch.command("DETACH TABLE events")
    try:
        await send(client, page("/tin-tuc/a-1.html", V1))
        for _ in range(200):
            ready = await client.get("/ready")
            if ready.status == 503:
                break
            await asyncio.sleep(0.02)
        assert ready.status == 503
        assert "ClickHouse insert failing" in (await ready.json())["problems"]["aggregator"]
    finally:
        ch.command("ATTACH TABLE events")
    for _ in range(300):
        if (await client.get("/ready")).status == 200:
            break
        await asyncio.sleep(0.05)
    assert (await client.get("/ready")).status == 200
    assert one(ch, "SELECT count() FROM events") == (1,)


def test_retention_is_a_ttl_on_raw_events_only(ch):
    from aggregator.schema import set_retention

    def ttl_of(table: str) -> str:
        return ch.command(
            "SELECT engine_full FROM system.tables "
            "WHERE database = currentDatabase() AND name = {t:String}",
            parameters={"t": table},
        )

    set_retention(ch, 400)
    try:
        assert "TTL toDateTime(ts) + toIntervalDay(400)" in ttl_of("events")
        assert " TTL " not in ttl_of("site_hourly")
    finally:
        set_retention(ch, 0)
    assert " TTL " not in ttl_of("events")


async def test_a_row_clickhouse_refuses_goes_to_dead_letters_and_the_rest_is_inserted(
    client, site, ch, redis_db, aggregator
):
    ch.command("ALTER TABLE events ADD CONSTRAINT no_poison CHECK title != 'poison'")
    try:
        await send(client, *(page(f"/tin-tuc/{i}.html", V1, title=str(i)) for i in range(6)),
                   page("/tin-tuc/x.html", V2, title="poison"),
                   page("/tin-tuc/7.html", V3, title="7"))  # fmt: skip
        assert await aggregator.drain() == 8
    finally:
        ch.command("ALTER TABLE events DROP CONSTRAINT no_poison")
    assert one(ch, "SELECT count(), countIf(title = 'poison') FROM events") == (7, 0)
    assert one(ch, "SELECT sum(pageviews) FROM site_hourly") == (7,)
    [(_, letter)] = redis_db.xrange(keys.DEAD_LETTERS)
    assert letter[b"reason"].startswith(b"refused by ClickHouse")
    assert b"poison" in letter[b"e"]
    assert redis_db.xlen(keys.stream(SITE)) == 0
    assert redis_db.hget(keys.totals(SITE), "pageviews") == b"7"


def fill_directly(redis_db, count: int) -> None:
    """`count` page views of one visit each, as the collector stores them (XADD, no HTTP)."""
    pipe = redis_db.pipeline(transaction=False)
    for i in range(count):
        event = StreamEvent(ts=1_763_600_000_000 + i, site=SITE, date=20_412, type="pageview",
                            name="pageview", url=f"https://{SITE}/a/{i % 7}.html",
                            visitor_id=i, article=str(i % 7))  # fmt: skip
        pipe.xadd(keys.stream(SITE), stream_entry(event, True, event.ts, 1, 0))
    pipe.execute()


async def test_a_batch_of_more_ids_than_one_xack_takes_is_acknowledged_whole(
    site, ch, redis_db, aggregator
):
    # ack.lua gets the ids in one argument and acknowledges them 500 at a time.
    fill_directly(redis_db, 1_234)
    assert await aggregator.drain() == 1_234
    assert one(ch, "SELECT count(), uniqExact(stream_id) FROM events") == (1_234, 1_234)
    assert redis_db.xlen(keys.stream(SITE)) == 0
    assert redis_db.xpending(keys.stream(SITE), keys.CONSUMER_GROUP)["pending"] == 0
    assert redis_db.hgetall(keys.totals(SITE)) == {b"pageviews": b"1234", b"visits": b"1234"}
    views = {int(a): int(n) for a, n in redis_db.hgetall(keys.article_pageviews(SITE)).items()}
    assert views == {a: len(range(a, 1_234, 7)) for a in range(7)}


@pytest.fixture
async def small_batches(settings, ch, clock, monkeypatch):
    """Two aggregators reading batches of 100, whose rows made are counted (`made`)."""
    made = []

    def counted(site, entry, days):  # type: ignore[no-untyped-def]
        made.append(entry[0])
        return to_row(site, entry, days)

    monkeypatch.setattr(consumer, "to_row", counted)
    small = dataclasses.replace(settings, batch_size=100)
    redis = async_redis(settings.redis_url)
    pair = [Aggregator(small, redis, AsyncClickHouse(ch), consumer=c, clock=clock) for c in "ab"]
    for agg in pair:
        await agg.prepare()
    yield pair, made
    await redis.aclose()


async def test_a_backlog_is_inserted_once_with_each_row_made_once(
    site, ch, redis_db, small_batches
):
    # While a batch is inserted, the rows of the next 100 entries are made ahead.
    (agg, _), made = small_batches
    fill_directly(redis_db, 1_234)
    assert await agg.drain() == 1_234
    assert sorted(made) == sorted(set(made)) and len(made) == 1_234
    assert one(ch, "SELECT count(), uniqExact(stream_id), sum(visitor_id) FROM events") == (
        1_234, 1_234, sum(range(1_234)),
    )  # fmt: skip
    assert redis_db.xlen(keys.stream(SITE)) == 0
    assert redis_db.hgetall(keys.totals(SITE)) == {b"pageviews": b"1234", b"visits": b"1234"}


async def test_entries_read_ahead_but_taken_by_another_consumer_count_once(
    site, ch, redis_db, small_batches
):
    (a, b), made = small_batches
    fill_directly(redis_db, 450)
    assert await a.step() == 100  # and made the rows of entries 101-200 ahead
    assert await b.step() == 100  # b reads those: a's rows of them must not count
    assert await a.step() == 100  # entries 201-300, whose rows a had not made
    assert await b.drain() + await a.drain() == 150
    assert one(ch, "SELECT count(), uniqExact(stream_id), sum(visitor_id) FROM events") == (
        450, 450, sum(range(450)),
    )  # fmt: skip
    assert len(made) > 450  # a made rows of entries it never inserted
    assert redis_db.hgetall(keys.totals(SITE)) == {b"pageviews": b"450", b"visits": b"450"}


async def test_an_undecodable_entry_read_ahead_goes_to_dead_letters_once(
    site, ch, redis_db, small_batches
):
    (agg, _), _ = small_batches
    fill_directly(redis_db, 150)
    redis_db.xadd(keys.stream(SITE), {"e": b"\xc1 not msgpack"})
    fill_directly(redis_db, 30)
    assert await agg.drain() == 181
    assert one(ch, "SELECT count() FROM events") == (180,)
    [(_, letter)] = redis_db.xrange(keys.DEAD_LETTERS)
    assert letter[b"reason"].startswith(b"undecodable")
    assert redis_db.xlen(keys.stream(SITE)) == 0


async def test_live_traffic_is_read_once_per_batch_wait_and_a_backlog_at_once(
    site, ch, redis_db, settings, clock
):
    waits: list[float] = []

    async def recorded(seconds: float) -> None:
        waits.append(seconds)

    small = dataclasses.replace(settings, batch_size=100, batch_wait_ms=200)
    redis = async_redis(settings.redis_url)
    # Time stands still between reads: a step is instant, however long it took here.
    agg = Aggregator(
        small, redis, AsyncClickHouse(ch), consumer="t", clock=clock, sleep=recorded,
        timer=lambda: 1_000.0,
    )  # fmt: skip
    await agg.prepare()
    try:
        fill_directly(redis_db, 3)
        assert await agg.step(block_ms=200) == 3 and waits == []  # the first read waits not
        fill_directly(redis_db, 250)
        assert await agg.step(block_ms=200) == 100  # after a small batch: the rest of 200 ms
        assert len(waits) == 1 and 0 < waits[0] <= 0.2
        assert await agg.step(block_ms=200) == 100  # after a whole batch: at once
        assert await agg.step(block_ms=200) == 50
        assert len(waits) == 1
    finally:
        await redis.aclose()
    assert one(ch, "SELECT count() FROM events") == (253,)


async def test_the_ack_script_refuses_an_id_list_that_does_not_match_the_batch(
    site, ch, redis_db, aggregator, monkeypatch
):
    """A wrong argument must not acknowledge part of a batch: nothing is written, and the
    batch stays pending, to be retried whole (ClickHouse drops the repeated insert)."""
    fill_directly(redis_db, 3)
    original = aggregator._ack

    async def one_id_short(keys, args):  # type: ignore[no-untyped-def]
        args[3] = args[3].rpartition(b" ")[0]
        return await original(keys=keys, args=args)

    monkeypatch.setattr(aggregator, "_ack", one_id_short)
    with pytest.raises(redis.exceptions.ResponseError, match="2 ids given for 3 entries"):
        await aggregator.step()
    assert redis_db.xpending(keys.stream(SITE), keys.CONSUMER_GROUP)["pending"] == 3
    assert redis_db.hgetall(keys.totals(SITE)) == {}
    monkeypatch.setattr(aggregator, "_ack", original)
    assert await aggregator.step() == 3
    assert one(ch, "SELECT count() FROM events") == (3,)
    assert redis_db.hget(keys.totals(SITE), "pageviews") == b"3"
    assert redis_db.xlen(keys.stream(SITE)) == 0
