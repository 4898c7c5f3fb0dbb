"""The Events API's wire format: long and short names, text/plain, batches, footfall's fields."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from footfall import keys
from footfall.wire import date_from_days
from tests.conftest import AUTH, BROWSER_UA
from tests.helpers import pageview, stream_events


@pytest.fixture
async def site(add_site):
    return await add_site("news.example")


async def test_short_names_as_text_plain_are_accepted_with_202(client, site, redis_db, clock):
    body = {
        "n": "pageview",
        "u": "https://news.example/news/story-1.html?utm_source=fb",
        "d": "news.example",
        "r": "https://www.google.com/",
        "w": 1280,
        "ti": "Story one",
        "pv": "abc123",
    }
    response = await client.post(
        "/api/event", data=orjson.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert response.status == 202
    [event] = stream_events(redis_db)
    assert event.site == "news.example"
    assert event.type == "pageview"
    assert event.url == body["u"]
    assert event.referrer == "https://www.google.com/"
    assert event.screen_width == 1280
    assert event.title == "Story one"
    assert event.pageview_id == "abc123"
    assert event.article == "story-1"
    assert event.ts == clock.now_ms
    assert event.user_agent == BROWSER_UA
    assert event.new_visit


async def test_long_names_mean_the_same_as_short_names(client, site, redis_db):
    long = {
        "name": "pageview",
        "url": "https://news.example/b.html",
        "domain": "news.example",
        "referrer": "https://t.co/x",
        "props": {"author": "An", "words": 1200, "paid": False},
        "hashMode": 1,
    }
    response = await client.post("/api/event", json=long)
    assert response.status == 202
    [event] = stream_events(redis_db)
    assert (event.url, event.referrer, event.hash_mode) == (long["url"], "https://t.co/x", True)
    assert event.props == {"author": "An", "words": "1200", "paid": "false"}


async def test_domain_defaults_to_the_url_host_without_www(client, site, redis_db):
    response = await client.post("/api/event", json=pageview("https://www.news.example/x"))
    assert response.status == 202
    assert stream_events(redis_db)[0].site == "news.example"


async def test_props_sent_as_a_json_string_by_older_trackers_are_decoded(client, site, redis_db):
    response = await client.post("/api/event", json=pageview(m='{"plan":"pro"}'))
    assert response.status == 202
    assert stream_events(redis_db)[0].props == {"plan": "pro"}


async def test_engagement_carries_engaged_time_and_scroll_depth(client, site, redis_db):
    body = {"n": "engagement", "u": "https://news.example/a.html", "pv": "p1", "e": 30000, "sd": 55}
    assert (await client.post("/api/event", json=body)).status == 202
    [event] = stream_events(redis_db)
    assert (event.type, event.engaged_ms, event.scroll_depth, event.pageview_id) == (
        "engagement",
        30000,
        55,
        "p1",
    )
    assert not event.new_visit


async def test_an_event_carries_its_sites_date_when_it_arrived(
    client, site, add_site, redis_db, clock
):
    """Dated in each site's timezone, by the day whose salt made its visitor id."""
    await add_site("hanoi.example", timezone="Asia/Ho_Chi_Minh")
    clock.now_ms = 1_700_078_400_000  # 2023-11-15 20:00 UTC: 03:00 on the 16th in Hà Nội
    body = pageview(d="news.example,hanoi.example")
    assert (await client.post("/api/event", json=body)).status == 202
    dates = {event.site: date_from_days(event.date) for event in stream_events(redis_db)}
    assert dates == {"news.example": dt.date(2023, 11, 15), "hanoi.example": dt.date(2023, 11, 16)}


async def test_custom_events_keep_their_name(client, site, redis_db):
    response = await client.post("/api/event", json=pageview(n="Signup", p={"plan": "free"}))
    assert response.status == 202
    [event] = stream_events(redis_db)
    assert (event.type, event.name, event.props) == ("custom", "Signup", {"plan": "free"})


async def test_an_explicit_article_id_wins_over_the_sites_rule(client, site, redis_db):
    assert (await client.post("/api/event", json=pageview(a=975))).status == 202
    assert stream_events(redis_db)[0].article == "975"


