"""The editors' dashboard in a real browser, against a real footfall server.

One server for the module (all in one, its aggregator running, the system
clock), seeded once with a known history of page views imported through the
stream; each test logs in (or reuses the module's login) and reads the pages
as an editor would. Numbers shown are checked against the Stats API's answers,
and the API's against what the test itself sent.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from aggregator.importer import read_rows, stream_entries
from app.serve import all_in_one_app
from footfall import keys
from footfall.clock import system_clock
from footfall.connections import AsyncClickHouse, sync_redis
from footfall.settings import Settings
from footfall.sites import Site
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ADMIN_TOKEN, AUTH, BROWSER_UA, empty_stores
from tests.live_server import LiveServer

SITE = "news.example"
TIMEZONE = "Asia/Ho_Chi_Minh"
EMAIL = "admin@news.example"
PASSWORD = "correct horse battery"
XSS_TITLE = "<script>window.__pwned = 1</script><img src=x onerror=window.__pwned=2> Tin nóng"
STORY_TITLE = "Bão số 3 đổ bộ miền Trung"
# README's screenshot: `make screenshot` sets SCREENSHOT_TO=docs/dashboard.png; a plain
# test run writes to its own temporary folder, so it leaves the checkout unchanged.
SCREENSHOT_TO = "SCREENSHOT_TO"
WAIT_MS = 15_000
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


# -- the seeded history ------------------------------------------------------------------------

REFERRERS = ["https://www.google.com/", "https://www.facebook.com/", "", "https://vnexpress.net/"]
COUNTRIES = ["VN", "VN", "VN", "US", "JP"]
ARTICLES = [
    ("bao-so-3", STORY_TITLE),
    ("tin-nong-7", XSS_TITLE),
    ("gia-vang-12", "Giá vàng hôm nay"),
    ("bong-da-4", "Bóng đá: kết quả vòng 5"),
]


def history(now: dt.datetime) -> list[dict[str, str]]:
    """About 3,000 page views over the last 40 days, in time order.

    Each day some of 120 visitors come back (more on weekdays, a slow rise over the
    weeks) and read 1 to 3 articles, the first of ARTICLES most. Deterministic, so
    a failure reproduces.
    """
    rows = []
    for days_ago in range(40, -1, -1):
        share = 35 + (40 - days_ago) // 2 + (15 if days_ago % 7 not in (0, 1) else 0)
        for visitor in range(120):
            if (visitor * 37 + days_ago * 11) % 100 >= share:
                continue
            start = now - dt.timedelta(days=days_ago, minutes=5 + (visitor * 7) % 600)
            if start > now - dt.timedelta(minutes=2):
                continue
            pages = 1 + (visitor + days_ago) % 3
            for n in range(pages):
                article, title = ARTICLES[(visitor * n + n) % len(ARTICLES)]
                rows.append(
                    {
                        "timestamp": (start + dt.timedelta(seconds=40 * n)).isoformat(),
                        "url": f"https://{SITE}/tin-tuc/{article}.html"
                        + (
                            "?utm_campaign=he-2024&utm_source=newsletter"
                            if visitor % 11 == 0
                            else ""
                        ),
                        "visitor": f"v{visitor}",
                        "referrer": REFERRERS[visitor % len(REFERRERS)] if n == 0 else "",
                        "title": title,
                        "country": COUNTRIES[visitor % len(COUNTRIES)],
                        "user_agent": MOBILE_UA if visitor % 4 == 0 else BROWSER_UA,
                    }
                )
    rows.sort(key=lambda r: r["timestamp"])
    return rows


def local_day(row: dict[str, str]) -> dt.date:
    return dt.datetime.fromisoformat(row["timestamp"]).astimezone(ZoneInfo(TIMEZONE)).date()


def last_30_days(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows in Plausible's `30d`: today and the 30 days before it, in the site's time."""
    first = dt.datetime.now(ZoneInfo(TIMEZONE)).date() - dt.timedelta(days=30)
    return [r for r in rows if local_day(r) >= first]


