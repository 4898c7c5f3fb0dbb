"""Enrichment of one event, as tables: path, source, UTM fields, browser, OS and device."""

from __future__ import annotations

import pytest

from aggregator.enrich import Enriched, agent, enrich, source_of
from aggregator.referrers import HOSTS, classify
from footfall import user_agents
from footfall.urls import _split_slowly, split_url
from footfall.wire import StreamEvent

SITE = "news.example"
PAGE = "https://news.example/a.html"


def event(url: str = PAGE, **fields) -> StreamEvent:
    return StreamEvent(
        ts=1_700_000_000_000,
        site=fields.pop("site", SITE),
        date=1_700_000_000_000 // 86_400_000,
        type="pageview",
        name="pageview",
        url=url,
        visitor_id=1,
        **fields,
    )


PATHS = [
    # (name, url, hash_mode, path, hostname)
    ("plain path", "https://news.example/a/b.html", False, "/a/b.html", "news.example"),
    ("query dropped", "https://news.example/a?x=1&utm_source=fb", False, "/a", "news.example"),
    ("fragment dropped without hash mode", "https://news.example/app#/page", False, "/app", "news.example"),
    ("hash mode keeps the fragment", "https://news.example/#/page", True, "/#/page", "news.example"),
    ("hash mode drops the fragment's query", "https://news.example/#/page?tab=2", True, "/#/page", "news.example"),
    ("hash mode without a fragment", "https://news.example/app", True, "/app", "news.example"),
    ("hash mode, empty path", "https://news.example#/page", True, "/#/page", "news.example"),
    ("empty path is /", "https://news.example", False, "/", "news.example"),
    ("empty path with a query is /", "https://news.example?x=1", False, "/", "news.example"),
    ("path kept as sent (percent-encoded)", "https://news.example/tin-t%E1%BB%A9c", False, "/tin-t%E1%BB%A9c", "news.example"),
    ("path cut at 1,000 characters", "https://news.example/" + "x" * 2000, False, "/" + "x" * 999, "news.example"),
    ("host lowercased, www. dropped", "https://WWW.News.Example/a", False, "/a", "news.example"),
    ("port dropped from host", "https://news.example:8443/a", False, "/a", "news.example"),
    ("unparseable URL", "http://[::1/a", False, "/", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("url", "hash_mode", "path", "hostname"), [c[1:] for c in PATHS], ids=[c[0] for c in PATHS]
)
def test_path_and_hostname(url, hash_mode, path, hostname):
    got = enrich(event(url, hash_mode=hash_mode))
    assert (got.path, got.hostname) == (path, hostname)


SPLITS = [
    "https://news.example/a/b?x=1#f?y=2",
    "HTTPS://WWW.News.Example:8443/a",
    "http://user:pw@news.example/a",
    "https://news.example",
    "https://news.example?x=1",
    "https://news.example#/p",
    "https:///path",
    "http://[::1]:8080/a",
    "http://[::1/a",
    "http://news.example]/a",
    " https://news.example/a",
    "https://news.ex\tample/a\nb",
    "https://news.example./a",
    "android-app://com.google.android.gm/",
    "about:blank",
    "news.example/a",
    "",
]


@pytest.mark.parametrize("url", SPLITS)
def test_fast_url_split_agrees_with_urlsplit(url):
    assert split_url(url) == _split_slowly(url)


SOURCES = [
    # (name, url, referrer, referrer_host, source, source_name)
    ("no referrer is direct", PAGE, "", "", "direct", ""),
    ("referrer without a host is direct", PAGE, "about:blank", "", "direct", ""),
    ("unparseable referrer is direct", PAGE, "http://[bad", "", "direct", ""),
    ("google.com is search", PAGE, "https://www.google.com/", "google.com", "search", "Google"),
    ("google.com.vn is search", PAGE, "https://www.google.com.vn/", "google.com.vn", "search", "Google"),
    ("bing is search", PAGE, "https://www.bing.com/search?q=x", "bing.com", "search", "Bing"),
    ("coccoc is search, named Cốc Cốc", PAGE, "https://coccoc.com/search?query=tin", "coccoc.com", "search", "Cốc Cốc"),
    ("Google News is its own search source", PAGE, "https://news.google.com.vn/", "news.google.com.vn", "search", "Google News"),
    ("facebook is social", PAGE, "https://www.facebook.com/", "facebook.com", "social", "Facebook"),
    ("m.facebook.com is social", PAGE, "https://m.facebook.com/", "m.facebook.com", "social", "Facebook"),
    ("l.facebook.com is social", PAGE, "https://l.facebook.com/l.php?u=x", "l.facebook.com", "social", "Facebook"),
    ("zalo.me is social", PAGE, "https://zalo.me/", "zalo.me", "social", "Zalo"),
    ("a zalo.me subdomain is social", PAGE, "https://chat.zalo.me/", "chat.zalo.me", "social", "Zalo"),
    ("t.co is social", PAGE, "https://t.co/abc", "t.co", "social", "Twitter"),
    ("Android app referrer", PAGE, "android-app://com.google.android.gm/", "com.google.android.gm", "email", "Gmail"),
    ("mail.google.com is email", PAGE, "https://mail.google.com/mail/u/0/", "mail.google.com", "email", "Gmail"),
    ("same host is internal", PAGE, "https://news.example/b.html", "news.example", "internal", ""),
    ("www. of the same host is internal", PAGE, "https://www.news.example/b.html", "news.example", "internal", ""),
    ("a subdomain of the site is internal", PAGE, "https://m.news.example/", "m.news.example", "internal", ""),
    ("a parent of the site is internal", PAGE, "https://example/", "example", "internal", ""),
    ("a sibling of the site is a referral", PAGE, "https://blog.example/", "blog.example", "referral", "blog.example"),
    ("unknown site is a referral named by its host", PAGE, "https://Blog.Other.Example:8080/post", "blog.other.example", "referral", "blog.other.example"),
    ("a host the data knows of no medium is a referral with its name", PAGE, "https://support.google.com/x", "support.google.com", "referral", "Google"),
    ("a Google app is not Google search", PAGE, "https://docs.google.com/document/d/1", "docs.google.com", "referral", "Google"),
    ("utm_source is a campaign named by it", PAGE + "?utm_source=newsletter", "", "", "campaign", "newsletter"),
    ("campaign wins over search", PAGE + "?utm_source=fb_ads&utm_medium=cpc", "https://www.google.com/", "google.com", "campaign", "fb_ads"),
    ("campaign wins over internal", PAGE + "?utm_source=banner", "https://news.example/", "news.example", "campaign", "banner"),
    ("campaign without utm_source takes the referrer's name", PAGE + "?utm_medium=social", "https://m.facebook.com/", "m.facebook.com", "campaign", "Facebook"),
    ("campaign without utm_source from inside has no name", PAGE + "?utm_campaign=x", "https://news.example/", "news.example", "campaign", ""),
    ("internal wins over the data", "https://google.com/x", "https://www.google.com/", "google.com", "internal", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("url", "referrer", "referrer_host", "source", "source_name"),
    [c[1:] for c in SOURCES],
    ids=[c[0] for c in SOURCES],
)
def test_source(url, referrer, referrer_host, source, source_name):
    site = "google.com" if url.startswith("https://google.com") else SITE
    got = enrich(event(url, referrer=referrer, site=site))
    assert (got.referrer_host, got.source, got.source_name) == (referrer_host, source, source_name)


UTMS = [
    # (name, url, hash_mode, (utm_source, utm_medium, utm_campaign, utm_content, utm_term))
    ("none", PAGE, False, ("", "", "", "", "")),
    ("all five, decoded", PAGE + "?utm_source=Zalo%20OA&utm_medium=social&utm_campaign=t%E1%BA%BFt&utm_content=top+banner&utm_term=b%C3%A1o", False, ("Zalo OA", "social", "tết", "top banner", "báo")),
    ("kept as sent, stripped", PAGE + "?utm_source=%20Facebook%20", False, ("Facebook", "", "", "", "")),
    ("blank values ignored", PAGE + "?utm_source=&utm_medium=%20", False, ("", "", "", "", "")),
    ("first value wins", PAGE + "?utm_source=a&utm_source=b", False, ("a", "", "", "", "")),
    ("cut at 200 characters", PAGE + "?utm_campaign=" + "c" * 300, False, ("", "", "c" * 200, "", "")),
    ("other parameters ignored", PAGE + "?utm_id=9&UTM_SOURCE=x&fbclid=1", False, ("", "", "", "", "")),
    ("hash mode reads the fragment's query", "https://news.example/#/p?utm_source=zalo", True, ("zalo", "", "", "", "")),
    ("the fragment is ignored without hash mode", "https://news.example/#/p?utm_source=zalo", False, ("", "", "", "", "")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("url", "hash_mode", "utm"), [c[1:] for c in UTMS], ids=[c[0] for c in UTMS]
)
def test_utm_fields(url, hash_mode, utm):
    got = enrich(event(url, hash_mode=hash_mode))
    assert (got.utm_source, got.utm_medium, got.utm_campaign, got.utm_content, got.utm_term) == utm
    assert (got.source == "campaign") == any(utm)


AGENTS = [
    # (name, user agent, screen width, browser, browser_version, os, os_version, device)
    ("desktop Chrome on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", 1920, "Chrome", "126", "Windows", "10", "desktop"),
    ("Safari on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", 1440, "Safari", "17", "macOS", "10", "desktop"),
    ("Firefox on Ubuntu is Linux", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", 0, "Firefox", "127", "Linux", "", "desktop"),
    ("Edge on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68", 0, "Edge", "126", "Windows", "10", "desktop"),
    ("Opera on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 OPR/111.0.0.0", 0, "Opera", "111", "Windows", "10", "desktop"),
    ("iPhone Safari", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", 390, "Safari", "17", "iOS", "17", "mobile"),
    ("iPad Safari", "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", 0, "Safari", "17", "iOS", "17", "tablet"),
    ("iPadOS as macOS, narrow viewport, is a tablet", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", 820, "Safari", "17", "macOS", "10", "tablet"),
    ("iPhone asking for the desktop site is mobile", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", 390, "Safari", "17", "macOS", "10", "mobile"),
    ("Android phone Chrome", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", 412, "Chrome", "126", "Android", "10", "mobile"),
    ("Android tablet Chrome (no Mobile token)", "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", 0, "Chrome", "126", "Android", "13", "tablet"),
    ("width does not overrule an Android tablet agent", "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", 1280, "Chrome", "126", "Android", "13", "tablet"),
    ("Firefox Android tablet token", "Mozilla/5.0 (Android 14; Tablet; rv:127.0) Gecko/127.0 Firefox/127.0", 0, "Firefox", "127", "Android", "14", "tablet"),
    ("Kindle Silk", "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/126.3.5 like Chrome/126.0.6478.183 Safari/537.36", 0, "Amazon Silk", "126", "Android", "9", "tablet"),
    ("Samsung Internet", "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", 0, "Samsung Internet", "25", "Android", "14", "mobile"),
    ("Cốc Cốc browser on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) coc_coc_browser/123.0.198 Chrome/117.0.5938.198 Safari/537.36", 0, "Coc Coc", "123", "Windows", "10", "desktop"),
    ("Zalo in-app browser", "Mozilla/5.0 (Linux; Android 12; SM-A525F Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 Zalo android/12100634 ZaloTheme/light ZaloLanguage/vn", 0, "Chrome Mobile WebView", "120", "Android", "12", "mobile"),
    ("Windows Phone", "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063", 0, "Edge", "15", "Windows Phone", "10", "mobile"),
    ("Chrome OS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", 0, "Chrome", "126", "Chrome OS", "14541", "desktop"),
    ("Android TV is other", "Mozilla/5.0 (Linux; Android 9; SHIELD Android TV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", 0, "Chrome", "126", "Android", "9", "other"),
    ("unknown agent is other", "SomethingWeird/1.0", 1920, "", "", "", "", "other"),
    ("no agent is other", "", 0, "", "", "", "", "other"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("ua", "width", "browser", "browser_version", "os", "os_version", "device"),
    [c[1:] for c in AGENTS],
    ids=[c[0] for c in AGENTS],
)
def test_browser_os_device(ua, width, browser, browser_version, os, os_version, device):
    got = enrich(event(user_agent=ua, screen_width=width))
    assert (got.browser, got.browser_version, got.os, got.os_version, got.device) == (
        browser, browser_version, os, os_version, device,
    )  # fmt: skip


def test_enriched_has_every_column():
    got = enrich(
        event(PAGE + "?utm_source=x", referrer="https://zalo.me/", user_agent=AGENTS[0][1])
    )
    assert isinstance(got, Enriched)
    assert got == Enriched(
        path="/a.html", hostname="news.example", referrer_host="zalo.me", source="campaign",
        source_name="x", utm_source="x", utm_medium="", utm_campaign="", utm_content="",
        utm_term="", browser="Chrome", browser_version="126", os="Windows", os_version="10",
        device="desktop",
    )  # fmt: skip


def test_repeated_agent_is_parsed_once():
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:999.0) Gecko/20100101 Firefox/999.0 test-cache"
    before = agent.cache_info()
    for _ in range(3):
        enrich(event(user_agent=ua))
    after = agent.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 2


def test_repeated_referrer_host_is_classified_once():
    host = "sub.test-cache.zalo.me"
    before = source_of.cache_info()
    for path in ("/a", "/b", "/c"):
        got = enrich(event(referrer=f"https://{host}{path}"))
        assert (got.source, got.source_name) == ("social", "Zalo")
    after = source_of.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 2


def test_referrer_data_is_host_only_and_normalized():
    assert HOSTS
    assert all("/" not in host and host == host.lower() for host in HOSTS)
    assert not any(host.startswith("www.") for host in HOSTS)
    # Listed only with a path in the data: left out rather than matched on the host.
    assert classify("orange.fr") is None
    # Never matched on a bare suffix.
    assert classify("com.vn") is None
    assert classify("vn") is None


def test_fast_resolver_is_active():
    assert user_agents.RESOLVER.__module__ == "ua_parser.regex"
