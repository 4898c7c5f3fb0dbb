"""The dashboard's pages without a browser: static files and their caching, the language
choice and switch, the login redirect, the security headers of every HTML page."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from dashboard.i18n import best_match
from dashboard.pages import PAGE_PERIODS
from dashboard.periods import DEFAULT_PERIOD, PERIODS
from dashboard.static_files import StaticFiles
from tests.conftest import AUTH


@pytest.mark.parametrize(
    ("header", "want"),
    [
        ("", "en"),
        ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"),
        ("en-GB,en;q=0.9,vi;q=0.8", "en"),
        ("fr-FR,vi;q=0.5", "vi"),
        ("vi;q=0,en;q=0.1", "en"),
        ("de, fr", "en"),
        ("vi;q=abc, en;q=0.2", "en"),
    ],
)
def test_the_language_is_the_best_supported_match(header, want):
    assert best_match(header) == want


async def test_a_versioned_static_url_is_cached_forever_and_an_unversioned_one_revalidated(client):
    static = StaticFiles()
    url = static.url("js/site.js")
    response = await client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "import" in await response.text()  # aiohttp's client undoes the gzip

    plain = await client.get("/static/js/site.js")
    assert plain.headers["Cache-Control"] == "no-cache"
    etag = plain.headers["ETag"]
    again = await client.get("/static/js/site.js", headers={"If-None-Match": etag})
    assert again.status == 304

    raw = await client.get(url, headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert raw.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await raw.read()) == static.files["js/site.js"].body
    assert (await client.get("/static/../app.py")).status == 404
    assert (await client.get("/static/nothing.js")).status == 404


async def test_vendored_libraries_carry_their_licence():
    static = StaticFiles()
    assert "vendor/uplot/uPlot.iife.min.js" in static.files
    assert b"MIT" in static.files["vendor/uplot/LICENSE"].body


async def test_pages_send_a_browser_without_a_session_to_the_login(client):
    for path in ("/", "/sites/news.example", "/sites/news.example/articles/a-1", "/admin/users"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"].startswith("/login?next=")


async def test_html_pages_carry_a_content_security_policy(client):
    response = await client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in csp
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("/sites/a.example?period=7d", "/sites/a.example?period=7d"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
    ],
)
async def test_the_language_switch_sets_a_cookie_and_stays_on_this_site(
    client, next_path, location
):
    response = await client.get("/lang/vi", params={"next": next_path}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == location
    assert response.cookies["footfall_lang"].value == "vi"
    assert (await client.get("/lang/xx", allow_redirects=False)).status == 404


async def test_the_login_page_speaks_the_browsers_language(client):
    vi = await (await client.get("/login", headers={"Accept-Language": "vi-VN,vi;q=0.9"})).text()
    assert '<html lang="vi">' in vi


async def test_a_stats_page_lists_the_periods_its_picker_offers(client, add_site):
    await add_site("news.example")
    user = {"email": "boss@news.example", "password": "correct horse", "role": "admin"}
    assert (await client.post("/api/v1/users", json=user, headers=AUTH)).status == 201
    login = await client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', await login.text())[1]
    form = {"email": user["email"], "password": user["password"], "csrf_token": csrf}
    assert (await client.post("/login", data=form, allow_redirects=False)).status == 303
    for path in ("/sites/news.example", "/sites/news.example/articles/a-1"):
        html = await (await client.get(path)).text()
        data = json.loads(re.search(r'id="page-data">(.*?)</script>', html, re.S)[1])
        assert data["periods"] == list(PAGE_PERIODS)
        assert data["default_period"] == DEFAULT_PERIOD
    # The Stats API's periods, and the page's own two, which state.js turns into `day`.
    assert set(PAGE_PERIODS) - set(PERIODS) == {"realtime", "yesterday"}
    assert '"7d"' not in StaticFiles().files["js/state.js"].body.decode()