async def test_a_custom_article_rule_takes_the_named_group(client, add_site, redis_db):
    await add_site("gov.example", article_pattern=r"/tin-tuc/(?P<article>\d+)-")
    url = "https://gov.example/tin-tuc/4521-thong-bao.html"
    assert (await client.post("/api/event", json=pageview(url))).status == 202
    assert stream_events(redis_db)[0].article == "4521"


async def test_an_event_for_several_domains_is_stored_once_per_registered_site(
    client, site, add_site, redis_db
):
    await add_site("rollup.example")
    body = pageview(d="news.example,rollup.example,unregistered.example")
    assert (await client.post("/api/event", json=body)).status == 202
    assert sorted(e.site for e in stream_events(redis_db)) == ["news.example", "rollup.example"]


@pytest.mark.parametrize(
    ("d", "sites"),
    [(",".join(["news.example"] * 70), ["news.example"]),
     ("news.example,NEWS.Example,www.news.example,news.example.", ["news.example"]),
     ("rollup.example,news.example,www.rollup.example,news.example",
      ["news.example", "rollup.example"])],
    ids=["repeated", "case and www. variants", "with a rollup"],
)  # fmt: skip
async def test_a_site_named_several_times_in_d_stores_the_event_once(
    client, site, add_site, redis_db, d, sites
):
    await add_site("rollup.example")
    assert (await client.post("/api/event", json=pageview(d=d))).status == 202
    assert (await client.post("/api/events", json=[pageview(d=d)])).status == 202
    assert sorted(e.site for e in stream_events(redis_db)) == sorted(sites * 2)


async def test_plausibles_own_tracker_payload_is_accepted(client, site, redis_db):
    """What Plausible's script.js sends: text/plain, `v` and `i` fields, null referrer."""
    body = (
        b'{"n":"pageview","v":25,"u":"https://news.example/","d":"news.example","r":null,"i":true}'
    )
    response = await client.post("/api/event", data=body, headers={"Content-Type": "text/plain"})
    assert response.status == 202
    assert stream_events(redis_db)[0].referrer == ""


async def test_a_batch_is_stored_whole_and_answers_counts(client, site, redis_db):
    batch = [pageview(f"https://news.example/{i}.html") for i in range(5)]
    response = await client.post("/api/events", json=batch)
    assert response.status == 202
    assert await response.json() == {"accepted": 5, "dropped": 0}
    assert [e.article for e in stream_events(redis_db)] == ["0", "1", "2", "3", "4"]


async def test_a_batch_with_a_token_takes_ip_and_user_agent_per_event(client, site, redis_db):
    batch = [
        pageview(ip="14.160.0.1", ua=BROWSER_UA),
        pageview(ip="8.8.8.8", ua=BROWSER_UA + " Edg/131"),
        pageview(ip="8.8.8.8", ua="Googlebot/2.1 (+http://www.google.com/bot.html)"),
    ]
    response = await client.post("/api/events", json=batch, headers=AUTH)
    assert response.status == 202
    assert await response.json() == {"accepted": 2, "dropped": 1}
    first, second = stream_events(redis_db)
    assert (first.country, second.country) == ("VN", "US")
    assert second.user_agent.endswith("Edg/131")
    assert first.visitor_id != second.visitor_id


async def test_a_batch_without_a_token_may_not_set_ip_or_user_agent(client, site, redis_db):
    batch = [pageview(), pageview(ip="8.8.8.8")]
    response = await client.post("/api/events", json=batch)
    assert response.status == 401
    assert (await response.json())["field"] == "[1].ip"
    assert stream_events(redis_db) == []


async def test_a_batch_with_one_invalid_event_stores_nothing(client, site, redis_db):
    batch = [pageview(), {"n": "pageview", "u": "ftp://news.example/x"}]
    response = await client.post("/api/events", json=batch)
    assert response.status == 400
    assert (await response.json())["field"] == "[1].u"
    assert stream_events(redis_db) == []


async def test_cors_preflight_and_headers_let_any_page_send(client, site):
    preflight = await client.options("/api/event")
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    response = await client.post("/api/event", json=pageview())
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_no_ip_address_is_stored(client, site, redis_db):
    await client.post("/api/events", json=[pageview(ip="14.160.0.1", ua=BROWSER_UA)], headers=AUTH)
    raw = b"".join(fields[b"e"] for _, fields in redis_db.xrange(keys.stream(site["domain"])))
    assert b"14.160.0.1" not in raw
    assert b"127.0.0.1" not in raw