def seed(redis_db: redis.Redis, site: Site, rows: list[dict[str, str]]) -> None:
    """Add the rows to the stream as the importer does; the server's aggregator inserts them."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    entries = stream_entries(
        read_rows(io.StringIO(text.getvalue())),
        {SITE: site},
        default_site=SITE,
        visit_gap_ms=1800 * 1000,
        now_ms=system_clock(),
    )
    pipe = redis_db.pipeline(transaction=False)
    for site_of_row, entry in entries:
        pipe.xadd(keys.stream(site_of_row), entry)
    pipe.execute()


# -- the server, the browser, the login ----------------------------------------------------------


class Dashboard:
    """The module's live server and what the test sent it."""

    def __init__(self, live: LiveServer, redis_db: redis.Redis, rows: list[dict[str, str]]):
        self.live = live
        self.redis = redis_db
        self.url = live.url
        self.rows = rows
        self.live_pageviews = 0  # sent by tests through the Events API, after the seed

    def api(self, path: str, **params: str) -> object:
        """A Stats API answer, asked with the admin token (not through the page)."""
        query = "&".join(
            f"{k}={urllib.request.quote(str(v), safe=',:;=')}" for k, v in params.items()
        )
        status, body = self.live.request("GET", f"{path}?{query}", headers=AUTH)
        assert status == 200, body
        return body

    def send_pageview(self, n: int) -> None:
        """A page view from the n-th new live visitor (its own user agent: its own visitor id)."""
        request = urllib.request.Request(
            f"{self.url}/api/event",
            data=json.dumps(
                {"n": "pageview", "u": f"https://{SITE}/tin-tuc/bao-so-3.html", "d": SITE}
            ).encode(),
            headers={
                "Content-Type": "application/json",
                "User-Agent": BROWSER_UA.replace("131.0.0.0", f"131.0.{n}.1"),
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
            assert "x-footfall-dropped" not in response.headers
        self.live_pageviews += 1


@pytest.fixture(scope="module")
def dashboard(
    redis_server, clickhouse_session, clickhouse_dsn, tmp_path_factory
) -> Iterator[Dashboard]:  # type: ignore[no-untyped-def]
    redis_db = sync_redis(redis_server.url)
    empty_stores(redis_db, clickhouse_session)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("dashboard"),
        redis_url=redis_server.url,
        clickhouse_dsn=clickhouse_dsn,
        admin_token=ADMIN_TOKEN,
        admin_email=EMAIL,
        admin_password=PASSWORD,
    )
    clickhouse = AsyncClickHouse(clickhouse_session)
    with LiveServer(lambda: all_in_one_app(settings, clickhouse, aggregate=True)) as live:
        status, body = live.request(
            "POST", "/api/v1/sites", {"domain": SITE, "timezone": TIMEZONE}, AUTH
        )
        assert status == 201, body
        rows = history(dt.datetime.now(dt.UTC))
        seed(redis_db, Site(domain=SITE, timezone=TIMEZONE), rows)
        _wait_for_aggregation(redis_db)
        yield Dashboard(live, redis_db, rows)
    redis_db.close()


def _wait_for_aggregation(redis_db: redis.Redis) -> None:
    """Until the aggregator has inserted every entry: it deletes each from the stream after."""
    deadline = time.monotonic() + 60
    while redis_db.xlen(keys.stream(SITE)) > 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"the aggregator left {redis_db.xlen(keys.stream(SITE))} entries")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def login_state(browser: Browser, dashboard: Dashboard) -> dict:
    """The cookies of one logged-in session, shared by the tests that do not test logging in."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    log_in(page, dashboard.url)
    state = context.storage_state()
    context.close()
    return state


def log_in(page: Page, url: str, next_path: str = "/") -> None:
    page.goto(f"{url}/login?next={urllib.request.quote(next_path, safe='')}")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


@pytest.fixture
def context(browser: Browser, login_state: dict) -> Iterator[BrowserContext]:
    context = browser.new_context(
        storage_state=login_state, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    assert errors == [], f"the page reported errors: {errors}"


def open_site(page: Page, url: str, query: str = "?period=30d") -> None:
    """Open the site page and wait until every part of it has loaded."""
    page.goto(f"{url}/sites/{SITE}{query}")
    wait_loaded(page)


def wait_loaded(page: Page, after: int = 0) -> None:
    # A function, not a string to evaluate: the page's CSP forbids eval, even Playwright's.
    page.wait_for_function(
        "after => Number(document.body.dataset.loaded || 0) > after", arg=after, timeout=WAIT_MS
    )


def loaded(page: Page) -> int:
    return int(page.evaluate("document.body.dataset.loaded || 0"))


def card(page: Page, metric: str) -> str:
    return page.locator(f".card[data-metric={metric}] .value").inner_text()


# -- the tests ---------------------------------------------------------------------------------


def test_logging_in_leads_to_the_sites_and_the_site_page(
    browser: Browser, dashboard: Dashboard
) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{dashboard.url}/sites/{SITE}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    log_in(page, dashboard.url, f"/sites/{SITE}")
    expect(page).to_have_url(f"{dashboard.url}/sites/{SITE}")
    wait_loaded(page)
    page.click(".brand")
    expect(page.locator(f".site-card[data-domain='{SITE}']")).to_be_visible()
    context.close()


def test_the_numbers_on_the_page_are_the_apis(page: Page, dashboard: Dashboard) -> None:
    open_site(page, dashboard.url)
    metrics = "visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration"
    answer = dashboard.api(
        "/api/v1/stats/aggregate",
        site_id=SITE,
        period="30d",
        metrics=metrics,
        compare="previous_period",
    )["results"]
    # The API counts what the tests sent: the seeded rows of the period, plus live page views;
    # a visitor once on each day they came.
    rows = last_30_days(dashboard.rows)
    assert answer["pageviews"]["value"] == len(rows) + dashboard.live_pageviews
    visitor_days = {(r["visitor"], local_day(r)) for r in rows}
    assert answer["visitors"]["value"] == len(visitor_days) + dashboard.live_pageviews
    assert card(page, "pageviews") == f"{answer['pageviews']['value']:,}"
    assert card(page, "visitors") == f"{answer['visitors']['value']:,}"
    assert card(page, "visits") == f"{answer['visits']['value']:,}"
    assert card(page, "bounce_rate") == f"{answer['bounce_rate']['value']}%"

    sources = dashboard.api(
        "/api/v1/stats/breakdown",
        site_id=SITE,
        period="30d",
        property="visit:source",
        metrics="visitors",
    )
    source_rows = page.locator("#panel-sources .row")
    expect(source_rows).to_have_count(len(sources["results"]))
    first = sources["results"][0]
    assert source_rows.first.locator(".num").inner_text() == f"{first['visitors']:,}"

    articles = dashboard.api(
        "/api/v1/stats/articles", site_id=SITE, period="30d", sort="pageviews", limit="10"
    )
    top = articles["results"][0]
    sent = sum(1 for r in rows if "/bao-so-3.html" in r["url"]) + dashboard.live_pageviews
    assert (top["article_id"], top["pageviews"]) == ("bao-so-3", sent)
    row = page.locator("#articles tbody tr").first
    assert row.get_attribute("data-article") == top["article_id"]
    assert row.locator("td").nth(1).inner_text() == f"{top['pageviews']:,}"
    assert row.locator("td").nth(2).inner_text() == f"{top['visitors']:,}"


def test_clicking_a_row_filters_the_whole_page(page: Page, dashboard: Dashboard) -> None:
    open_site(page, dashboard.url)
    before = loaded(page)
    total = card(page, "visitors")
    google = page.locator("#panel-sources .row[data-value=Google]")
    google_visitors = google.locator(".num").inner_text()
    google.click()
    wait_loaded(page, before)

    expect(page).to_have_url(re.compile(r"filters=visit%3Asource%3D%3DGoogle"))
    expect(page.locator(".chip[data-key='visit:source']")).to_contain_text("Google")
    assert card(page, "visitors") == google_visitors != total
    assert page.locator("#panel-sources .row").count() == 1

    # The URL is the state: opened afresh, the page shows the same filtered view.
    page.reload()
    wait_loaded(page)
    assert card(page, "visitors") == google_visitors

    # Removing the chip brings the whole site back.
    before = loaded(page)
    page.click(".chip[data-key='visit:source'] .remove")
    wait_loaded(page, before)
    assert card(page, "visitors") == total
    expect(page.locator(".chip")).to_have_count(0)


def test_clicking_a_page_row_filters_the_page_without_views_per_visit(
    page: Page, dashboard: Dashboard
) -> None:
    # The Stats API refuses views per visit under a page filter, as Plausible does: the
    # page shows the other cards, and a chart of views per visit turns to visitors.
    open_site(page, dashboard.url, "?period=30d&metric=views_per_visit")
    before = loaded(page)
    row = page.locator("#panel-pages .row").first
    path, visitors = row.get_attribute("data-value"), row.locator(".num").inner_text()
    assert path
    row.click()
    wait_loaded(page, before)

    expect(page.locator(".chip[data-key='event:page']")).to_contain_text(path)
    expect(page.locator("#cards .error, #chart .error")).to_have_count(0)
    expect(page.locator(".card[data-metric=views_per_visit]")).to_have_count(0)
    assert card(page, "visitors") == visitors
    expect(page.locator(".card[data-metric=visitors]")).to_have_attribute("aria-pressed", "true")


def test_the_period_picker_changes_the_chart(page: Page, dashboard: Dashboard) -> None:
    open_site(page, dashboard.url, "?period=7d")
    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-points", "7")
    expect(chart.locator("canvas")).to_be_visible()

    before = loaded(page)
    page.select_option("#period", "day")
    wait_loaded(page, before)
    expect(page).to_have_url(re.compile(r"period=day"))
    expect(chart).to_have_attribute("data-points", "24")

    before = loaded(page)
    page.select_option("#period", "30d")
    wait_loaded(page, before)
    expect(chart).to_have_attribute("data-points", "31")
    page.go_back()
    expect(chart).to_have_attribute("data-points", "24")


def test_online_now_rises_when_visitors_arrive(page: Page, dashboard: Dashboard) -> None:
    open_site(page, dashboard.url)
    online = page.locator("#online-count")
    expect(online).to_have_attribute("data-count", re.compile(r"^\d+$"))
    start = int(online.get_attribute("data-count"))
    for n in range(3):
        dashboard.send_pageview(n)
    # No reload: the page polls by itself.
    expect(online).to_have_attribute("data-count", str(start + 3), timeout=WAIT_MS)
    _wait_for_aggregation(dashboard.redis)  # the next tests count these page views


def test_an_article_title_with_markup_is_shown_as_text(page: Page, dashboard: Dashboard) -> None:
    open_site(page, dashboard.url)
    cell = page.locator("#articles tr[data-article='tin-nong-7'] td.title")
    expect(cell).to_have_text(XSS_TITLE)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#articles img").count() == 0
    assert page.locator("#articles script").count() == 0


def test_csv_export_downloads_the_breakdown(page: Page, dashboard: Dashboard) -> None:
    open_site(page, dashboard.url)
    with page.expect_download() as download:
        page.click("#panel-sources a.csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    header, *lines = list(csv.reader(io.StringIO(text)))
    assert "source" in header and "visitors" in header
    assert any("Google" in line for line in lines)


def test_vietnamese_numbers_and_words(
    browser: Browser, login_state: dict, dashboard: Dashboard
) -> None:
    context = browser.new_context(
        storage_state=login_state,
        locale="vi-VN",
        extra_http_headers={"Accept-Language": "vi-VN,vi;q=0.9"},
    )
    page = context.new_page()
    open_site(page, dashboard.url)
    pageviews = dashboard.api(
        "/api/v1/stats/aggregate", site_id=SITE, period="30d", metrics="pageviews"
    )["results"]["pageviews"]["value"]
    assert pageviews >= 1000
    assert card(page, "pageviews") == f"{pageviews:,}".replace(",", ".")
    expect(page.locator(".card[data-metric=visits] .name")).to_have_text("Lượt truy cập")
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    # The switch: English by cookie, whatever the browser says.
    page.click("nav.langs a[hreflang=en]")
    wait_loaded(page)
    assert card(page, "pageviews") == f"{pageviews:,}"
    expect(page.locator(".card[data-metric=visits] .name")).to_have_text("Total visits")
    context.close()


def test_screenshot_of_a_populated_site_page(
    page: Page, dashboard: Dashboard, tmp_path: Path
) -> None:
    # open_site waits for every number, chart and panel; the time it takes is measured by
    # bench/dashboard.py, not asserted here.
    open_site(page, dashboard.url)
    screenshot = Path(os.environ.get(SCREENSHOT_TO) or tmp_path / "dashboard.png")
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000


def test_an_article_page_shows_its_title_as_text_its_chart_and_sources(
    page: Page, dashboard: Dashboard
) -> None:
    open_site(page, dashboard.url, "?period=7d")
    page.click("#articles tr[data-article='tin-nong-7'] a")
    expect(page).to_have_url(re.compile(rf"/sites/{SITE}/articles/tin-nong-7\?period=7d"))
    wait_loaded(page)
    expect(page.locator("#article-title")).to_have_text(XSS_TITLE)
    assert page.evaluate("window.__pwned") is None
    expect(page.locator("#chart")).to_have_attribute("data-points", "7")
    answer = dashboard.api("/api/v1/stats/articles/tin-nong-7", site_id=SITE, period="7d")
    assert card(page, "pageviews") == f"{answer['totals']['pageviews']:,}"
    expect(page.locator("#panel-sources .row")).to_have_count(len(answer["sources"]))


def test_admin_adds_a_site_and_copies_its_snippet(page: Page, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}/admin/sites")
    page.fill("#add-site input[name=domain]", "tin-moi.example")
    page.check("#add-site input[name=public_counters]")
    page.fill("#add-site input[name=counter_offset]", "34231141")
    page.click("#add-site button[type=submit]")
    item = page.locator("details.item[data-domain='tin-moi.example']")
    expect(item).to_be_visible()
    status, site = dashboard.live.request("GET", "/api/v1/sites/tin-moi.example", headers=AUTH)
    assert status == 200 and site["public_counters"] and site["counter_offset"] == 34231141
    item.locator("summary b").click()
    expect(item.locator(".snippet input")).to_have_value(site["snippet"])


def test_admin_creates_a_token_whose_secret_is_shown_once(page: Page, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}/admin/tokens")
    page.fill("#add-token input[name=name]", "reporting")
    page.click("#add-token button[type=submit]")
    secret = page.locator("#new-secret .snippet input").input_value(timeout=WAIT_MS)
    status, body = dashboard.live.request(
        "GET",
        f"/api/v1/stats/realtime/visitors?site_id={SITE}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert status == 200, body
    expect(page.locator("#tokens tr", has_text="reporting")).to_have_count(1)
    page.reload()
    expect(page.locator("#tokens tr", has_text="reporting")).to_have_count(1)
    assert secret not in page.content()


def test_the_site_page_fits_a_phone(
    browser: Browser, login_state: dict, dashboard: Dashboard
) -> None:
    context = browser.new_context(
        storage_state=login_state, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    open_site(page, dashboard.url)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    expect(page.locator(".card[data-metric=visitors]")).to_be_visible()
    context.close()


def test_admin_adds_an_editor_who_sees_only_their_site(
    page: Page, browser: Browser, dashboard: Dashboard
) -> None:
    page.goto(f"{dashboard.url}/admin/users")
    page.fill("#add-user input[name=email]", "editor@news.example")
    page.fill("#add-user input[name=password]", "editor password 1")
    page.check(f"#add-user input[name=sites][value='{SITE}']")
    page.click("#add-user button[type=submit]")
    expect(page.locator("details.item[data-email='editor@news.example']")).to_be_visible()

    context = browser.new_context(locale="en-US")
    editor = context.new_page()
    editor.goto(f"{dashboard.url}/login")
    editor.fill("#email", "editor@news.example")
    editor.fill("#password", "editor password 1")
    editor.click("button[type=submit]")
    expect(editor.locator(".site-card")).to_have_count(1)
    expect(editor.locator("nav.nav a[href='/admin/users']")).to_have_count(0)
    assert editor.goto(f"{dashboard.url}/admin/users").status == 404
    context.close()


def test_admin_changes_a_site_deletes_it_and_revokes_tokens(
    context: BrowserContext, dashboard: Dashboard
) -> None:
    # Not the `page` fixture: the refused revoke below is a 404 the browser's console logs.
    page = context.new_page()
    live = dashboard.live
    status, _ = live.request("POST", "/api/v1/sites", {"domain": "doi.example"}, AUTH)
    assert status == 201
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations, and an alert
    page.goto(f"{dashboard.url}/admin/sites")
    item = page.locator("details.item[data-domain='doi.example']")
    item.locator("summary b").click()
    item.locator("input[name=counter_offset]").fill("5")
    item.locator("button[type=submit]").click()
    expect(item.locator(".status.ok")).to_be_visible()
    assert live.request("GET", "/api/v1/sites/doi.example", headers=AUTH)[1]["counter_offset"] == 5
    item.locator("button.danger").click()
    expect(item).to_have_count(0)
    assert live.request("GET", "/api/v1/sites/doi.example", headers=AUTH)[0] == 404

    made = [
        live.request("POST", "/api/v1/tokens", {"name": name, "scopes": ["stats:read"]}, AUTH)[1]
        for name in ("to revoke", "revoked elsewhere")
    ]
    page.goto(f"{dashboard.url}/admin/tokens")
    rows = [page.locator(f"#tokens tr[data-id='{token['id']}']") for token in made]
    expect(rows[1]).to_have_count(1)
    rows[0].locator("button.danger").click()
    expect(rows[0]).to_have_count(0)
    # Revoked since the page was shown: the API's 404 is said, and the list shown anew.
    assert live.request("DELETE", f"/api/v1/tokens/{made[1]['id']}", headers=AUTH)[0] == 200
    rows[1].locator("button.danger").click()
    expect(rows[1]).to_have_count(0)
