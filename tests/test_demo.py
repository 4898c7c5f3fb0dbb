"""Demo traffic: a world of readers that looks real, sent through the real collector."""

from __future__ import annotations

import ipaddress
import random
from collections import Counter

from iptocc import country_code

from app.demo import COUNTRY_RANGES, POPULARITY, mean_events_per_visit, plan_visit
from app.demo_traffic import send_demo_traffic
from footfall.urls import split_url
from tests.conftest import ADMIN_TOKEN
from tests.helpers import stream_events


def test_every_country_range_belongs_to_its_country_in_the_registries():
    rng = random.Random(3)
    for country, ranges in COUNTRY_RANGES.items():
        for text in ranges:
            network = ipaddress.ip_network(text)
            for _ in range(50):
                address = str(network[rng.randrange(network.num_addresses)])
                assert country_code(address) == country, (country, text, address)


def test_article_popularity_has_a_long_tail():
    rng = random.Random(5)
    reads = Counter(POPULARITY.draw(rng).id for _ in range(20_000))
    ranked = [n for _, n in reads.most_common()]
    assert ranked[0] > 10 * ranked[50]  # a few stories take most reads...
    assert len(reads) > 300  # ...and hundreds are read now and then


def test_a_visit_is_page_views_each_followed_by_engagement_in_time_order():
    rng = random.Random(11)
    visits = [plan_visit(rng, "news.example", 1_000_000) for _ in range(300)]
    for events in visits:
        times = [e.at_ms for e in events]
        assert times == sorted(times)
        assert events[0].body["n"] == "pageview"
        assert len({(e.body["ip"], e.body["ua"]) for e in events}) == 1  # one visitor
        for e in events:
            assert split_url(e.body["u"])[0] == "news.example"
    pages = [sum(e.body["n"] == "pageview" for e in events) for events in visits]
    assert 2 < sum(pages) / len(pages) < 3
    assert 4 < mean_events_per_visit() < 12


async def test_a_short_run_fills_the_stream_with_lifelike_traffic(
    client, add_site, redis_db, clock
):
    await add_site("news.example")

    async def sleep(seconds: float) -> None:  # a minute of traffic, without waiting a minute
        clock.advance(seconds)

    report = await send_demo_traffic(
        str(client.make_url("")), "news.example", rate=40, duration_s=90,
        token=ADMIN_TOKEN, seed=1, clock=clock, sleep=sleep,
    )  # fmt: skip
    events = stream_events(redis_db)
    assert report.accepted == len(events) == report.sent
    assert 1000 < len(events) <= 40 * 90 + 1  # the rate is a bound
    kinds = Counter(e.type for e in events)
    assert kinds["pageview"] > 300 and kinds["engagement"] > 300
    engaged = [e for e in events if e.type == "engagement"]
    assert all(e.engaged_ms > 0 and 0 < e.scroll_depth <= 100 for e in engaged)
    assert max(e.pageview_number for e in events) >= 3  # visits of several pages
    assert sum(e.new_visit for e in events) >= 50
    referrers = {split_url(e.referrer)[0] for e in events if e.referrer}
    assert {"google.com", "m.facebook.com", "news.example"} <= referrers
    assert any("utm_campaign=" in e.url for e in events)
    countries = Counter(e.country for e in events)
    assert "" not in countries and len(countries) >= 6 and countries.most_common(1)[0][0] == "VN"
    agents = {e.user_agent for e in events}
    assert any("iPhone" in a for a in agents) and any("Windows NT" in a for a in agents)
    assert len({e.article for e in events if e.article}) > 50
