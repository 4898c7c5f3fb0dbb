"""The tracker snippet in a real browser, against a real footfall server.

Chromium (driven by Playwright's sync API) opens pages of `news.example`, which
Playwright serves from memory; their snippet loads from a live footfall server on
127.0.0.1 and sends its events there. Every test asserts on what the server
stored in the Redis stream, not on what the page believes it sent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Route,
    expect,
    sync_playwright,
)

from app.serve import all_in_one_app
from footfall import keys
from footfall.connections import AsyncClickHouse
from footfall.settings import Settings
from footfall.wire import StreamEvent
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import AUTH, BROWSER_UA
from tests.helpers import stream_events
from tests.live_server import LiveServer

SNIPPET_ARGS = [
    *CHROMIUM_ARGS,
    # The pages are "public" (news.example) and the server is on loopback: Chromium's
    # Private/Local Network Access would block the snippet from a non-secure page. A
    # real deployment has both on the internet. The switch replaces Playwright's own
    # --disable-features (the last one wins), so the features it turns off for
    # plain-HTTP routing are repeated here.
    "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,"
    "LocalNetworkAccessChecks,HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,PaintHolding,"
    "AvoidUnnecessaryBeforeUnloadCheckSync,AvoidCorsURLLoaderRestartOnRedirect",
]
SITE = "news.example"
STORY_PATH = "/tin-tuc/story-975.html"
STORY = f"http://{SITE}{STORY_PATH}"
OTHER = f"http://{SITE}/tin-tuc/other-12.html"
REFERRER = "https://www.google.com/"
TITLE = "Bão số 3 đổ bộ miền Trung"
COUNTERS = """
<p>Total <b data-footfall="total">-</b>, online <b data-footfall="online">-</b></p>
<p>This story: <b data-footfall="views">-</b> views, <b data-footfall="readers">-</b> reading</p>
"""
WAIT_SECONDS = 5.0
PAGEVIEW_ID = re.compile(r"^[0-9a-f]{16}$")


# -- the browser, the server and the pages ---------------------------------------------------


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """A desktop Chrome user agent, set for the whole browser rather than per context:
    a context's override does not reach the beacon a page sends as it unloads, which
    would then say HeadlessChrome and be dropped as a bot."""
    browser = launch(playwright, f"--user-agent={BROWSER_UA}")
    yield browser
    browser.close()


def launch(playwright: Playwright, *args: str) -> Browser:
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*SNIPPET_ARGS, *args]
    )


@pytest.fixture
def server(settings: Settings, ch) -> Iterator[LiveServer]:
    """footfall serve, all in one, on a free port, with the system clock.

    Its aggregator is off, so that the tests read the events the snippet sent in
    the stream; the hot counters it would keep are set by the tests.
    """
    clickhouse = AsyncClickHouse(ch)
    with LiveServer(lambda: all_in_one_app(settings, clickhouse, aggregate=False)) as live:
        yield live
    clickhouse.close()


@pytest.fixture
def register_site(server: LiveServer) -> Callable[..., dict]:
    def register(**fields: object) -> dict:
        status, body = server.request("POST", "/api/v1/sites", {"domain": SITE, **fields}, AUTH)
        assert status == 201, body
        return body

    return register


@pytest.fixture
def pages() -> dict[str, str]:
    """Path -> HTML of the news.example pages the browser may open."""
    return {}


@pytest.fixture
def context(browser: Browser, pages: dict[str, str]) -> Iterator[BrowserContext]:
    context = browser.new_context()
    serve_pages(context, pages)
    yield context
    context.close()


def serve_pages(context: BrowserContext, pages: dict[str, str]) -> None:
    def fulfill(route: Route) -> None:
        html = pages.get(urlsplit(route.request.url).path)
        if html is None:
            route.fulfill(status=404, body="not found")
        else:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    context.route(f"http://{SITE}/**", fulfill)


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def sent_events(context: BrowserContext) -> list[str]:
    """The bodies of every request the pages made to /api/event."""
    sent: list[str] = []
    context.on(
        "request",
        lambda request: (
            sent.append(request.post_data or "")
            if urlsplit(request.url).path == "/api/event"
            else None
        ),
    )
    return sent


def news_page(
    server: LiveServer,
    *,
    title: str = TITLE,
    lang: str = "vi-VN",
    script_attrs: str = "",
    body: str = "",
) -> str:
    """An article page with the snippet tag as the Sites API hands it out (plus attrs)."""
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<script defer data-domain="{SITE}" {script_attrs} src="{server.url}/snippet.js"></script>
</head>
<body><h1>{title}</h1>{body}</body>
</html>"""


# -- reading what the server stored ----------------------------------------------------------


