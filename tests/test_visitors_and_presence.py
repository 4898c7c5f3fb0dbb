"""Visitor ids, the 30-minute visit rule and online counts, with a clock the tests move."""

from __future__ import annotations

import pytest

from collector.bots import is_bot
from footfall import keys
from footfall.wire import decode_event, visit_entry_of
from tests.conftest import AUTH, BROWSER_UA
from tests.helpers import pageview, stream_events

OTHER_UA = BROWSER_UA.replace("Chrome/131", "Chrome/130")


@pytest.fixture
async def site(add_site):
    return await add_site("news.example", public_counters=True, online_window=300)


async def send(client, *events, ip="203.0.113.9"):
    """Events as a server integration sends them: one visitor's IP and agent per event."""
    batch = [{**e, "ip": e.get("ip", ip), "ua": e.get("ua", BROWSER_UA)} for e in events]
    response = await client.post("/api/events", json=batch, headers=AUTH)
    assert response.status == 202, await response.text()


async def counters(client, article: str = "") -> dict:
    query = f"?d=news.example&a={article}" if article else "?d=news.example"
    response = await client.get("/api/counters" + query)
    assert response.status == 200
    return await response.json()


async def test_the_same_visitor_keeps_one_id_within_a_day(client, site, redis_db, clock):
    await send(client, pageview())
    clock.advance(3 * 3600)
    await send(client, pageview())
    first, second = stream_events(redis_db)
    assert first.visitor_id == second.visitor_id


async def test_the_visitor_id_changes_across_days(client, site, redis_db, clock):
    clock.now_ms = 1_700_006_400_000  # 2023-11-15 00:00 UTC
    await send(client, pageview())
    clock.advance(86_400)
    await send(client, pageview())
    first, second = stream_events(redis_db)
    assert first.visitor_id != second.visitor_id


async def test_the_visitor_id_changes_at_the_sites_midnight_not_at_utcs(
    client, add_site, redis_db, clock
):
    await add_site("news.example", timezone="Asia/Ho_Chi_Minh")  # UTC+7
    times = {
        "06:50": 1_700_006_400_000 - 10 * 60_000,  # 2023-11-14 23:50 UTC
        "07:10": 1_700_006_400_000 + 10 * 60_000,  # 2023-11-15 00:10 UTC
        "23:50": 1_700_006_400_000 + (17 * 60 - 10) * 60_000,
        "00:10 the next day": 1_700_006_400_000 + (17 * 60 + 10) * 60_000,
    }
    for now_ms in times.values():
        clock.now_ms = now_ms
        await send(client, pageview())
    ids = dict(zip(times, (e.visitor_id for e in stream_events(redis_db)), strict=True))
    assert ids["06:50"] == ids["07:10"] == ids["23:50"]
    assert ids["00:10 the next day"] != ids["23:50"]


async def test_different_agents_or_addresses_are_different_visitors(client, site, redis_db):
    await send(client, pageview(), pageview(ua=OTHER_UA), pageview(ip="198.51.100.7"))
    assert len({e.visitor_id for e in stream_events(redis_db)}) == 3


async def test_a_page_view_after_30_minutes_of_silence_starts_a_new_visit(
    client, site, redis_db, clock
):
    await send(client, pageview())
    clock.advance(29 * 60)
    await send(client, pageview())
    clock.advance(29 * 60)
    await send(client, {"n": "engagement", "u": "https://news.example/a.html", "e": 1000})
    clock.advance(30 * 60)
    await send(client, pageview())
    assert [e.new_visit for e in stream_events(redis_db)] == [True, False, False, True]


async def test_engagement_keeps_a_visit_alive(client, site, redis_db, clock):
    await send(client, pageview())
    for _ in range(3):
        clock.advance(20 * 60)
        await send(client, {"n": "engagement", "u": "https://news.example/a.html", "e": 1})
    await send(client, pageview())
    assert stream_events(redis_db)[-1].new_visit is False


async def test_a_visits_later_events_carry_the_event_that_started_it(client, site, redis_db, clock):
    entry = pageview("https://news.example/a.html?utm_source=mail", r="https://t.co/x")
    await send(client, entry)
    clock.advance(60)
    await send(client, {"n": "engagement", "u": "https://news.example/a.html", "e": 1000})
    await send(client, pageview("https://news.example/b.html"))
    clock.advance(31 * 60)
    await send(client, pageview("https://news.example/c.html"))
    entries = _entries(redis_db)
    first = entries[0][b"e"]
    assert [visit_entry_of(fields) for fields in entries] == [b"", first, first, b""]
    assert decode_event(first).url == entry["u"]


