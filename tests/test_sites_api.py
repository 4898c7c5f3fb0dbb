"""The Sites API: CRUD behind a Bearer token, ClickHouse as the record, Redis as the mirror."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time

import msgspec
import pytest
import re2

from app.redis_server import free_port
from dashboard.site_registry import SiteRegistry
from dashboard.sql.records import SITE_COLUMNS
from footfall import keys
from footfall.connections import AsyncClickHouse, async_redis
from footfall.sites import Site, site_to_json
from tests.conftest import AUTH
from tests.helpers import Recording, pageview, stream_events


async def test_a_created_site_is_stored_in_clickhouse_and_mirrored_in_redis(client, ch, redis_db):
    body = {
        "domain": "baochinhphu.example",
        "timezone": "Asia/Ho_Chi_Minh",
        "public_counters": True,
        "counter_measure": "pageviews",
        "counter_offset": 1000,
        "online_window": 600,
        "article_pattern": r"-(?P<article>\d+)\.htm",
    }
    response = await client.post("/api/v1/sites", json=body, headers=AUTH)
    assert response.status == 201
    created = await response.json()
    assert {k: created[k] for k in body} == body
    assert 'data-domain="baochinhphu.example"' in created["snippet"]
    rows = ch.query("SELECT domain, timezone FROM sites FINAL WHERE NOT deleted").result_rows
    assert rows == [("baochinhphu.example", "Asia/Ho_Chi_Minh")]
    assert json.loads(redis_db.hget(keys.SITES, "baochinhphu.example"))["online_window"] == 600


async def test_sites_are_listed_and_read_back(client, add_site):
    await add_site("b.example")
    await add_site("a.example")
    listed = await (await client.get("/api/v1/sites", headers=AUTH)).json()
    assert [s["domain"] for s in listed["sites"]] == ["a.example", "b.example"]
    one = await client.get("/api/v1/sites/a.example", headers=AUTH)
    assert (await one.json())["timezone"] == "UTC"


async def test_put_changes_the_given_fields_and_keeps_the_others(client, add_site):
    await add_site("news.example", timezone="Asia/Ho_Chi_Minh")
    response = await client.put(
        "/api/v1/sites/news.example", json={"public_counters": True}, headers=AUTH
    )
    assert response.status == 200
    site = await response.json()
    assert (site["public_counters"], site["timezone"]) == (True, "Asia/Ho_Chi_Minh")


async def test_a_new_site_is_accepted_by_the_collector_once_its_notice_arrives(client, add_site):
    assert (await client.post("/api/event", json=pageview())).status == 404  # cached as unknown
    await add_site("news.example")
    for _ in range(50):  # the notice, not the 5 s expiry of "unknown", lets it in
        if (await client.post("/api/event", json=pageview())).status == 202:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the collector kept refusing a new site")


async def test_a_deleted_site_is_refused_by_the_collector(client, add_site, redis_db):
    await add_site("news.example")
    assert (await client.post("/api/event", json=pageview())).status == 202
    response = await client.delete("/api/v1/sites/news.example", headers=AUTH)
    assert await response.json() == {"deleted": True}
    assert not redis_db.hexists(keys.SITES, "news.example")
    for _ in range(50):  # the change notice reaches the collector's cache
        if (await client.post("/api/event", json=pageview())).status == 404:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the collector kept accepting events for a deleted site")
    assert (await client.get("/api/v1/sites/news.example", headers=AUTH)).status == 404


async def test_a_change_by_another_process_reaches_the_collector(client, add_site, redis_db):
    """The notice on ff:sites:changed is what a dashboard in another process publishes."""
    await add_site("news.example", public_counters=False)
    assert (await client.get("/api/counters?d=news.example")).status == 404
    site = json.loads(redis_db.hget(keys.SITES, "news.example"))
    redis_db.hset(keys.SITES, "news.example", json.dumps({**site, "public_counters": True}))
    redis_db.publish(keys.SITES_CHANNEL, "news.example")
    for _ in range(50):
        if (await client.get("/api/counters?d=news.example")).status == 200:
            return
        await asyncio.sleep(0.02)
    pytest.fail("the collector did not see the change")


async def test_the_mirror_is_rebuilt_from_clickhouse_at_start(make_client, add_site, redis_db):
    await add_site("news.example")
    redis_db.flushall()
    fresh = await make_client()
    assert (await fresh.post("/api/event", json=pageview())).status == 202


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("POST", "/api/v1/sites", {"timezone": "UTC"}, 400, "domain"),
        ("POST", "/api/v1/sites", {"domain": "not a domain"}, 400, "domain"),
        ("POST", "/api/v1/sites", {"domain": "x.example", "timezone": "Mars/Base"}, 400, "timezone"),
        ("POST", "/api/v1/sites", {"domain": "x.example", "online_window": 5}, 400, "online_window"),
        ("POST", "/api/v1/sites", {"domain": "x.example", "counter_offset": -1}, 400, "counter_offset"),
        ("POST", "/api/v1/sites", {"domain": "x.example", "counter_measure": "hits"}, 400, "counter_measure"),
        ("POST", "/api/v1/sites", {"domain": "x.example", "article_pattern": "(\\d+)"}, 400, "article_pattern"),
        ("POST", "/api/v1/sites", {"domain": "x.example", "article_pattern": "("}, 400, "article_pattern"),
        ("POST", "/api/v1/sites", {"domain": "x.example", "article_pattern": "(?P<article>a)" + "b" * 500}, 400, "article_pattern"),
        ("POST", "/api/v1/sites", {"domain": "x.example", "colour": "red"}, 400, "colour"),
        ("POST", "/api/v1/sites", {"domain": "news.example"}, 409, "domain"),
        ("POST", "/api/v1/sites", [1], 400, ""),
        ("PUT", "/api/v1/sites/news.example", {"domain": "other.example"}, 400, "domain"),
        ("PUT", "/api/v1/sites/news.example", {"online_window": "long"}, 400, "online_window"),
        ("PUT", "/api/v1/sites/news.example", [1], 400, ""),
        ("PUT", "/api/v1/sites/missing.example", {}, 404, "domain"),
        ("GET", "/api/v1/sites/missing.example", None, 404, "domain"),
        ("DELETE", "/api/v1/sites/missing.example", None, 404, "domain"),
    ],
)  # fmt: skip
async def test_bad_site_requests_get_a_clear_4xx(
    client, add_site, method, path, body, status, field
):
    await add_site("news.example")
    response = await client.request(method, path, json=body, headers=AUTH)
    assert response.status == status
    error = await response.json()
    assert error["error"]
    assert error.get("field", "") == field


# The article rule ------------------------------------------------------------------

EVIL = "/(?P<article>(a+)+)b"  # seconds of backtracking for Python's re on 30 a's


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"/(?P<article>\w+)-\1", "invalid escape sequence: \\1"),
        (r"(?<=/tin-tuc/)(?P<article>\d+)", "invalid perl operator: (?<"),
        (r"/(?P<article>\d+)(?=\.html)", "invalid perl operator: (?="),
        (r"/(?P<article>\d+)\.html\Z", "invalid escape sequence: \\Z"),
    ],
)
async def test_an_article_pattern_re2_cannot_run_is_refused_saying_why(
    client, add_site, pattern, reason
):
    response = await client.post(
        "/api/v1/sites", json={"domain": "x.example", "article_pattern": pattern}, headers=AUTH
    )
    assert response.status == 400
    error = await response.json()
    assert error["field"] == "article_pattern"
    assert reason in error["error"] and "RE2" in error["error"]
    await add_site("news.example")
    response = await client.put(
        "/api/v1/sites/news.example", json={"article_pattern": pattern}, headers=AUTH
    )
    assert (response.status, (await response.json())["field"]) == (400, "article_pattern")


async def test_a_backtracking_pattern_is_run_by_re2_in_linear_time(client, add_site):
    from footfall.sites import article_rule  # the engine first: Python's re would not return

    site = Site(domain="news.example", article_pattern=EVIL)
    assert isinstance(article_rule(EVIL), re2._Regexp)
    assert site.article_of("https://news.example/" + "a" * 100_000) == ""
    assert site.article_of("https://news.example/aaab") == "aaa"
    await add_site("news.example", article_pattern=EVIL, public_counters=True)
    page = "https://news.example/" + "a" * 1950  # near the longest `u` the counters take
    response = await client.get("/api/counters", params={"d": "news.example", "u": page})
    assert response.status == 200
    assert "views" not in await response.json()  # no article in that URL


def site_rule(site: Site):  # type: ignore[no-untyped-def]
    from footfall.sites import _rule

    return _rule(site.article_pattern)


async def test_a_stored_pattern_re2_refuses_gives_way_to_the_default_rule(
    make_client, ch, redis_db, caplog
):
    """A site written before footfall used RE2 keeps its events counted, under the default
    rule, and the log says why, once; the next change of the site must fix the pattern."""
    old = Site(domain="gov.example", article_pattern=r"(?<=/tin-tuc/)(?P<article>\d+)")
    row = [*msgspec.structs.astuple(old), dt.datetime.now(dt.UTC), False, time.time_ns()]
    ch.insert("sites", [row], column_names=SITE_COLUMNS)
    redis_db.hset(keys.SITES, old.domain, site_to_json(old))
    client = await make_client()  # rebuilds the mirror from ClickHouse at start
    url = "https://gov.example/tin-tuc/975-bao-so-3.html"
    with caplog.at_level(logging.WARNING, logger="footfall.sites"):
        for _ in range(2):
            response = await client.post("/api/event", json=pageview(url))
            assert response.status == 202, await response.text()
    assert [e.article for e in stream_events(redis_db)] == ["975-bao-so-3"] * 2
    warned = [r for r in caplog.records if "RE2 cannot compile" in r.getMessage()]
    assert len(warned) == 1
    response = await client.put(
        "/api/v1/sites/gov.example", json={"online_window": 600}, headers=AUTH
    )
    assert (response.status, (await response.json())["field"]) == (400, "article_pattern")


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dXNlcjpwdw=="}]
)
async def test_the_sites_api_needs_the_token(client, headers):
    response = await client.get("/api/v1/sites", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error" in await response.json()


async def test_malformed_json_is_a_400(client):
    response = await client.post("/api/v1/sites", data=b"{nope", headers=AUTH)
    assert response.status == 400


async def test_a_stats_call_reads_its_site_from_the_mirror_and_clickhouse_without_it(
    add_site, ch, redis_db, settings
):
    await add_site("a.example", timezone="Asia/Ho_Chi_Minh")
    redis = async_redis(settings.redis_url)
    recording = Recording(ch)
    registry = SiteRegistry(recording, redis)
    site = await registry.mirrored("A.example")
    assert site == await SiteRegistry(AsyncClickHouse(ch), redis).get("a.example")
    assert site.timezone == "Asia/Ho_Chi_Minh"
    assert recording.statements == []
    redis_db.hdel(keys.SITES, "a.example")  # a mirror not rebuilt yet
    assert await registry.mirrored("a.example") == site
    assert await registry.mirrored("nowhere.example") is None
    assert len(recording.statements) == 2
    await redis.aclose()
    unreachable = async_redis(f"redis://127.0.0.1:{free_port()}")  # Redis down
    assert await SiteRegistry(AsyncClickHouse(ch), unreachable).mirrored("a.example") == site
    await unreachable.aclose()