def wait_for_events(
    redis_db: redis.Redis,
    until: Callable[[list[StreamEvent]], bool],
    timeout: float = WAIT_SECONDS,
) -> list[StreamEvent]:
    """The stream's events once `until(events)` holds; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        events = stream_events(redis_db)
        if until(events):
            return events
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {timeout} s; the stream holds {events}")
        time.sleep(0.05)


def of_type(events: list[StreamEvent], kind: str) -> list[StreamEvent]:
    return [e for e in events if e.type == kind]


def count(kind: str, n: int) -> Callable[[list[StreamEvent]], bool]:
    return lambda events: len(of_type(events, kind)) >= n


def settle(page: Page) -> None:
    """Wait until the page made no request for half a second (bounded by Playwright's
    timeout): whatever it sent has been answered, and 202 means stored."""
    page.wait_for_load_state("networkidle", timeout=WAIT_SECONDS * 1000)


# -- the tests -------------------------------------------------------------------------------


def test_a_page_view_is_stored_with_url_title_article_and_referrer(
    server, register_site, pages, page, redis_db
):
    register_site()
    pages[STORY_PATH] = news_page(server)

    page.goto(STORY, referer=REFERRER)
    wait_for_events(redis_db, count("pageview", 1))
    settle(page)

    [view] = stream_events(redis_db)
    assert (view.site, view.type, view.name) == (SITE, "pageview", "pageview")
    assert view.url == STORY
    assert view.title == TITLE
    assert view.article == "story-975"
    assert view.referrer == REFERRER
    assert PAGEVIEW_ID.match(view.pageview_id), view.pageview_id
    assert view.screen_width == page.viewport_size["width"]
    assert view.user_agent == BROWSER_UA
    assert view.new_visit
    assert not view.hash_mode


def test_heartbeats_while_visible_then_one_beacon_on_leaving(
    server, register_site, pages, page, redis_db
):
    register_site()
    pages[STORY_PATH] = news_page(server)
    page.clock.install()
    page.goto(STORY)
    [view] = wait_for_events(redis_db, count("pageview", 1))

    page.clock.fast_forward("00:31")
    events = wait_for_events(redis_db, count("engagement", 1))
    [beat] = of_type(events, "engagement")
    assert beat.pageview_id == view.pageview_id
    assert beat.url == STORY
    assert beat.article == "story-975"
    assert 31_000 <= beat.engaged_ms < 60_000
    assert 0 <= beat.scroll_depth <= 100

    page.clock.fast_forward("00:05")  # before the next heartbeat, due at 60 s
    page.goto("about:blank")  # visibilitychange (hidden), then pagehide: sendBeacon
    events = wait_for_events(redis_db, count("engagement", 2))
    time.sleep(0.3)  # a second beacon (one per event) would come with the first
    events = stream_events(redis_db)
    [_, last] = of_type(events, "engagement")
    assert last.pageview_id == view.pageview_id
    assert last.url == STORY
    assert 5_000 <= last.engaged_ms < 30_000, "only the time since the last heartbeat"
    assert last.user_agent == BROWSER_UA
    assert len(of_type(events, "pageview")) == 1


def test_history_navigation_sends_a_page_view_per_page(
    server, register_site, pages, page, redis_db
):
    register_site()
    pages[STORY_PATH] = news_page(server)
    page.goto(STORY)
    [first] = wait_for_events(redis_db, count("pageview", 1))

    page.evaluate("history.pushState({}, '', '/tin-tuc/other-12.html')")
    events = wait_for_events(redis_db, count("pageview", 2))
    second = of_type(events, "pageview")[1]
    assert second.url == OTHER
    assert second.article == "other-12"
    assert PAGEVIEW_ID.match(second.pageview_id)
    assert second.pageview_id != first.pageview_id
    assert not second.new_visit, "the same visit goes on"

    page.evaluate("history.back()")
    events = wait_for_events(redis_db, count("pageview", 3))
    third = of_type(events, "pageview")[2]
    assert (third.url, third.article) == (STORY, "story-975")
    assert third.pageview_id not in (first.pageview_id, second.pageview_id)

    settle(page)
    events = stream_events(redis_db)
    assert len(of_type(events, "pageview")) == 3
    # Leaving a page reports its engagement under its own page view.
    views = {e.pageview_id: e.url for e in of_type(events, "pageview")}
    for engagement in of_type(events, "engagement"):
        assert views[engagement.pageview_id] == engagement.url


def test_do_not_track_stores_nothing_but_the_counters_still_show(
    server, register_site, pages, context, page, sent_events, redis_db
):
    register_site(public_counters=True, counter_offset=1234)
    pages[STORY_PATH] = news_page(server, lang="en-US", body=COUNTERS)
    context.add_init_script("Object.defineProperty(navigator, 'doNotTrack', {get: () => '1'})")

    page.goto(STORY)
    expect(page.locator("[data-footfall=total]")).to_have_text("1,234")
    expect(page.locator("[data-footfall=online]")).to_have_text("0")
    expect(page.locator("[data-footfall=views]")).to_have_text("0")
    settle(page)

    assert sent_events == []
    assert stream_events(redis_db) == []
    assert redis_db.hgetall(keys.totals(SITE)) == {}


def test_an_excluded_path_stores_nothing(server, register_site, pages, page, sent_events, redis_db):
    register_site()
    snippet = {"script_attrs": 'data-exclude="/tin-tuc/*"'}
    pages[STORY_PATH] = news_page(server, **snippet)
    pages["/the-thao/match-7.html"] = news_page(server, title="Match 7", **snippet)

    page.goto(STORY)
    settle(page)
    assert sent_events == []
    assert stream_events(redis_db) == []

    # The same tag on a page outside the pattern counts (and leaving the excluded
    # page sent no engagement either).
    page.goto(f"http://{SITE}/the-thao/match-7.html")
    wait_for_events(redis_db, count("pageview", 1))
    settle(page)
    [view] = stream_events(redis_db)
    assert (view.url, view.article) == (f"http://{SITE}/the-thao/match-7.html", "match-7")


@pytest.mark.parametrize(
    ("lang", "total", "views"),
    [("vi-VN", "34.231.142", "1.234"), ("en-US", "34,231,142", "1,234")],
)
def test_public_counters_are_formatted_for_the_page_language(
    server, register_site, pages, page, redis_db, lang, total, views
):
    register_site(public_counters=True, counter_offset=34_231_141)
    # The hot counters as the aggregator keeps them: one visit so far, 1234 views of this
    # story; online and readers are the collector's, this visitor included.
    redis_db.hset(keys.totals(SITE), mapping={"visits": 1, "pageviews": 1})
    redis_db.hset(keys.article_pageviews(SITE), "story-975", 1234)
    pages[STORY_PATH] = news_page(server, lang=lang, body=COUNTERS)

    page.goto(STORY)
    expect(page.locator("[data-footfall=total]")).to_have_text(total)
    expect(page.locator("[data-footfall=online]")).to_have_text("1")
    expect(page.locator("[data-footfall=views]")).to_have_text(views)
    expect(page.locator("[data-footfall=readers]")).to_have_text("1")

    [view] = wait_for_events(redis_db, count("pageview", 1))
    assert view.article == "story-975"


def test_headless_chrome_is_dropped_as_a_bot(playwright, server, register_site, pages, redis_db):
    register_site()
    pages[STORY_PATH] = news_page(server)
    browser = launch(playwright)  # Chromium's own user agent
    try:
        context = browser.new_context()
        serve_pages(context, pages)
        page = context.new_page()
        with page.expect_response(lambda r: r.url == f"{server.url}/api/event") as answer:
            page.goto(STORY)
        assert "HeadlessChrome" in page.evaluate("navigator.userAgent")
        response = answer.value
        assert response.status == 202
        assert response.headers.get("x-footfall-dropped") == "bot"
        settle(page)
    finally:
        browser.close()
    assert stream_events(redis_db) == []
    assert redis_db.hgetall(keys.totals(SITE)) == {}


PLAUSIBLE_TRACKER = (Path(__file__).parent / "fixtures" / "plausible-tracker-0.4.6.js").read_text()


def test_plausibles_own_tracker_works_unchanged(server, register_site, pages, page, redis_db):
    """Plausible's official tracker (npm @plausible-analytics/tracker 0.4.6, MIT, vendored
    in tests/fixtures), pointed at footfall: page view, custom event, engagement."""
    register_site()
    pages[STORY_PATH] = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{TITLE}</title>
<script type="module">
  window.__plausible = true;  // Plausible's own switch for automated browsers
  import {{ init, track }} from "/plausible.js";
  init({{ domain: "{SITE}", endpoint: "{server.url}/api/event",
          customProperties: {{ section: "tin-tuc" }} }});
  window.signup = () => track("Signup", {{ props: {{ plan: "pro" }} }});
</script></head><body><h1>{TITLE}</h1></body></html>"""
    page.route(
        f"http://{SITE}/plausible.js",
        lambda route: route.fulfill(content_type="text/javascript", body=PLAUSIBLE_TRACKER),
    )
    page.goto(STORY, referer=REFERRER)
    wait_for_events(redis_db, count("pageview", 1))
    page.evaluate("signup()")
    wait_for_events(redis_db, count("custom", 1))
    page.goto("about:blank")  # leaving sends Plausible's engagement event
    events = wait_for_events(redis_db, count("engagement", 1))

    [view] = of_type(events, "pageview")
    assert (view.url, view.referrer, view.article) == (STORY, REFERRER, "story-975")
    assert view.props == {"section": "tin-tuc"}
    [signup] = of_type(events, "custom")
    assert (signup.name, signup.props) == ("Signup", {"section": "tin-tuc", "plan": "pro"})
    [engagement] = of_type(events, "engagement")
    assert engagement.url == STORY
    assert engagement.visitor_id == view.visitor_id
