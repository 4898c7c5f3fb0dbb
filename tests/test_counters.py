"""GET /api/counters: the public counters a page embeds."""

from __future__ import annotations

import pytest

from tests.helpers import pageview

ARTICLE_URL = "https://news.example/tin-tuc/story-975.html"


async def get(client, query: str, **headers):
    return await client.get("/api/counters" + query, headers=headers)


async def test_total_is_visits_plus_the_carried_over_offset(client, add_site, aggregator):
    await add_site("news.example", public_counters=True, counter_offset=34_231_141)
    await client.post("/api/event", json=pageview())
    await aggregator.drain()
    response = await get(client, "?d=news.example")
    assert response.status == 200
    assert await response.json() == {"total": 34_231_142, "online": 1}


async def test_total_can_count_page_views_instead(client, add_site, clock, aggregator):
    await add_site("news.example", public_counters=True, counter_measure="pageviews")
    for _ in range(3):
        await client.post("/api/event", json=pageview())
    await aggregator.drain()
    assert (await (await get(client, "?d=news.example")).json())["total"] == 3


async def test_article_pageviews_and_readers_by_id_or_by_page_url(client, add_site, aggregator):
    await add_site("news.example", public_counters=True)
    await client.post("/api/event", json=pageview(ARTICLE_URL))
    await aggregator.drain()
    expected = {"total": 1, "online": 1, "views": 1, "readers": 1}
    assert await (await get(client, "?d=news.example&a=story-975")).json() == expected
    assert await (await get(client, f"?d=news.example&u={ARTICLE_URL}")).json() == expected


async def test_answers_are_cacheable_and_open_to_any_origin(client, add_site):
    await add_site("news.example", public_counters=True)
    response = await get(client, "?d=news.example")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=5"
    again = await get(client, "?d=news.example", **{"If-None-Match": response.headers["ETag"]})
    assert again.status == 304


async def test_counters_are_cached_for_a_second_then_fresh(client, add_site, clock, aggregator):
    await add_site("news.example", public_counters=True)
    assert (await (await get(client, "?d=news.example")).json())["total"] == 0
    await client.post("/api/event", json=pageview())
    await aggregator.drain()
    assert (await (await get(client, "?d=news.example")).json())["total"] == 0
    clock.advance(1)
    assert (await (await get(client, "?d=news.example")).json())["total"] == 1


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("", 400, "d"),
        ("?d=", 400, "d"),
        ("?d=unknown.example", 404, "d"),
        ("?d=private.example", 404, "d"),
        ("?d=news.example&a=" + "x" * 201, 400, "a"),
        ("?d=news.example&u=javascript:alert(1)", 400, "u"),
    ],
)
async def test_bad_counter_requests_get_a_clear_4xx(client, add_site, query, status, field):
    await add_site("news.example", public_counters=True)
    await add_site("private.example", public_counters=False)
    response = await get(client, query)
    assert response.status == status
    assert (await response.json())["field"] == field
    assert response.headers["Access-Control-Allow-Origin"] == "*"