async def test_a_visit_an_older_collector_started_goes_on_without_its_entry(
    client, site, redis_db, clock
):
    await send(client, pageview())
    (event,) = stream_events(redis_db)
    visit = keys.visit("news.example", event.visitor_id)
    start = event.visit_start
    redis_db.set(visit, f"{start}:{start}:1", px=1_800_000)  # what it wrote: no entry
    clock.advance(60)
    await send(client, pageview())
    later = _entries(redis_db)[-1]
    assert visit_entry_of(later) == b""
    assert stream_events(redis_db)[-1].visit_start == start
    assert stream_events(redis_db)[-1].pageview_number == 2


def _entries(redis_db) -> list[dict[bytes, bytes]]:
    return [fields for _, fields in redis_db.xrange(keys.stream("news.example"))]


async def test_visits_are_counted_exactly_at_ingest(client, site, clock, aggregator):
    await send(client, pageview(), pageview(), pageview(ua=OTHER_UA))
    clock.advance(31 * 60)
    await send(client, pageview())
    await aggregator.drain()
    assert (await counters(client))["total"] == 3  # visits: 2 + 1 after the gap


async def test_online_counts_visitors_seen_within_the_window(client, site, clock):
    await send(client, pageview())
    clock.advance(100)
    await send(client, pageview(ua=OTHER_UA))
    assert (await counters(client))["online"] == 2
    clock.advance(201)  # the first visitor was last seen 301 s ago
    assert (await counters(client))["online"] == 1
    await send(client, {"n": "engagement", "u": "https://news.example/x.html", "e": 5})
    clock.advance(1)
    assert (await counters(client))["online"] == 2
    clock.advance(301)
    assert (await counters(client))["online"] == 0


async def test_readers_count_visitors_of_one_article(client, site, clock, aggregator):
    await send(client, pageview("https://news.example/news/a-1.html"))
    await send(client, pageview("https://news.example/news/b-2.html", ua=OTHER_UA))
    await send(client, pageview("https://news.example/news/a-1.html", ip="198.51.100.7"))
    await aggregator.drain()
    clock.advance(2)
    assert await counters(client, "a-1") == {"total": 3, "online": 3, "views": 2, "readers": 2}
    clock.advance(300)
    assert (await counters(client, "a-1"))["readers"] == 0


async def test_the_online_window_is_per_site(client, add_site, clock):
    await add_site("news.example", public_counters=True, online_window=60)
    await send(client, pageview())
    clock.advance(61)
    assert (await counters(client))["online"] == 0


async def test_presence_keys_are_trimmed_or_expire(client, site, redis_db, clock):
    await send(client, pageview("https://news.example/news/a-1.html"))
    clock.advance(301)
    await send(client, pageview("https://news.example/news/a-1.html", ua=OTHER_UA))
    # ingest.lua appends to prefixes footfall.keys gives it: the keys footfall.keys names
    assert redis_db.zcard(keys.online("news.example")) == 1
    assert redis_db.zcard(keys.readers("news.example", "a-1")) == 1
    assert 0 < redis_db.pttl(keys.online("news.example")) <= 300_000
    assert 0 < redis_db.pttl(keys.readers("news.example", "a-1")) <= 300_000
    events = stream_events(redis_db)
    visits = [keys.visit("news.example", e.visitor_id) for e in events]
    assert len(set(visits)) == 2
    assert all(0 < redis_db.pttl(key) <= 1_800_000 for key in visits)


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "UptimeRobot/2.0",
        "",
    ],
)
async def test_bots_are_answered_202_and_not_stored(client, site, redis_db, agent):
    response = await client.post("/api/event", json=pageview(), headers={"User-Agent": agent})
    assert response.status == 202
    assert response.headers["X-Footfall-Dropped"] == "bot"
    assert stream_events(redis_db) == []


@pytest.mark.parametrize(
    "agent",
    [
        BROWSER_UA,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:132.0) Gecko/20100101 Firefox/132.0",
    ],
)
def test_browsers_are_not_bots(agent):
    assert not is_bot(agent)
