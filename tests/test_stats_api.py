"""The Stats API: numbers checked against events this test sends and counts by hand.

One scripted stretch around midnight in Hà Nội (UTC+7): the site's day
2023-11-15 ("day A") ends at 17:00 UTC, 2023-11-16 ("day B") begins. Four
people, two of them on both days: visitor ids change at the site's midnight, so
they are six visitors, in six visits (one of them cut at midnight); the counts
the asserts expect are worked out in `scripted_midnight`'s docstring.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import zoneinfo
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.schema import migrations
from dashboard import queries
from dashboard.csv_export import FORMULA_STARTS, csv_response
from dashboard.filters import parse_filters
from dashboard.periods import FIRST_DATE, LAST_DATE, DateRange
from dashboard.properties import PROPERTIES
from dashboard.queries import Selection
from dashboard.stats_metrics import change, compute, parse_metrics, quantities_of
from footfall.connections import CHDB_SETTINGS, AsyncClickHouse
from tests.conftest import AUTH, BROWSER_UA
from tests.helpers import Recording

SITE = "news.example"
TZ = "Asia/Ho_Chi_Minh"
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
V1 = {"ip": "8.8.8.8", "ua": BROWSER_UA}  # United States, desktop
V2 = {"ip": "14.160.0.1", "ua": MOBILE_UA}  # Viet Nam, mobile
V3 = {"ip": "1.1.1.1", "ua": BROWSER_UA}  # Australia, desktop
V4 = {"ip": "81.2.69.160", "ua": BROWSER_UA}  # United Kingdom, desktop
A1, B2, C3, D4 = (f"/tin-tuc/{a}.html" for a in ("a-1", "b-2", "c-3", "d-4"))
GOOGLE, FACEBOOK = "https://www.google.com/", "https://m.facebook.com/"
DAY_A, DAY_B = "2023-11-15", "2023-11-16"


def page(path: str, visitor: dict, referrer: str = "", title: str = "") -> dict:
    return {"n": "pageview", "u": f"https://{SITE}{path}", "r": referrer, "ti": title, **visitor}


def engagement(path: str, visitor: dict, ms: int) -> dict:
    return {"n": "engagement", "u": f"https://{SITE}{path}", "e": ms, **visitor}


def internal(path: str) -> str:
    return f"https://{SITE}{path}"


async def send(client, *events) -> None:
    response = await client.post("/api/events", json=list(events), headers=AUTH)
    assert response.status == 202, await response.text()


async def at(clock, hh_mm_ss: str) -> None:
    """Move the clock to that UTC time of 2023-11-15 (the clock starts at 12:00)."""
    h, m, s = (int(x) for x in hh_mm_ss.split(":"))
    clock.now_ms = 1_700_006_400_000 + ((h * 60 + m) * 60 + s) * 1000  # 2023-11-15 00:00 UTC


async def scripted_midnight(client, clock, aggregator) -> None:
    """Times UTC (local = +7). Day A: 23:40-23:59 local; day B: from 00:00 local.

    visit 1, V1, A: a-1 (Google) 16:40:00, engagement 30 s, b-2 16:41, engagement 20 s
        16:42 -> 2 page views, 120 s, no bounce
    visit 2, V2, A: a-1 (Facebook) 16:45 -> bounce, 0 s
    visit 2b, V2 on B (a new visitor id at midnight, so a new visit): b-2 at 17:05, its
        referrer a-1 on the site itself (Direct / None) -> bounce, 0 s
    visit 3, V3, A: c-3 with utm (newsletter/email/nov) 16:50, Signup 16:55 -> 1 page view,
        300 s, bounce
    visit 4, V4, B: a-1 (Google) 17:20 -> bounce, 0 s
    visit 5, V3 on B: a-1 17:30 (no referrer), d-4 17:31 -> 60 s

    Day A: 4 page views, 3 visitors, 3 visits, 5 events, 2 bounces (67 %), 420 s / 3 = 140 s,
    engaged 50 s / 3 visitors = 17 s. Day B: 4 page views, 3 visitors (V2, V4, V3), 3 visits,
    4 events, 2 bounces (67 %), 60 s / 3 = 20 s. Both days: 6 visitors (V2 and V3 count on
    each day), 6 visits, 4 bounces (67 %), 480 s / 6 = 80 s, engaged 50 s / 6 = 8 s.
    """
    await at(clock, "16:40:00")
    await send(client, page(A1, V1, GOOGLE, "Bão số 3"))
    await at(clock, "16:40:10")
    await send(client, engagement(A1, V1, 30_000))
    await at(clock, "16:41:00")
    await send(client, page(B2, V1, internal(A1), "Tỷ giá"))
    await at(clock, "16:42:00")
    await send(client, engagement(B2, V1, 20_000))
    await at(clock, "16:45:00")
    await send(client, page(A1, V2, FACEBOOK, "Bão số 3"))
    await at(clock, "16:50:00")
    utm = "?utm_source=newsletter&utm_medium=email&utm_campaign=nov"
    await send(client, page(C3 + utm, V3, "", "Giá vàng"))
    await at(clock, "16:55:00")
    await send(client, {"n": "Signup", "u": f"https://{SITE}{C3}", **V3})
    await at(clock, "17:05:00")
    await send(client, page(B2, V2, internal(A1), "Tỷ giá"))
    await at(clock, "17:20:00")
    await send(client, page(A1, V4, GOOGLE, "Bão số 3"))
    await at(clock, "17:30:00")
    await send(client, page(A1, V3, "", "Bão số 3 (cập nhật)"))
    await at(clock, "17:31:00")
    await send(client, page(D4, V3, internal(A1), "Vàng"))
    await at(clock, "17:33:00")  # 00:33 on day B in Hà Nội: "today"
    assert await aggregator.drain() == 11


@pytest.fixture
async def site(add_site):
    return await add_site(SITE, timezone=TZ, public_counters=True)


@pytest.fixture
async def scripted(client, site, clock, aggregator):
    await scripted_midnight(client, clock, aggregator)
    return client


async def get(client, path: str, status: int = 200, **params):
    response = await client.get(path, params={"site_id": SITE, **params}, headers=AUTH)
    assert response.status == status, await response.text()
    return await response.json()


ALL = "visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration,events,engaged_time"


# Aggregate -----------------------------------------------------------------


async def test_aggregate_counts_each_site_day_in_the_sites_timezone(scripted):
    day_a = await get(scripted, "/api/v1/stats/aggregate", period="day", date=DAY_A, metrics=ALL)
    assert day_a == {"results": {
        "visitors": {"value": 3}, "visits": {"value": 3}, "pageviews": {"value": 4},
        "views_per_visit": {"value": 1.33}, "bounce_rate": {"value": 67},
        "visit_duration": {"value": 140}, "events": {"value": 5}, "engaged_time": {"value": 17},
    }}  # fmt: skip
    today = await get(scripted, "/api/v1/stats/aggregate", period="day", metrics=ALL)
    assert today == {"results": {
        "visitors": {"value": 3}, "visits": {"value": 3}, "pageviews": {"value": 4},
        "views_per_visit": {"value": 1.33}, "bounce_rate": {"value": 67},
        "visit_duration": {"value": 20}, "events": {"value": 4}, "engaged_time": {"value": 0},
    }}  # fmt: skip


async def test_aggregate_over_seven_days_counts_a_visitor_on_each_day(scripted):
    body = await get(scripted, "/api/v1/stats/aggregate", period="7d", metrics=ALL)
    assert {k: v["value"] for k, v in body["results"].items()} == {
        "visitors": 6, "visits": 6, "pageviews": 8, "views_per_visit": 1.33, "bounce_rate": 67,
        "visit_duration": 80, "events": 9, "engaged_time": 8,
    }  # fmt: skip


async def test_aggregate_defaults_to_visitors_over_30_days(scripted):
    assert await get(scripted, "/api/v1/stats/aggregate") == {"results": {"visitors": {"value": 6}}}


async def test_compare_with_the_previous_period(scripted):
    body = await get(
        scripted, "/api/v1/stats/aggregate", period="day", compare="previous_period",
        metrics="visitors,visits,bounce_rate,visit_duration,views_per_visit",
    )  # fmt: skip
    assert body["results"] == {
        "visitors": {"value": 3, "comparison_value": 3, "change": 0},
        "visits": {"value": 3, "comparison_value": 3, "change": 0},
        "bounce_rate": {"value": 67, "comparison_value": 67, "change": 0},
        "visit_duration": {"value": 20, "comparison_value": 140, "change": -86},
        "views_per_visit": {"value": 1.33, "comparison_value": 1.33, "change": 0},
    }


async def test_compare_with_an_empty_previous_period(scripted):
    body = await get(
        scripted, "/api/v1/stats/aggregate", period="day", date=DAY_A,
        compare="previous_period", metrics="visitors,bounce_rate",
    )  # fmt: skip
    assert body["results"] == {
        "visitors": {"value": 3, "comparison_value": 0, "change": 100},
        "bounce_rate": {"value": 67, "comparison_value": 0, "change": None},
    }


async def test_compare_with_a_filter_reads_both_periods_with_it(scripted):
    def aggregate(day: str, **params):
        query = {"period": "day", "date": day, "filters": "visit:source==Google"}
        return get(
            scripted, "/api/v1/stats/aggregate", metrics="visitors,pageviews", **query, **params
        )

    compared = (await aggregate(DAY_B, compare="previous_period"))["results"]
    now, before = (await aggregate(DAY_B))["results"], (await aggregate(DAY_A))["results"]
    assert {m: r["value"] for m, r in compared.items()} == {m: r["value"] for m, r in now.items()}
    assert {m: r["comparison_value"] for m, r in compared.items()} == {
        m: r["value"] for m, r in before.items()
    }
    assert before["visitors"]["value"] > 0


NAMED_PERIODS = ["day", "7d", "30d", "month", "6mo", "12mo"]
ANY_DATE = st.one_of(
    st.dates(dt.date(2023, 9, 1), dt.date(2024, 3, 31)),  # the scripted days, today, after
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
    st.sampled_from([dt.date(1970, 1, 1), FIRST_DATE, dt.date(2100, 1, 1), LAST_DATE]),
)
DATES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def period_days(period: str, date: dt.date) -> tuple[dt.date, dt.date]:
    """Plausible's period of that name ending with `date` (within its month for months)."""
    if period in ("day", "7d", "30d"):
        return date - dt.timedelta(days={"day": 0, "7d": 6, "30d": 30}[period]), date
    months = {"month": 1, "6mo": 6, "12mo": 12}[period]
    index = date.year * 12 + date.month - months
    first = dt.date(index // 12, index % 12 + 1, 1)
    after = dt.date(date.year + date.month // 12, date.month % 12 + 1, 1)
    return first, after - dt.timedelta(days=1)


def previous_days(first: dt.date, last: dt.date, today: dt.date) -> tuple[dt.date, dt.date]:
    """As many days as the period has up to today, just before it: none (last before first)
    when the period starts after today."""
    so_far = dt.timedelta(days=max((min(last, today) - first).days + 1, 0))
    return first - so_far, first - dt.timedelta(days=1)


@pytest.mark.parametrize("closing", ["all days open", "November closed"])
@DATES
@given(
    date=ANY_DATE,
    period=st.sampled_from(NAMED_PERIODS),
    compare=st.booleans(),
    metrics=st.sampled_from(["visitors", "visitors,pageviews", ALL]),
)
async def test_aggregate_whatever_the_date_is_the_raw_events_answer_or_a_400(
    scripted, ch, clock, aggregator, closing, date, period, compare, metrics
):
    if closing == "November closed" and clock.now_ms < CLOSINGS[closing]:
        clock.now_ms = CLOSINGS[closing]
        while await aggregator.close_due():
            pass
    params = {"period": period, "date": date.isoformat(), "metrics": metrics}
    params |= {"compare": "previous_period"} if compare else {}
    response = await scripted.get(
        "/api/v1/stats/aggregate", params={"site_id": SITE, **params}, headers=AUTH
    )
    assert response.status in (200, 400), await response.text()
    today = dt.datetime.fromtimestamp(clock.now_ms / 1000, zoneinfo.ZoneInfo(TZ)).date()
    days = period_days(period, date) if FIRST_DATE <= date <= LAST_DATE else None
    before = previous_days(*days, today) if days else None
    within = days is not None and days[0] >= FIRST_DATE and days[1] <= LAST_DATE
    within = within and not (compare and before[0] < FIRST_DATE)
    assert response.status == (200 if within else 400), await response.text()
    if not within:
        assert "`date`" in (await response.json())["error"]
        return
    wanted = parse_metrics(metrics)
    clickhouse = AsyncClickHouse(ch)

    async def raw(first: dt.date, last: dt.date) -> dict:
        if last < first:
            return compute(wanted, dict.fromkeys(quantities_of(wanted), 0.0))
        sel = Selection(SITE, DateRange(first, last, TZ))
        numbers = await queries.aggregate(clickhouse, sel, quantities_of(wanted), raw=True)
        return compute(wanted, numbers)

    now = await raw(*days)
    expected = {m.name: {"value": now[m.name]} for m in wanted}
    if compare:
        earlier = await raw(*before)
        for m in wanted:
            expected[m.name] |= {
                "comparison_value": earlier[m.name], "change": change(m, earlier[m.name], now[m.name])
            }  # fmt: skip
    assert (await response.json())["results"] == expected


@DATES
@given(
    endpoint=st.sampled_from(["timeseries", "breakdown", "articles", "articles/a-1"]),
    date=ANY_DATE,
    period=st.sampled_from(NAMED_PERIODS),
)
async def test_every_endpoint_answers_any_date_in_the_span_and_refuses_the_others(
    scripted, ch, endpoint, date, period
):
    params = {"site_id": SITE, "period": period, "date": date.isoformat()}
    params |= {"property": "visit:source"} if endpoint == "breakdown" else {}
    response = await scripted.get(f"/api/v1/stats/{endpoint}", params=params, headers=AUTH)
    days = period_days(period, date) if FIRST_DATE <= date <= LAST_DATE else None
    within = days is not None and days[0] >= FIRST_DATE and days[1] <= LAST_DATE
    assert response.status == (200 if within else 400), await response.text()
    if endpoint == "timeseries" and within:
        interval = {"day": "hour", "6mo": "month", "12mo": "month"}.get(period, "date")
        sel = Selection(SITE, DateRange(*days, TZ))
        raw = await queries.timeseries(AsyncClickHouse(ch), sel, ["visitors"], interval, raw=True)
        visitors = parse_metrics("visitors")
        expected = [
            {"date": label, **compute(visitors, raw.get(label, {"visitors": 0.0}))}
            for label in sel.range.buckets(interval)
        ]
        assert (await response.json())["results"] == expected


FILTERED = [
    ("visit:source==Google", {"visitors": 2, "visits": 2, "pageviews": 3, "bounce_rate": 50}),
    ("visit:source==Google|Facebook", {"visitors": 3, "visits": 3, "pageviews": 4, "bounce_rate": 67}),
    ("visit:source==Direct / None", {"visitors": 2, "visits": 2, "pageviews": 3, "bounce_rate": 50}),
    ("visit:source!=Google", {"visitors": 4, "visits": 4, "pageviews": 5, "bounce_rate": 75}),
    ("visit:device==mobile", {"visitors": 2, "visits": 2, "pageviews": 2, "bounce_rate": 100}),
    ("visit:utm_campaign==nov", {"visitors": 1, "visits": 1, "pageviews": 1, "bounce_rate": 100}),
    ("visit:entry_page==/tin-tuc/a-1.html", {"visitors": 4, "visits": 4, "pageviews": 6, "bounce_rate": 50}),
    ("visit:exit_page==/tin-tuc/b-2.html", {"visitors": 2, "visits": 2, "pageviews": 3, "bounce_rate": 50}),
    ("event:page==/tin-tuc/a-1.html", {"visitors": 4, "visits": 4, "pageviews": 4, "bounce_rate": 50}),
    ("event:page!=/tin-tuc/a-1.html", {"visitors": 4, "visits": 4, "pageviews": 4, "bounce_rate": 50}),
    ("event:page==/tin-tuc/*", {"visitors": 6, "visits": 6, "pageviews": 8, "bounce_rate": 67}),
    ("event:page==/tin-*", {"visitors": 0, "visits": 0, "pageviews": 0, "bounce_rate": 0}),
    ("event:page==/tin-**", {"visitors": 6, "visits": 6, "pageviews": 8, "bounce_rate": 67}),
    ("event:page==/tin-tuc/c-3.html|/tin-tuc/d-4.html", {"visitors": 2, "visits": 2, "pageviews": 2, "bounce_rate": 50}),
    ("visit:device==mobile;event:page==/tin-tuc/b-2.html", {"visitors": 1, "visits": 1, "pageviews": 1, "bounce_rate": 100}),
    ("visit:country==AU", {"visitors": 2, "visits": 2, "pageviews": 3, "bounce_rate": 50}),
]  # fmt: skip


@pytest.mark.parametrize(("filters", "expected"), FILTERED, ids=[f for f, _ in FILTERED])
async def test_filters_narrow_the_aggregate(scripted, filters, expected):
    body = await get(
        scripted, "/api/v1/stats/aggregate", period="7d", filters=filters,
        metrics="visitors,visits,pageviews,bounce_rate",
    )  # fmt: skip
    assert {k: v["value"] for k, v in body["results"].items()} == expected


# Time series -----------------------------------------------------------------


async def test_timeseries_by_date_fills_every_day(scripted):
    body = await get(
        scripted, "/api/v1/stats/timeseries", period="7d", metrics="visitors,pageviews,visits"
    )
    zero = {"visitors": 0, "pageviews": 0, "visits": 0}
    assert body["results"] == [
        *({"date": f"2023-11-{d}", **zero} for d in range(10, 15)),
        {"date": DAY_A, "visitors": 3, "pageviews": 4, "visits": 3},
        {"date": DAY_B, "visitors": 3, "pageviews": 4, "visits": 3},
    ]


async def test_timeseries_of_a_day_is_by_local_hour(scripted):
    body = await get(
        scripted, "/api/v1/stats/timeseries", period="day", date=DAY_A, metrics="pageviews"
    )
    assert len(body["results"]) == 24
    assert body["results"][0] == {"date": "2023-11-15 00:00:00", "pageviews": 0}
    assert body["results"][23] == {"date": "2023-11-15 23:00:00", "pageviews": 4}
    today = await get(
        scripted, "/api/v1/stats/timeseries", period="day", metrics="pageviews,bounce_rate"
    )
    assert today["results"][0] == {"date": "2023-11-16 00:00:00", "pageviews": 4, "bounce_rate": 67}


async def test_timeseries_by_month(scripted):
    body = await get(scripted, "/api/v1/stats/timeseries", period="6mo", metrics="visitors")
    assert [r["date"] for r in body["results"]] == [f"2023-{m:02}-01" for m in range(6, 12)]
    assert body["results"][-1] == {"date": "2023-11-01", "visitors": 6}


async def test_timeseries_with_a_filter(scripted):
    body = await get(
        scripted, "/api/v1/stats/timeseries", period="custom", date=f"{DAY_A},{DAY_B}",
        filters="visit:source==Google", metrics="visits,pageviews",
    )  # fmt: skip
    assert body["results"] == [
        {"date": DAY_A, "visits": 1, "pageviews": 2},
        {"date": DAY_B, "visits": 1, "pageviews": 1},
    ]


# Breakdown -----------------------------------------------------------------


BREAKDOWNS = [
    ("visit:source", "visitors,visits", [
        {"source": "Direct / None", "visitors": 2, "visits": 2},
        {"source": "Google", "visitors": 2, "visits": 2},
        {"source": "Facebook", "visitors": 1, "visits": 1},
        {"source": "newsletter", "visitors": 1, "visits": 1},
    ]),
    ("visit:referrer", "visits", [
        {"referrer": "Direct / None", "visits": 2},
        {"referrer": "google.com", "visits": 2},
        {"referrer": "m.facebook.com", "visits": 1},
        # Visit 2b's page was opened from a-1 before midnight: a referrer, but no source.
        {"referrer": "news.example", "visits": 1},
    ]),
    ("visit:utm_campaign", "visitors", [{"utm_campaign": "nov", "visitors": 1}]),
    ("visit:utm_medium", "visitors", [{"utm_medium": "email", "visitors": 1}]),
    ("visit:utm_source", "visitors", [{"utm_source": "newsletter", "visitors": 1}]),
    ("visit:utm_content", "visitors", []),
    ("visit:country", "visits", [
        {"country": "AU", "visits": 2}, {"country": "VN", "visits": 2},
        {"country": "GB", "visits": 1}, {"country": "US", "visits": 1},
    ]),
    ("visit:device", "visitors,visits", [
        {"device": "desktop", "visitors": 4, "visits": 4}, {"device": "mobile", "visitors": 2, "visits": 2},
    ]),
    ("visit:browser", "visitors", [{"browser": "Chrome", "visitors": 4}, {"browser": "Safari", "visitors": 2}]),
    ("visit:os", "visitors", [{"os": "Windows", "visitors": 4}, {"os": "iOS", "visitors": 2}]),
    ("visit:entry_page", "visits,bounce_rate", [
        {"entry_page": A1, "visits": 4, "bounce_rate": 50},
        {"entry_page": B2, "visits": 1, "bounce_rate": 100},
        {"entry_page": C3, "visits": 1, "bounce_rate": 100},
    ]),
    ("visit:exit_page", "visits,visit_duration", [
        {"exit_page": A1, "visits": 2, "visit_duration": 0},
        {"exit_page": B2, "visits": 2, "visit_duration": 60},
        {"exit_page": C3, "visits": 1, "visit_duration": 300},
        {"exit_page": D4, "visits": 1, "visit_duration": 60},
    ]),
    ("event:page", "pageviews,visitors", [
        {"page": A1, "pageviews": 4, "visitors": 4},
        {"page": B2, "pageviews": 2, "visitors": 2},
        {"page": C3, "pageviews": 1, "visitors": 1},
        {"page": D4, "pageviews": 1, "visitors": 1},
    ]),
    ("event:page", "bounce_rate,visits,events", [
        # A page's bounce rate is that of the visits entering there (Plausible's).
        {"page": B2, "bounce_rate": 100, "visits": 2, "events": 2},
        {"page": C3, "bounce_rate": 100, "visits": 1, "events": 2},
        {"page": A1, "bounce_rate": 50, "visits": 4, "events": 4},
        {"page": D4, "bounce_rate": 0, "visits": 1, "events": 1},
    ]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("prop", "metrics", "expected"), BREAKDOWNS, ids=[f"{p}-{m}" for p, m, _ in BREAKDOWNS]
)
async def test_breakdown_by_each_property(scripted, prop, metrics, expected):
    body = await get(
        scripted, "/api/v1/stats/breakdown", period="7d", property=prop, metrics=metrics
    )
    assert body == {"results": expected}


async def test_breakdown_with_a_filter(scripted):
    body = await get(
        scripted, "/api/v1/stats/breakdown", period="7d", property="event:page",
        filters="visit:source==Google", metrics="pageviews",
    )  # fmt: skip
    assert body["results"] == [{"page": A1, "pageviews": 2}, {"page": B2, "pageviews": 1}]


async def test_breakdown_pages(scripted):
    pages = [
        await get(scripted, "/api/v1/stats/breakdown", period="7d", property="event:page",
                  metrics="pageviews", limit="3", page=str(n))
        for n in (1, 2, 3)
    ]  # fmt: skip
    assert [[r["page"] for r in p["results"]] for p in pages] == [[A1, B2, C3], [D4], []]
    by_ratio = await get(scripted, "/api/v1/stats/breakdown", period="7d", property="event:page",
                         metrics="bounce_rate", limit="1", page="2")  # fmt: skip
    assert by_ratio["results"] == [{"page": C3, "bounce_rate": 100}]


async def test_breakdown_as_csv(scripted):
    for kwargs, headers in (({"format": "csv"}, AUTH), ({}, {**AUTH, "Accept": "text/csv"})):
        response = await scripted.get(
            "/api/v1/stats/breakdown", headers=headers,
            params={"site_id": SITE, "period": "7d", "property": "visit:source",
                    "metrics": "visitors,visits", **kwargs},
        )  # fmt: skip
        assert response.status == 200
        assert response.content_type == "text/csv"
        rows = list(csv.reader(io.StringIO(await response.text())))
        assert rows == [
            ["source", "visitors", "visits"], ["Direct / None", "2", "2"], ["Google", "2", "2"],
            ["Facebook", "1", "1"], ["newsletter", "1", "1"],
        ]  # fmt: skip


# What a spreadsheet would run: OWASP's examples of CSV injection, and any text after
# a formula's first character.
FORMULAS = st.one_of(
    st.sampled_from(["=1+2", "=HYPERLINK(\"https://evil.example\",\"x\")",
                     "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0",
                     "\t=1+2", "\r=1+2", "=1,2;\"3\"\n4"]),
    st.tuples(st.sampled_from(FORMULA_STARTS), st.text(max_size=20)).map("".join),
)  # fmt: skip
CELL_TEXT = st.one_of(FORMULAS, st.text(max_size=30))


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def as_csv_cell(value: object) -> str:
    """A JSON answer's value as the CSV download must write it."""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(value)


@settings(max_examples=500, deadline=None)
@given(text=CELL_TEXT, number=st.one_of(st.integers(), st.floats(allow_nan=False)))
def test_a_csv_cell_is_never_a_formula_and_numbers_stay_numbers(text, number):
    response = csv_response(["label", "n"], [{"label": text, "n": number}], "x.csv")
    assert csv_rows(response.text) == [["label", "n"], [as_csv_cell(text), str(number)]]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(CELL_TEXT, min_size=1, max_size=3))
async def test_every_csv_download_writes_tracked_text_as_text(client, site, aggregator, texts):
    for text in texts:
        utm = urlencode({"utm_source": text, "utm_campaign": text, "utm_content": text})
        await send(client, page(f"/tin-tuc/{next(ARTICLE_IDS)}.html?{utm}", V1, title=text))
    await aggregator.drain()
    downloads = [
        ("articles", {}),
        *(("breakdown", {"property": p}) for p in (
            "visit:source", "visit:utm_source", "visit:utm_campaign", "visit:utm_content",
            "event:page", "visit:entry_page",
        )),
    ]  # fmt: skip
    for endpoint, params in downloads:
        query = {"site_id": SITE, "period": "day", "limit": "1000", **params}
        answer = await get(client, f"/api/v1/stats/{endpoint}", **query)
        for asked, headers in (({"format": "csv"}, AUTH), ({}, {**AUTH, "Accept": "text/csv"})):
            response = await client.get(
                f"/api/v1/stats/{endpoint}", params={**query, **asked}, headers=headers
            )
            assert response.status == 200, await response.text()
            header, *rows = csv_rows(await response.text())
            expected = [[as_csv_cell(row[c]) for c in header] for row in answer["results"]]
            assert rows == expected, (endpoint, params)
            assert not any(cell.startswith(FORMULA_STARTS) for row in rows for cell in row)


ARTICLE_IDS = itertools.count(1)  # a new article for each text


# Realtime and articles ---------------------------------------------------------


async def test_realtime_visitors_is_the_public_counters_online_now(scripted):
    assert await get(scripted, "/api/v1/stats/realtime/visitors") == 1  # V3, 2 minutes ago
    counters = await (await scripted.get(f"/api/counters?d={SITE}")).json()
    assert counters["online"] == 1


async def test_articles_with_readers_now(scripted):
    body = await get(scripted, "/api/v1/stats/articles", period="7d")
    assert body["results"] == [
        {"article_id": "a-1", "title": "Bão số 3 (cập nhật)", "pageviews": 4, "visits": 4,
         "visitors": 4, "engaged_time": 8, "readers": 1},
        {"article_id": "b-2", "title": "Tỷ giá", "pageviews": 2, "visits": 2, "visitors": 2,
         "engaged_time": 10, "readers": 0},
        {"article_id": "c-3", "title": "Giá vàng", "pageviews": 1, "visits": 1, "visitors": 1,
         "engaged_time": 0, "readers": 0},
        {"article_id": "d-4", "title": "Vàng", "pageviews": 1, "visits": 1, "visitors": 1,
         "engaged_time": 0, "readers": 1},
    ]  # fmt: skip


ARTICLE_FILTERS = [
    # Visits 1 and 4 came from Google: V1 read a-1 (30 s) and b-2 (20 s), V4 a-1.
    ("visit:source==Google", [
        {"article_id": "a-1", "title": "Bão số 3", "pageviews": 2, "visits": 2, "visitors": 2,
         "engaged_time": 15, "readers": 1},
        {"article_id": "b-2", "title": "Tỷ giá", "pageviews": 1, "visits": 1, "visitors": 1,
         "engaged_time": 20, "readers": 0},
    ]),
    # b-2's page: V1 (20 s) on day A and V2 on day B.
    (f"event:page=={B2}", [
        {"article_id": "b-2", "title": "Tỷ giá", "pageviews": 2, "visits": 2, "visitors": 2,
         "engaged_time": 10, "readers": 0},
    ]),
    # V3 from Australia: c-3 in visit 3, a-1 and d-4 in visit 5; none on b-2.
    ("visit:country==AU;event:page!=/tin-tuc/b-2.html", [
        {"article_id": "a-1", "title": "Bão số 3 (cập nhật)", "pageviews": 1, "visits": 1,
         "visitors": 1, "engaged_time": 0, "readers": 1},
        {"article_id": "c-3", "title": "Giá vàng", "pageviews": 1, "visits": 1, "visitors": 1,
         "engaged_time": 0, "readers": 0},
        {"article_id": "d-4", "title": "Vàng", "pageviews": 1, "visits": 1, "visitors": 1,
         "engaged_time": 0, "readers": 1},
    ]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("filters", "expected"), ARTICLE_FILTERS, ids=[f for f, _ in ARTICLE_FILTERS]
)
async def test_articles_of_the_filtered_events(scripted, filters, expected):
    body = await get(scripted, "/api/v1/stats/articles", period="7d", filters=filters)
    assert body["results"] == expected


async def test_articles_sorted_and_paged(scripted):
    body = await get(
        scripted, "/api/v1/stats/articles", period="7d", sort="engaged_time", limit="2"
    )
    assert [r["article_id"] for r in body["results"]] == ["b-2", "a-1"]
    body = await get(scripted, "/api/v1/stats/articles", period="7d", limit="2", page="2")
    assert [r["article_id"] for r in body["results"]] == ["c-3", "d-4"]
    day_a = await get(scripted, "/api/v1/stats/articles", period="day", date=DAY_A)
    assert [(r["article_id"], r["pageviews"]) for r in day_a["results"]] == [
        ("a-1", 2), ("b-2", 1), ("c-3", 1),
    ]  # fmt: skip


async def test_articles_as_csv(scripted):
    response = await scripted.get(
        "/api/v1/stats/articles", params={"site_id": SITE, "period": "7d", "format": "csv"},
        headers=AUTH,
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0] == [
        "article_id",
        "title",
        "pageviews",
        "visits",
        "visitors",
        "engaged_time",
        "readers",
    ]
    assert rows[1] == ["a-1", "Bão số 3 (cập nhật)", "4", "4", "4", "8", "1"]


async def test_one_article_its_series_and_sources(scripted):
    body = await get(
        scripted, "/api/v1/stats/articles/a-1", period="custom", date=f"{DAY_A},{DAY_B}"
    )
    assert body == {
        "article_id": "a-1",
        "title": "Bão số 3 (cập nhật)",
        "readers": 1,
        "totals": {"pageviews": 4, "visits": 4, "visitors": 4, "engaged_time": 8},
        "results": [
            {"date": DAY_A, "pageviews": 2, "visits": 2, "visitors": 2, "engaged_time": 15},
            {"date": DAY_B, "pageviews": 2, "visits": 2, "visitors": 2, "engaged_time": 0},
        ],
        "sources": [
            {"source": "Google", "visitors": 2, "pageviews": 2},
            {"source": "Direct / None", "visitors": 1, "pageviews": 1},
            {"source": "Facebook", "visitors": 1, "pageviews": 1},
        ],
    }
    hourly = await get(scripted, "/api/v1/stats/articles/a-1", period="day")
    assert hourly["results"][0] == {
        "date": "2023-11-16 00:00:00", "pageviews": 2, "visits": 2, "visitors": 2, "engaged_time": 0,
    }  # fmt: skip


# Rollups and raw events agree ----------------------------------------------------


SITE_QUANTITIES = (
    "visitors",
    "visits",
    "pageviews",
    "events",
    "engaged_ms",
    "entries",
    "bounces",
    "duration_ms",
)
"""Every quantity a site's totals and time series are computed from."""

CLOSINGS = {
    "all days open": None,
    "days A and B closed": 1_700_265_600_000,  # 2023-11-18 00:00 UTC
    "November closed": 1_701_475_200_000,  # 2023-12-02 00:00 UTC
}


@pytest.mark.parametrize("closing", CLOSINGS)
async def test_rollups_and_raw_events_give_the_same_numbers(
    scripted, ch, clock, aggregator, closing
):
    if CLOSINGS[closing] is not None:
        clock.now_ms = CLOSINGS[closing]
        while await aggregator.close_due():
            pass
    clickhouse = Recording(ch)
    quantities = list(SITE_QUANTITIES)
    for first, last in (
        ("2023-11-15", "2023-11-15"),
        ("2023-11-16", "2023-11-16"),
        ("2023-11-10", "2023-11-16"),
        # A whole week (Nov 13-19): once closed, read from its week counts.
        ("2023-11-12", "2023-11-20"),
        # Whole months: closed, they are read from their month counts (and the days around).
        ("2023-11-01", "2023-11-30"),
        ("2023-09-20", "2023-12-05"),
    ):
        sel = Selection(SITE, DateRange(_date(first), _date(last), TZ))
        assert await queries.aggregate(clickhouse, sel, quantities) == await queries.aggregate(
            clickhouse, sel, quantities, raw=True
        )
        for interval in ("hour", "date", "month"):
            assert await queries.timeseries(clickhouse, sel, quantities, interval) == (
                await queries.timeseries(clickhouse, sel, quantities, interval, raw=True)
            )
        for prop in PROPERTIES.values():
            if prop.rollup is None:
                continue
            wanted = (
                ["visitors", "pageviews"] if prop.name == "event:page" else ["visitors", "visits"]
            )
            # Small pages too: the rollup merges the visitors of the likely values first.
            for limit, offset in ((100, 0), (1, 0), (2, 1), (1, 3)):
                kwargs = {"order_by": "visitors", "limit": limit, "offset": offset}
                assert await queries.breakdown(clickhouse, sel, prop, wanted, **kwargs) == (
                    await queries.breakdown(clickhouse, sel, prop, wanted, raw=True, **kwargs)
                ), (prop.name, limit, offset)
        for sort in ("pageviews", "visitors", "visits"):
            for limit, offset in ((100, 0), (1, 0), (2, 1)):
                kwargs = {"sort": sort, "limit": limit, "offset": offset}
                assert await queries.articles(clickhouse, sel, **kwargs) == (
                    await queries.articles(clickhouse, sel, raw=True, **kwargs)
                ), kwargs
        for interval in ("date", "month"):
            assert await queries.article_series(clickhouse, sel, "a-1", interval) == (
                await queries.article_series(clickhouse, sel, "a-1", interval, raw=True)
            )
            assert await queries.article_overview(clickhouse, sel, "a-1", interval) == (
                await queries.article_overview(clickhouse, sel, "a-1", interval, raw=True)
            )
        assert await queries.article_totals(clickhouse, sel, "a-1") == (
            await queries.article_totals(clickhouse, sel, "a-1", raw=True)
        )
        assert await queries.article_sources(clickhouse, sel, "a-1", 20) == (
            await queries.article_sources(clickhouse, sel, "a-1", 20, raw=True)
        )
    counted = any("kind = {kind:String}" in sql for sql in clickhouse.statements)
    assert counted == (CLOSINGS[closing] is not None)
    weekly = any("span = 'week'" in sql for sql in clickhouse.statements)
    assert weekly == (closing == "November closed")


async def test_visitors_come_from_day_rows_unless_they_do_not_reach_back_far_enough(scripted, ch):
    clickhouse = Recording(ch)
    sel = Selection(SITE, DateRange(_date("2023-11-01"), _date("2023-11-30"), TZ))
    quantities = ["visitors", "pageviews", "bounces"]
    raw = await queries.aggregate(clickhouse, sel, quantities, raw=True)
    assert await queries.aggregate(clickhouse, sel, quantities) == raw
    reads_days = "uniqMerge(visitors) AS q_visitors FROM site_visitors"
    assert any(reads_days in sql for sql in clickhouse.statements)
    # As if a retention had taken day A's raw events before migration 0011 filled them.
    ch.command("ALTER TABLE site_visitors DELETE WHERE date <= {day:Date} SETTINGS mutations_sync = 1",
               parameters={"day": DAY_A})  # fmt: skip
    clickhouse = Recording(ch)  # a connection that has not asked yet
    assert await queries.aggregate(clickhouse, sel, quantities) == raw
    assert not any(reads_days in sql for sql in clickhouse.statements)
    day_b = Selection(SITE, DateRange(_date(DAY_B), _date(DAY_B), TZ))
    assert await queries.timeseries(clickhouse, day_b, ["visitors"], "date") == (
        await queries.timeseries(clickhouse, day_b, ["visitors"], "date", raw=True)
    )


async def test_a_page_read_by_many_beats_pages_viewed_often_by_one_reader(
    client, add_site, clock, aggregator, ch
):
    # By page views /often-1 and /often-2 come first: /many has fewer page views but more
    # visitors, and must still win a page of one by visitors.
    domain = "bound.example"
    await add_site(domain, timezone=TZ)
    events = [{"n": "pageview", "u": f"https://{domain}/often-1", **V1}] * 10
    events += [{"n": "pageview", "u": f"https://{domain}/often-2", **V2}] * 9
    events += [{"n": "pageview", "u": f"https://{domain}/many", **v} for v in (V1, V3, V4)]
    for event in events:
        clock.advance(1)
        await send(client, event)
    await aggregator.drain()
    clickhouse = AsyncClickHouse(ch)
    sel = Selection(domain, DateRange(_date("2023-10-17"), _date("2023-11-15"), TZ))
    page = PROPERTIES["event:page"]
    kwargs = {"order_by": "visitors", "limit": 1}
    found = await queries.breakdown(clickhouse, sel, page, ["visitors", "pageviews"], **kwargs)
    assert found == [("/many", {"visitors": 3.0, "pageviews": 3.0})]
    assert found == await queries.breakdown(
        clickhouse, sel, page, ["visitors", "pageviews"], raw=True, **kwargs
    )


async def test_a_fractional_hour_timezone_is_answered_from_raw_events(
    client, add_site, clock, aggregator
):
    domain = "kolkata.example"
    await add_site(domain, timezone="Asia/Kolkata")
    clock.now_ms = 1_700_006_400_000 + (18 * 60 + 40) * 60_000  # 00:10 on the 16th in Kolkata
    await send(client, {"n": "pageview", "u": f"https://{domain}/x", **V1})
    await aggregator.drain()
    body = await client.get(
        "/api/v1/stats/timeseries", headers=AUTH,
        params={"site_id": domain, "period": "day", "metrics": "pageviews"},
    )  # fmt: skip
    results = (await body.json())["results"]
    assert results[0] == {"date": "2023-11-16 00:00:00", "pageviews": 1}


FRACTIONAL_ZONES = ("Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns")
"""+5:30, +5:45, -3:30 (-2:30 in summer): no UTC hour falls on their days."""


@pytest.mark.parametrize("timezone", FRACTIONAL_ZONES)
async def test_a_fractional_hour_timezone_reads_its_days_from_the_day_rollup_as_raw_events_count(
    client, add_site, clock, ch, aggregator, timezone
):
    await add_site(SITE, timezone=timezone)
    await scripted_midnight(client, clock, aggregator)
    fast, raw = Recording(ch), AsyncClickHouse(ch)
    quantities = list(SITE_QUANTITIES)
    for first, last in (
        ("2023-11-15", "2023-11-15"),
        ("2023-11-16", "2023-11-16"),
        ("2023-11-10", "2023-11-16"),
        ("2023-11-01", "2023-11-30"),
        ("2023-09-20", "2023-12-05"),
    ):
        sel = Selection(SITE, DateRange(_date(first), _date(last), timezone))
        assert await queries.aggregate(fast, sel, quantities) == (
            await queries.aggregate(raw, sel, quantities, raw=True)
        )
        before = DateRange(_date("2023-08-01"), sel.range.first - dt.timedelta(days=1), timezone)
        assert await queries.aggregate_compared(fast, sel, before, quantities) == (
            await queries.aggregate(raw, sel, quantities, raw=True),
            await queries.aggregate(raw, Selection(SITE, before), quantities, raw=True),
        )
        for interval in ("date", "month"):
            assert await queries.timeseries(fast, sel, quantities, interval) == (
                await queries.timeseries(raw, sel, quantities, interval, raw=True)
            )
    assert fast.statements
    assert all("FROM site_visitors" in sql for sql in fast.statements)
    assert not any("FROM events" in sql for sql in fast.statements)


async def test_the_day_sums_migration_fills_the_days_of_events_stored_before_it(
    client, add_site, clock, ch, aggregator
):
    await add_site(SITE, timezone="Asia/Kolkata")
    await scripted_midnight(client, clock, aggregator)
    # As before migration 0017: each day's visitors, no sums beside them.
    ch.command("TRUNCATE TABLE site_visitors")
    ch.command(
        "INSERT INTO site_visitors (site, span, date, visitors) "
        "SELECT site, 'day', date, uniqState(visitor_id) FROM events GROUP BY site, date"
    )
    (day_sums,) = [m for m in migrations() if m.version == 17]
    for statement in day_sums.statements:
        ch.command(statement)
    for statement in day_sums.statements:  # run again, as after an interruption: no change
        ch.command(statement)

    sel = Selection(SITE, DateRange(_date("2023-11-01"), _date("2023-11-30"), "Asia/Kolkata"))
    quantities = list(SITE_QUANTITIES)
    clickhouse = AsyncClickHouse(ch)
    assert await queries.timeseries(clickhouse, sel, quantities, "date") == (
        await queries.timeseries(clickhouse, sel, quantities, "date", raw=True)
    )


def _date(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)


# Errors --------------------------------------------------------------------------


P = "https://plausible.io/docs/stats-api"
ERRORS = [
    ("aggregate", {"period": "week"}, 400, f"Error parsing `period` parameter: invalid period `week`. Please find accepted values in our docs: {P}#time-periods"),
    ("aggregate", {"date": "15-11-2023"}, 400, "Error parsing `date` parameter: invalid_format. Please specify a valid date in ISO-8601 format."),
    ("aggregate", {"date": "2023-02-30"}, 400, "Error parsing `date` parameter: invalid_date. Please specify a valid date in ISO-8601 format."),
    ("aggregate", {"period": "custom"}, 400, f"The `date` parameter is required when using a custom period. See {P}#time-periods"),
    ("aggregate", {"period": "custom", "date": "2023-11-01"}, 400, f"Invalid format for `date` parameter. When using a custom period, please include two ISO-8601 formatted dates joined by a comma. See {P}#time-periods"),
    ("aggregate", {"period": "custom", "date": "2023-11-10,2023-11-01"}, 400, "Invalid `date` parameter: the first date is after the second."),
    ("aggregate", {"period": "12mo", "date": "1971-06-30"}, 400, "Invalid `date` parameter: periods lie between 1971-01-01 and 2105-12-31."),
    ("aggregate", {"period": "custom", "date": "1971-01-01,1971-01-31", "compare": "previous_period"}, 400, "Invalid `date` parameter: periods lie between 1971-01-01 and 2105-12-31."),
    ("timeseries", {"period": "custom", "date": "1971-01-01,2105-12-31"}, 400, "Invalid `date` parameter: a custom period spans at most 3660 days."),
    ("aggregate", {"metrics": "visitors,visitors"}, 400, "Metrics cannot be queried multiple times."),
    ("aggregate", {"metrics": "time_on_page"}, 400, f"The metric `time_on_page` is not recognized. Find valid metrics from the documentation: {P}#metrics"),
    ("aggregate", {"metrics": "views_per_visit", "filters": "event:page==/"}, 400, "Metric `views_per_visit` cannot be queried with a filter on `event:page`."),
    ("aggregate", {"metrics": "visits", "filters": "event:name==Signup"}, 400, "Session metric `visits` cannot be queried when using a filter on `event:name`."),
    ("aggregate", {"filters": "visit:city==Hanoi"}, 400, f"Invalid filter property 'visit:city'. Please provide a valid filter property: {P}#properties"),
    ("aggregate", {"filters": "visit:source"}, 400, "Invalid filter expression 'visit:source'. Write property==value or property!=value, joined by `;`."),
    ("aggregate", {"compare": "year_over_year"}, 400, "Error parsing `compare` parameter: invalid value `year_over_year`. The one accepted value is `previous_period`."),
    ("timeseries", {"interval": "week"}, 400, "Error parsing `interval` parameter: invalid interval `week`. Valid intervals are `hour`, `date`, `month`"),
    ("timeseries", {"period": "6mo", "interval": "hour"}, 400, "Error parsing `interval` parameter: `hour` is available for periods of up to 31 days."),
    ("breakdown", {}, 400, "The `property` parameter is required. Please provide at least one property to show a breakdown by."),
    ("breakdown", {"property": "visit:city"}, 400, f"Invalid property 'visit:city'. Please provide a valid property for the breakdown endpoint: {P}#properties"),
    ("breakdown", {"property": "event:page", "metrics": "views_per_visit"}, 400, "Metric `views_per_visit` is not supported in breakdown queries."),
    ("breakdown", {"property": "event:name", "metrics": "bounce_rate"}, 400, "Session metric `bounce_rate` cannot be queried for breakdown by `event:name`."),
    ("breakdown", {"property": "event:page", "limit": "0"}, 400, "Please provide limit as a number between 1 and 1000."),
    ("breakdown", {"property": "event:page", "limit": "1001"}, 400, "Please provide limit as a number between 1 and 1000."),
    ("breakdown", {"property": "event:page", "limit": "ten"}, 400, "Please provide limit as a number between 1 and 1000."),
    ("breakdown", {"property": "event:page", "page": "0"}, 400, "Please provide page as a positive number."),
    ("breakdown", {"property": "event:page", "format": "xml"}, 400, "Invalid `format` 'xml': use json or csv."),
    ("articles", {"sort": "title"}, 400, "Invalid `sort` 'title'. Sort by one of: pageviews, visits, visitors, engaged_time."),
    ("aggregate", {"site_id": "nowhere.example"}, 404, "Invalid API key or site ID. Please make sure you're using a valid API key with access to the site you've requested."),
    ("realtime/visitors", {"site_id": ""}, 400, "Missing site ID. Please provide the required site_id parameter with your request."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("endpoint", "params", "status", "error"), ERRORS, ids=[f"{e}-{p}" for e, p, _, _ in ERRORS]
)
async def test_every_bad_parameter_gets_plausibles_error(
    client, site, endpoint, params, status, error
):
    body = await get(client, f"/api/v1/stats/{endpoint}", status, **params)
    assert body == {"error": error}


@pytest.mark.parametrize(
    "endpoint",
    [
        "realtime/visitors",
        "aggregate",
        "timeseries",
        "breakdown?property=event:page",
        "articles",
        "articles/a-1",
    ],
)
async def test_every_endpoint_needs_a_token(client, site, endpoint):
    path, _, query = endpoint.partition("?")
    response = await client.get(f"/api/v1/stats/{path}?site_id={SITE}&{query}")
    assert response.status == 401
    assert "error" in await response.json()


async def test_filters_values_are_parameters_not_sql(client, site):
    tricky = "event:page==/x' OR 1=1 --;visit:source==a\\|b|**'"
    filters = parse_filters(tricky)
    assert [f.values for f in filters] == [("/x' OR 1=1 --",), ("a|b", "**'")]
    body = await get(client, "/api/v1/stats/aggregate", filters=tricky, metrics="pageviews")
    assert body == {"results": {"pageviews": {"value": 0}}}


def test_the_docs_list_exactly_the_registrys_metrics_and_definitions():
    from pathlib import Path

    from dashboard.stats_metrics import METRICS

    text = Path(__file__).parent.parent.joinpath("docs/stats-api.md").read_text()
    section = text.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| `")]
    documented = {name.strip().strip("`"): definition.strip() for name, definition in rows}
    assert documented == {m.name: m.definition for m in METRICS.values()}


def test_the_embedded_engine_compiles_no_expressions(ch):
    # Compiling costs 50-250 ms on chdb's one thread at an expression's third use.
    names = ", ".join(f"getSetting('{name}')" for name in CHDB_SETTINGS)
    assert ch.query(f"SELECT {names}").result_rows == [tuple(CHDB_SETTINGS.values())]
