"""Engagement events joined to their page view: engaged time and scroll depth per page view and
per article, from events posted through the collector like the snippet sends them."""

from __future__ import annotations

import pytest

from tests.test_aggregator import SITE, V1, V2, send, site  # noqa: F401 - the fixture

A1, B2 = "/tin-tuc/a-1.html", "/tin-tuc/b-2.html"

# The query migration 0005 documents for the dashboard.
PER_ARTICLE = """
    SELECT article_id, count() AS pageviews,
           avg(engaged_ms) AS engaged_ms_per_pageview,
           avgIf(scroll_depth, scroll_depth >= 0) AS scroll_depth
    FROM (
        SELECT pageview_id, max(article_id) AS article_id, sum(pageviews) AS viewed,
               sum(engaged_ms) AS engaged_ms, max(scroll_depth) AS scroll_depth
        FROM pageview_engagement
        WHERE site = {site:String} AND date BETWEEN '2023-11-15' AND '2023-11-16'
        GROUP BY pageview_id
    )
    WHERE viewed > 0 AND article_id != ''
    GROUP BY article_id ORDER BY article_id
"""


def viewed(path: str, visitor: dict, pv: str) -> dict:
    return {"n": "pageview", "u": f"https://{SITE}{path}", "pv": pv, **visitor}


def engaged(path: str, visitor: dict, pv: str, ms: int, depth: int) -> dict:
    """A heartbeat or the last engagement: time since the previous one, deepest scroll so far."""
    return {"n": "engagement", "u": f"https://{SITE}{path}", "pv": pv, "e": ms, "sd": depth,
            **visitor}  # fmt: skip


@pytest.mark.usefixtures("site")
async def test_engagement_joins_its_page_view_across_batches(client, clock, ch, aggregator):
    await send(client, viewed(A1, V1, "pv-1"))
    clock.advance(30)
    await send(client, engaged(A1, V1, "pv-1", 30_000, 40))
    await aggregator.drain()  # the rest of pv-1 comes in a later batch
    clock.advance(30)
    await send(client, engaged(A1, V1, "pv-1", 30_000, 75), viewed(A1, V2, "pv-2"))
    clock.advance(12)
    await send(client, engaged(A1, V1, "pv-1", 12_000, 75))  # the last one, on leaving
    await send(client, engaged(A1, V2, "pv-2", 8_000, 20), viewed(B2, V1, "pv-3"))
    await aggregator.drain()

    per_pageview = ch.query(
        "SELECT pageview_id, max(article_id), max(path), sum(pageviews), sum(engagements), "
        "sum(engaged_ms), max(scroll_depth) FROM pageview_engagement "
        "GROUP BY pageview_id ORDER BY pageview_id"
    ).result_rows
    assert per_pageview == [
        ("pv-1", "a-1", A1, 1, 3, 72_000, 75),
        ("pv-2", "a-1", A1, 1, 1, 8_000, 20),
        ("pv-3", "b-2", B2, 1, 0, 0, -1),  # no engagement yet: no scroll depth
    ]
    per_article = ch.query(PER_ARTICLE, parameters={"site": SITE}).result_rows
    assert per_article[0] == ("a-1", 2, 40_000.0, 47.5)  # (72 + 8) / 2 s, (75 + 20) / 2 %
    article, pageviews, engaged_ms, depth = per_article[1]
    assert (article, pageviews, engaged_ms) == ("b-2", 1, 0.0)
    assert depth != depth  # NaN: no page view of b-2 reported a scroll depth


@pytest.mark.usefixtures("site")
async def test_events_without_a_page_view_id_stay_out_of_the_join(client, ch, aggregator):
    await send(client, {"n": "pageview", "u": f"https://{SITE}{A1}", **V1},
               {"n": "engagement", "u": f"https://{SITE}{A1}", "e": 5_000, **V1})  # fmt: skip
    await aggregator.drain()
    assert ch.query("SELECT count() FROM pageview_engagement").result_rows == [(0,)]
    assert ch.query("SELECT sum(engaged_ms) FROM article_stats WHERE span = 'day'").result_rows == [
        (5_000,)
    ]
